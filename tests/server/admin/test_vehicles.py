"""The admin vehicle list, the create/edit/delete forms and bulk delete, on the sample."""

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from models import current_data_version
from models.audit import Actor, AuditEntry
from models.db import db
from models.editing import create_vehicle, write_transaction
from models.vehicle import Vehicle
from tests.dashapp.helpers import point_count, post_figure
from tests.server.admin.helpers import (
    VEHICLE_FORM,
    audit_count,
    first_vehicle_id,
    post_form,
    snapshot,
    vehicle_count,
)


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="ids" value="(\d+)"', html)]


def _total(html: str) -> int:
    found = re.search(r'<p id="total"><strong>(\d+)</strong>', html)
    assert found, html[:500]
    return int(found.group(1))


def test_list_counts_and_pages(client: FlaskClient, auth: Any) -> None:
    auth.login()
    html = client.get("/admin/vehicles?per_page=100").get_data(as_text=True)
    assert _total(html) == 406
    assert len(_ids(html)) == 100
    assert "Page 1 of 5" in html
    last = client.get("/admin/vehicles?per_page=100&page=5").get_data(as_text=True)
    assert len(_ids(last)) == 6


def test_filters_search_and_sort(client: FlaskClient, auth: Any) -> None:
    auth.login()
    html = client.get("/admin/vehicles?manufacturer=Honda").get_data(as_text=True)
    assert _total(html) == 13
    html = client.get("/admin/vehicles?origin=Europe&year_min=1980&year_max=1982").get_data(
        as_text=True
    )
    assert _total(html) == 16
    html = client.get("/admin/vehicles?q=corolla").get_data(as_text=True)
    assert _total(html) == 10
    by_mpg = client.get("/admin/vehicles?sort=combined_mpg&dir=desc&per_page=1").get_data(
        as_text=True
    )
    assert "46.6" in by_mpg  # the sample's best: mazda glc


def test_bad_filter_values_are_reported_not_fatal(client: FlaskClient, auth: Any) -> None:
    auth.login()
    response = client.get("/admin/vehicles?year_min=abc&page=zz&sort=nonsense")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "is not a whole number" in html
    assert _total(html) == 406
    swapped = client.get("/admin/vehicles?year_min=1982&year_max=1970").get_data(as_text=True)
    assert "greater than" in swapped


def test_create_writes_audits_and_bumps_version(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    with app.app_context(), db.engine.connect() as conn:
        version = current_data_version(conn)
    response = post_form(client, "/admin/vehicles/new", VEHICLE_FORM)
    assert response.status_code == 302
    assert vehicle_count(app) == 407
    vehicle_id = first_vehicle_id(app, "corolla test")
    stored = snapshot(app, vehicle_id)
    assert stored == {
        "dataset": "auto-mpg",
        "manufacturer": "Toyota",
        "model": "corolla test",
        "year": 1975,
        "vehicle_class": None,
        "powertrain": None,
        "fuel_type": None,
        "horsepower": 75.0,
        "city_mpg": None,
        "highway_mpg": None,
        "combined_mpg": 30.5,
        "cylinders": 4,
        "displacement": 1.6,
        "weight": 2100.0,
        "acceleration": 15.5,
        "drive": None,
        "transmission": None,
        "origin": "Japan",
        "co2_g_per_mile": None,
        "annual_fuel_cost_usd": None,
        "electric_range_miles": None,
        "source_id": None,
    }
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.actor, entry.source, entry.vehicle_id) == (
            "create",
            "admin",
            "form",
            vehicle_id,
        )
        assert entry.after["combined_mpg"] == 30.5
        assert current_data_version(db.session.connection()) == version + 1


def test_create_normalizes_the_manufacturer(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    post_form(client, "/admin/vehicles/new", {**VEHICLE_FORM, "manufacturer": "  chevy "})
    assert snapshot(app, first_vehicle_id(app, "corolla test"))["manufacturer"] == "Chevrolet"  # type: ignore[index]


def test_every_field_error_is_shown_next_to_its_field(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    bad = {
        **VEHICLE_FORM,
        "manufacturer": "",
        "horsepower": "not-a-number",
        "combined_mpg": "-3",
        "year": "1850",
        "cylinders": "4.5",
    }
    response = post_form(client, "/admin/vehicles/new", bad)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for field, message in [
        ("manufacturer", "Manufacturer is required"),
        ("horsepower", "Horsepower not a number"),
        ("combined_mpg", r"Combined fuel economy \(mpg, MPGe if electric\) must be greater than 0"),
        ("year", "Model year must be between 1886 and 2100"),
        ("cylinders", "Cylinders not a whole number"),
    ]:
        # Right after the input (its unit or its options between), before the next field.
        assert re.search(
            rf'id="{field}"[^>]*>(?:(?!</div>\s*</div>).)*?'
            rf'<span class="field-error" id="{field}-error">{message}</span>',
            html,
            re.S,
        ), field
    assert 'value="not-a-number"' in html  # what was typed is kept
    assert vehicle_count(app) == 406
    assert audit_count(app) == 0


def test_edit_shows_and_saves_values(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    vehicle_id = first_vehicle_id(app, "corolla 1200")
    page = client.get(f"/admin/vehicles/{vehicle_id}/edit").get_data(as_text=True)
    assert 'value="corolla 1200"' in page
    before = snapshot(app, vehicle_id)
    data = {k: ("" if v is None else str(v)) for k, v in before.items()}  # type: ignore[union-attr]
    response = post_form(
        client, f"/admin/vehicles/{vehicle_id}/edit", {**data, "combined_mpg": "44"}
    )
    assert response.status_code == 302
    assert snapshot(app, vehicle_id) == {**before, "combined_mpg": 44.0}  # type: ignore[dict-item]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry)).one()
        assert entry.before == {"combined_mpg": before["combined_mpg"]}  # type: ignore[index]
        assert entry.after == {"combined_mpg": 44.0}


def test_form_offers_the_datasets_and_no_source_id(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    html = client.get("/admin/vehicles/new").get_data(as_text=True)
    assert re.search(r'<select [^>]*id="dataset" name="dataset"', html)
    assert '<option selected value="auto-mpg">Auto MPG, 1970-82 (auto-mpg)</option>' in html
    assert '<option value="epa-1984-2015">EPA fuel economy, 1984-2015 (epa-1984-2015)</option>' in (
        html
    )
    assert 'name="source_id"' not in html and "combined_mpg_derived" not in html
    response = post_form(client, "/admin/vehicles/new", {**VEHICLE_FORM, "dataset": "nope"})
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert vehicle_count(app) == 406


def test_edit_moves_dataset_and_keeps_source_id(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    vehicle_id = first_vehicle_id(app, "corolla 1200")
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(update(Vehicle).where(Vehicle.id == vehicle_id).values(source_id="row-7"))
    before = snapshot(app, vehicle_id)
    data = {k: ("" if v is None else str(v)) for k, v in before.items()}  # type: ignore[union-attr]
    data.pop("source_id")
    response = post_form(
        client, f"/admin/vehicles/{vehicle_id}/edit", {**data, "dataset": "epa-1984-2015"}
    )
    assert response.status_code == 302
    assert snapshot(app, vehicle_id) == {**before, "dataset": "epa-1984-2015"}  # type: ignore[dict-item]


def test_numbers_are_shown_without_a_trailing_zero(client: FlaskClient, auth: Any) -> None:
    auth.login()
    html = client.get("/admin/vehicles?per_page=1").get_data(as_text=True)
    # The sample's first car: chevrolet chevelle malibu, 130 hp, 18 mpg, 3504 lb.
    cells = re.findall(r'<td class="num">([^<]*)</td>', html)
    assert cells[1:] == ["1970", "130", "18", "8", "3504"]
    assert "<td>auto-mpg</td>" in html
    edit = client.get(f"/admin/vehicles/{_ids(html)[0]}/edit").get_data(as_text=True)
    assert re.search(r'<input [^>]*name="horsepower" step="any" type="number" value="130">', edit)
    assert re.search(r'<input [^>]*name="weight" [^>]*value="3504">', edit)


def test_edit_unknown_vehicle_is_404(client: FlaskClient, auth: Any) -> None:
    auth.login()
    assert client.get("/admin/vehicles/999999/edit").status_code == 404
    assert client.get(f"/admin/vehicles/{2**70}/delete").status_code == 404


def test_delete_asks_then_deletes(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    vehicle_id = first_vehicle_id(app, "corolla 1200")
    ask = client.get(f"/admin/vehicles/{vehicle_id}/delete")
    assert ask.status_code == 200
    assert "Yes, delete" in ask.get_data(as_text=True)
    assert vehicle_count(app) == 406
    response = post_form(client, f"/admin/vehicles/{vehicle_id}/delete", {})
    assert response.status_code == 302
    assert snapshot(app, vehicle_id) is None
    assert vehicle_count(app) == 405
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry)).one()
        assert entry.action == "delete"
        assert entry.before["model"] == "corolla 1200"  # type: ignore[index]


def test_bulk_delete_confirms_then_deletes_selected(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    ids = _ids(client.get("/admin/vehicles?manufacturer=Honda").get_data(as_text=True))[:3]
    token = auth.csrf("/admin/vehicles")
    ask = client.post("/admin/vehicles/bulk-delete", data={"ids": ids, "csrf_token": token})
    assert ask.status_code == 200
    assert "Delete 3 vehicles?" in ask.get_data(as_text=True)
    assert vehicle_count(app) == 406
    done = client.post(
        "/admin/vehicles/bulk-delete", data={"ids": ids, "confirmed": "yes", "csrf_token": token}
    )
    assert done.status_code == 302
    assert vehicle_count(app) == 403
    assert audit_count(app) == 3


def test_forms_without_a_valid_csrf_token_are_refused(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    vehicle_id = first_vehicle_id(app, "corolla 1200")
    for url, data in [
        ("/admin/vehicles/new", VEHICLE_FORM),
        (f"/admin/vehicles/{vehicle_id}/edit", {**VEHICLE_FORM, "combined_mpg": "1"}),
        (f"/admin/vehicles/{vehicle_id}/delete", {}),
        ("/admin/vehicles/bulk-delete", {"ids": [vehicle_id], "confirmed": "yes"}),
        ("/admin/manufacturers/1/rename", {"name": "Renamed"}),
        ("/admin/tokens", {"name": "forged"}),
    ]:
        for token in (None, "forged-token"):
            body = dict(data) if token is None else {**data, "csrf_token": token}
            assert client.post(url, data=body).status_code == 400, (url, token)
    assert vehicle_count(app) == 406
    assert audit_count(app) == 0


def test_dash_callbacks_still_work_without_csrf(client: FlaskClient, auth: Any) -> None:
    """Dash's POSTs carry no CSRF token; per-form CSRF leaves them alone on purpose."""
    auth.login()
    assert point_count(post_figure(client, "Toyota")) == 26
    auth.logout()
    assert point_count(post_figure(client, "Honda")) == 13


def test_export_whole_store_and_filtered(client: FlaskClient, auth: Any) -> None:
    auth.login()
    response = client.get("/admin/vehicles/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    first, *fields = lines[0].split(",")
    assert first == "fueldash_id"  # named so that an import knows a fueldash export
    assert fields == [
        "dataset",
        "manufacturer",
        "model",
        "year",
        "vehicle_class",
        "powertrain",
        "fuel_type",
        "horsepower",
        "city_mpg",
        "highway_mpg",
        "combined_mpg",
        "cylinders",
        "displacement",
        "weight",
        "acceleration",
        "drive",
        "transmission",
        "origin",
        "co2_g_per_mile",
        "annual_fuel_cost_usd",
        "electric_range_miles",
        "source_id",
        "combined_mpg_derived",
    ]
    assert len(lines) == 407
    honda = client.get("/admin/vehicles/export.csv?manufacturer=Honda").get_data(as_text=True)
    rows = honda.splitlines()[1:]
    assert len(rows) == 13
    assert all(",auto-mpg,Honda," in row for row in rows)


def test_the_list_labels_an_electric_vehicles_figures_mpge(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    with app.app_context(), write_transaction() as conn:
        create_vehicle(
            conn,
            Actor(name="test", source="cli"),
            {"manufacturer": "Nissan", "model": "Leaf", "powertrain": "EV", "combined_mpg": 99.0},
        )
    auth.login()
    leaf = client.get("/admin/vehicles?q=Leaf").get_data(as_text=True)
    assert re.search(r"99\s*<abbr title=\"miles per gallon equivalent\">MPGe</abbr>", leaf)
    datsun = client.get("/admin/vehicles?q=510").get_data(as_text=True)
    assert "MPGe</abbr>" not in datsun
