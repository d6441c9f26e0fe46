"""Request hardening shared by every page: text holding NUL is refused before any query."""

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.server.admin.helpers import (
    VEHICLE_FORM,
    manufacturers,
    post_form,
    rename_manufacturer,
    vehicle_count,
)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/vehicles?q=a%00b",
        "/admin/vehicles?manufacturer=Ford&manufacturer=a%00b",
        "/admin/vehicles/export.csv?origin=%00",
        "/admin/audit?user=a%00",
        "/login?next=%00",
    ],
)
def test_query_strings_with_nul_get_400(client: FlaskClient, auth: Any, url: str) -> None:
    # PostgreSQL cannot compare text with NUL: these used to fail there with a 500.
    auth.login()
    response = client.get(url)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Text cannot contain NUL characters" in page
    assert "Traceback" not in page


def test_forms_with_nul_get_400_and_change_nothing(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    honda_id, count = manufacturers(app)["Honda"]
    renamed = rename_manufacturer(client, honda_id, "hon\x00da")
    created = post_form(
        client, "/admin/vehicles/new", {**VEHICLE_FORM, "model": "a\x00b"}, "/admin/vehicles/new"
    )
    assert (renamed.status_code, created.status_code) == (400, 400)
    assert manufacturers(app)["Honda"] == (honda_id, count)
    assert vehicle_count(app) == 406


def test_the_api_names_the_field_itself(client: FlaskClient) -> None:
    response = client.get("/api/v1/vehicles?q=a%00b")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"q": ["must not contain NUL characters"]}


def test_sessions_survive_between_requests(client: FlaskClient, auth: Any) -> None:
    assert auth.login().status_code == 302
    assert client.get("/admin/vehicles").status_code == 200


def test_a_view_keeps_its_own_security_header(app: Flask) -> None:
    from flask import Response

    @app.get("/framed-by-anyone")
    def framed_by_anyone() -> Response:
        return Response("ok", headers={"x-frame-options": "ALLOWALL"})

    response = app.test_client().get("/framed-by-anyone")
    assert response.headers.getlist("X-Frame-Options") == ["ALLOWALL"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def vary(response: Any) -> list[str]:
    return [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]


def test_dashboard_callbacks_do_not_vary_by_cookie_unless_behind_the_login(
    make_app: Any, app: Flask, users: Any
) -> None:
    from tests.conftest import AuthActions
    from tests.dashapp.helpers import UPDATE_URL, callback_payload

    client = app.test_client()
    AuthActions(client).login()  # a session cookie is sent, and still does not matter
    open_callback = client.post(UPDATE_URL, json=callback_payload("Toyota"))
    assert open_callback.status_code == 200
    assert "Cookie" not in vary(open_callback)
    assert "Cookie" in vary(client.get("/admin/vehicles"))

    gated = make_app(DASH_LOGIN_REQUIRED=True).test_client()
    AuthActions(gated).login()
    gated_callback = gated.post(UPDATE_URL, json=callback_payload("Toyota"))
    assert gated_callback.status_code == 200
    assert "Cookie" in vary(gated_callback)
