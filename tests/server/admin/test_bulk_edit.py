"""The vehicle list's bulk edit: one field set on the selected rows, checked as a single
edit is, shown before it is written, audited per vehicle, and refused whole when one of
the vehicles changed after the confirmation was shown."""

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models.audit import AuditEntry
from models.db import db
from tests.server.admin.helpers import audit_count, first_vehicle_id, post_form, snapshot
from tests.server.api.helpers import API, bearer

LIST = "/admin/vehicles"


def pick(app: Flask, *models: str) -> list[int]:
    return [first_vehicle_id(app, model) for model in models]


def ask(client: FlaskClient, ids: list[int], field: str, value: str) -> Any:
    """The list's POST: the selected rows, the field and the value typed beside it."""
    data = {"ids": [str(i) for i in ids], "field": field, "value": value, "back": f"{LIST}?page=1"}
    return post_form(client, "/admin/vehicles/bulk-edit", data, page=LIST)


def confirm(client: FlaskClient, html: str, **changes: str) -> Any:
    """Post the confirmation page's form as a browser would."""
    form = re.search(
        r'<form method="post" action="/admin/vehicles/bulk-edit">(.*?)</form>', html, re.S
    )
    assert form, "no confirmation form"
    data: dict[str, Any] = {}
    for name, value in re.findall(
        r'<input [^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', form.group(1)
    ):
        data.setdefault(name, []).append(value)
    for name, value in re.findall(
        r'<select [^>]*name="([^"]+)".*?<option selected value="([^"]*)"', form.group(1), re.S
    ):
        data[name] = [value]
    data.update({name: [value] for name, value in changes.items()})
    return client.post("/admin/vehicles/bulk-edit", data=data)


def test_the_list_has_select_all_page_numbers_and_bulk_actions(
    client: FlaskClient, auth: Any
) -> None:
    auth.login()
    html = client.get(f"{LIST}?page=3").get_data(as_text=True)
    assert "data-select-all" in html
    pages = re.findall(
        r'<a class="page-link" href="[^"]*page=(\d+)[^"]*"(?: rel="\w+")?[^>]*>([^<]+)</a>', html
    )
    assert [label for _page, label in pages] == ["Previous", "1", "2", "4", "5", "9", "Next"]
    assert (
        '<li class="page-item active" aria-current="page"><span class="page-link">3</span></li>'
        in html
    )
    assert 'formaction="/admin/vehicles/bulk-edit"' in html
    assert '<option value="weight">Weight (lb)</option>' in html


def test_set_a_field_on_the_selected_vehicles(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    ids = pick(app, "corolla 1200", "civic", "chevelle malibu")
    before = {i: snapshot(app, i) for i in ids}
    shown = ask(client, ids, "weight", "2500")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "Set Weight (lb) on 3 vehicles" in html
    assert "<td>3504</td><td>2500</td>" in html  # the chevelle: now, then after
    assert audit_count(app) == 0  # nothing written yet
    done = confirm(client, html)
    assert done.status_code == 302
    assert done.location == f"{LIST}?page=1"
    for i in ids:
        assert snapshot(app, i) == {**before[i], "weight": 2500.0}  # type: ignore[dict-item]
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.vehicle_id, e.after) for e in entries] == [
            (i, {"weight": 2500.0}) for i in sorted(ids)
        ]
    assert "Weight (lb) set to 2500 on 3 vehicles." in client.get(done.location).get_data(
        as_text=True
    )


def test_a_bad_value_is_refused_as_in_a_single_edit(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    ids = pick(app, "corolla 1200", "civic")
    for field, value, reason in [
        ("weight", "-5", "Weight (lb) must be greater than 0"),
        ("year", "1.98e3", "not a plain decimal number"),
        ("manufacturer", "Hondaa", "“Hondaa” would be a new manufacturer. Did you mean Honda?"),
    ]:
        response = ask(client, ids, field, value)
        assert response.status_code == 400, field
        html = response.get_data(as_text=True)
        assert reason in html, field
        assert 'name="confirmed"' not in html  # nothing to confirm
    assert audit_count(app) == 0


def test_a_changed_value_on_the_confirmation_is_shown_again(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    ids = pick(app, "corolla 1200", "civic")
    html = ask(client, ids, "cylinders", "4").get_data(as_text=True)
    again = confirm(client, html, cylinders="6")
    assert again.status_code == 200
    assert "<td>6</td>" in again.get_data(as_text=True)
    assert audit_count(app) == 0


def test_a_case_variant_maps_to_the_stored_origin(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    ids = pick(app, "corolla 1200")
    html = ask(client, ids, "origin", "usa").get_data(as_text=True)
    assert "<td>Japan</td><td>USA</td>" in html
    assert confirm(client, html).status_code == 302
    assert snapshot(app, ids[0])["origin"] == "USA"  # type: ignore[index]


def test_a_vehicle_changed_after_the_confirmation_stops_the_whole_edit(
    app: Flask, client: FlaskClient, auth: Any, token: str
) -> None:
    auth.login()
    ids = pick(app, "corolla 1200", "civic")
    html = ask(client, ids, "weight", "2500").get_data(as_text=True)
    patched = client.patch(f"{API}/vehicles/{ids[1]}", json={"weight": 1999}, headers=bearer(token))
    assert patched.status_code == 200
    audited = audit_count(app)
    stale = confirm(client, html)
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert f"Vehicle {ids[1]} was changed by someone else" in page
    assert "<td>1999</td><td>2500</td>" in page  # the value now is shown
    assert snapshot(app, ids[0])["weight"] != 2500  # type: ignore[index]
    assert snapshot(app, ids[1])["weight"] == 1999  # type: ignore[index]
    assert audit_count(app) == audited
    # Confirmed again from the values now, it goes through.
    assert confirm(client, page).status_code == 302
    assert snapshot(app, ids[1])["weight"] == 2500  # type: ignore[index]


def test_bulk_edit_needs_csrf_a_known_field_and_a_selection(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    ids = [str(i) for i in pick(app, "civic")]
    no_token = client.post(
        "/admin/vehicles/bulk-edit", data={"ids": ids, "field": "weight", "value": "1"}
    )
    assert no_token.status_code == 400
    unknown = post_form(
        client,
        "/admin/vehicles/bulk-edit",
        {"ids": ids, "field": "source_id", "value": "x"},
        page=LIST,
    )
    assert unknown.status_code == 400
    none = post_form(
        client, "/admin/vehicles/bulk-edit", {"field": "weight", "value": "1"}, page=LIST
    )
    assert none.status_code == 302
    assert audit_count(app) == 0


def test_a_dataset_that_does_not_exist_is_refused(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    ids = pick(app, "civic")
    refused = ask(client, ids, "dataset", "no-such-set")
    assert refused.status_code == 400
    assert "There is no dataset “no-such-set”" in refused.get_data(as_text=True)
    assert snapshot(app, ids[0])["dataset"] == "auto-mpg"  # type: ignore[index]
    assert audit_count(app) == 0
