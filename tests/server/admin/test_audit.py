"""The audit log page: newest first, filterable by vehicle and by user."""

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions
from tests.server.admin.helpers import VEHICLE_FORM, first_vehicle_id, post_form, snapshot


def _total(html: str) -> int:
    found = re.search(r'<p id="audit-total">(\d+) changes', html)
    assert found
    return int(found.group(1))


def _edit(client: FlaskClient, app: Flask, vehicle_id: int, **changes: str) -> None:
    stored = snapshot(app, vehicle_id)
    data = {k: ("" if v is None else str(v)) for k, v in stored.items()}  # type: ignore[union-attr]
    assert (
        post_form(client, f"/admin/vehicles/{vehicle_id}/edit", {**data, **changes}).status_code
        == 302
    )


def test_filter_by_vehicle_and_user(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    corolla = first_vehicle_id(app, "corolla 1200")
    civic = first_vehicle_id(app, "civic")
    auth.login("admin")
    _edit(client, app, corolla, combined_mpg="41")
    _edit(client, app, civic, combined_mpg="30")
    auth.logout()
    auth.login("editor")
    _edit(client, app, corolla, combined_mpg="42")
    post_form(client, "/admin/vehicles/new", VEHICLE_FORM)

    assert _total(client.get("/admin/audit").get_data(as_text=True)) == 4
    by_vehicle = client.get(f"/admin/audit?vehicle={corolla}").get_data(as_text=True)
    assert _total(by_vehicle) == 2
    assert "combined_mpg</span>=41<" in by_vehicle and "combined_mpg</span>=42<" in by_vehicle
    by_user = client.get("/admin/audit?user=editor").get_data(as_text=True)
    assert _total(by_user) == 2
    assert (
        _total(client.get(f"/admin/audit?vehicle={corolla}&user=admin").get_data(as_text=True)) == 1
    )
    # Newest first: the editor's change to the corolla comes before the admin's.
    assert by_vehicle.index("<td>editor</td>") < by_vehicle.index("<td>admin</td>")


def test_bad_filter_is_reported(client: FlaskClient, auth: Any) -> None:
    auth.login()
    response = client.get("/admin/audit?vehicle=abc&page=-3")
    assert response.status_code == 200
    assert "is not a vehicle id" in response.get_data(as_text=True)


def test_empty_values_show_as_a_dash_and_numbers_plainly(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    post_form(client, "/admin/vehicles/new", VEHICLE_FORM)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "=None<" not in html  # matched in the entries, not in the page's random CSRF token
    assert "vehicle_class</span>=—<" in html  # not given, so empty
    assert "weight</span>=2100<" in html  # 2100, not 2100.0


def test_an_api_write_names_its_token(
    app: Flask, client: FlaskClient, auth: AuthActions, token: str
) -> None:
    vehicle_id = first_vehicle_id(app, "civic")
    response = client.patch(
        f"/api/v1/vehicles/{vehicle_id}",
        json={"combined_mpg": 33},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    auth.login("editor")
    html = client.get(f"/admin/audit?vehicle={vehicle_id}").get_data(as_text=True)
    assert _total(html) == 1
    assert "<td>admin</td>" in html
    assert 'api <span class="audit-token">with token “test”</span>' in html
