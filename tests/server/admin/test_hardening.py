"""Hostile query and form values on the admin pages get a clear answer, never a 500."""

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.server.admin.helpers import (
    VEHICLE_FORM,
    audit_count,
    manufacturers,
    post_form,
    vehicle_count,
)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=²", "“²” is not a page number; showing page 1."),
        ("page=99999999999999999999", "is not a page number; showing page 1."),
        ("page=1_0", "“1_0” is not a page number"),
        ("page=" + "9" * 5000, "is not a page number"),
        ("page=0", "“0” is not a page number"),
        ("vehicle=²", "“²” is not a vehicle id"),
        ("vehicle=99999999999999999999", "is not a vehicle id"),
        ("vehicle=1_0", "is not a vehicle id"),
    ],
)
def test_bad_numbers_on_the_audit_page_are_reported(
    client: FlaskClient, auth: Any, query: str, message: str
) -> None:
    auth.login()
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=9223372036854775807", "must be between 1 and 2147483647"),
        ("page=²", "is not a whole number (use digits 0-9 only)"),
        ("per_page=9223372036854775807", "must be between 1 and 2147483647"),
        ("year_min=99999999999999999999", "must be between 1886 and 2100"),
        ("year_min=-" + "9" * 5000, "must be between 1886 and 2100"),
        ("year_min=1_980", "is not a whole number (use digits 0-9 only)"),
        ("year_min=١٩٨٠", "is not a whole number (use digits 0-9 only)"),
        ("year_max=1.98e3", "is not a whole number (use digits 0-9 only)"),
    ],
)
def test_bad_numbers_on_the_vehicle_list_are_reported(
    client: FlaskClient, auth: Any, query: str, message: str
) -> None:
    auth.login()
    response = client.get(f"/admin/vehicles?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    key, raw = query.split("=")
    assert f"{key} &#34;{raw[:40]}&#34; {message}; that filter was ignored." in html


def test_bulk_delete_with_odd_ids_deletes_nothing(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    before = vehicle_count(app), audit_count(app)
    for ids in (["²"], ["99999999999999999999"], ["1_0"], ["\u0661"]):
        data = {"ids": ids, "confirmed": "yes"}
        response = post_form(client, "/admin/vehicles/bulk-delete", data, page="/admin/vehicles")
        assert response.status_code in (302, 400), response.status_code
    assert (vehicle_count(app), audit_count(app)) == before


@pytest.mark.parametrize("name", ["ß" * 80, "ﬁ" * 80])
def test_long_name_that_case_mapping_would_lengthen(
    app: Flask, client: FlaskClient, auth: Any, name: str
) -> None:
    auth.login()
    new = {"manufacturer": name, "manufacturer_confirm": "y"}
    response = post_form(client, "/admin/vehicles/new", {**VEHICLE_FORM, **new})
    assert response.status_code == 302, response.status_code
    assert name in manufacturers(app)


@pytest.mark.parametrize("name", ["FormulaCo", "GMC", "İstanbul Motors", "McLaren"])
def test_the_case_of_a_new_name_is_kept(
    app: Flask, client: FlaskClient, auth: Any, name: str
) -> None:
    auth.login()
    new = {"manufacturer": name, "manufacturer_confirm": "y"}
    response = post_form(client, "/admin/vehicles/new", {**VEHICLE_FORM, **new})
    assert response.status_code == 302
    assert name in manufacturers(app)


def test_an_alias_still_maps_and_case_still_matches(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    before = manufacturers(app)
    for name in ("chevy", "TOYOTA"):
        post_form(client, "/admin/vehicles/new", {**VEHICLE_FORM, "manufacturer": name})
    after = manufacturers(app)
    assert after.keys() == before.keys()
    assert after["Chevrolet"][1] == before["Chevrolet"][1] + 1
    assert after["Toyota"][1] == before["Toyota"][1] + 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("year", "1.98e3"), ("horsepower", "1_000"), ("weight", "\u0662\u0660\u0660\u0660")],
)
def test_form_numbers_must_be_plain_decimals(
    app: Flask, client: FlaskClient, auth: Any, field: str, value: str
) -> None:
    auth.login()
    before = vehicle_count(app)
    response = post_form(client, "/admin/vehicles/new", {**VEHICLE_FORM, field: value})
    assert response.status_code == 200
    assert "not a plain decimal number" in response.get_data(as_text=True)
    assert vehicle_count(app) == before
