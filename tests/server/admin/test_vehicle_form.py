"""The vehicle form takes manufacturer and origin from the stored values, with a confirmed
"New…"; a value differing only in case is the stored one; numbers are number inputs with
their unit."""

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from models.db import db
from models.listing import origins
from tests.server.admin.helpers import (
    VEHICLE_FORM,
    audit_count,
    first_vehicle_id,
    manufacturers,
    post_form,
    snapshot,
    vehicle_count,
)

NEW = "__new__"


def stored_origins(app: Flask) -> list[str]:
    with app.app_context():
        return origins(db.session.connection())


def options(html: str, name: str) -> list[str]:
    found = re.search(rf'<select [^>]*name="{name}">(.*?)</select>', html, re.S)
    assert found, name
    return re.findall(r'<option[^>]*value="([^"]*)"', found.group(1))


def test_manufacturer_and_origin_are_choices_with_new(client: FlaskClient, auth: Any) -> None:
    auth.login()
    html = client.get("/admin/vehicles/new").get_data(as_text=True)
    makers = options(html, "manufacturer")
    assert makers[0] == "" and makers[-1] == NEW
    assert {"Honda", "Toyota", "Chevrolet"} <= set(makers)
    assert options(html, "origin") == ["", "Europe", "Japan", "USA", NEW]
    assert 'name="manufacturer_new"' in html and 'name="manufacturer_confirm"' in html
    assert re.search(r'data-new-for="origin"', html)


def test_a_new_origin_differing_only_in_case_is_the_stored_one(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    data = {**VEHICLE_FORM, "origin": NEW, "origin_new": "usa"}
    response = post_form(client, "/admin/vehicles/new", data)
    assert response.status_code == 302
    assert stored_origins(app) == ["Europe", "Japan", "USA"]
    created = snapshot(app, first_vehicle_id(app, "corolla test"))
    assert created is not None and created["origin"] == "USA"
    assert "“usa” is the stored origin “USA”." in client.get(response.location).get_data(
        as_text=True
    )


def test_a_new_manufacturer_needs_its_box_ticked(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    before = (vehicle_count(app), audit_count(app), manufacturers(app).keys())
    data = {**VEHICLE_FORM, "manufacturer": NEW, "manufacturer_new": "Hondaa"}
    response = post_form(client, "/admin/vehicles/new", data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "“Hondaa” would be a new manufacturer. Did you mean Honda?" in html
    assert 'value="Hondaa"' in html  # what was typed is kept
    assert (vehicle_count(app), audit_count(app), manufacturers(app).keys()) == before
    # A name posted straight into the choice is checked the same way.
    straight = post_form(client, "/admin/vehicles/new", {**VEHICLE_FORM, "manufacturer": "Hondaa"})
    assert straight.status_code == 200
    assert vehicle_count(app) == before[0]
    confirmed = post_form(client, "/admin/vehicles/new", {**data, "manufacturer_confirm": "y"})
    assert confirmed.status_code == 302
    assert manufacturers(app)["Hondaa"][1] == 1


def test_a_manufacturer_in_another_case_is_the_stored_one(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    before = manufacturers(app)
    data = {**VEHICLE_FORM, "manufacturer": NEW, "manufacturer_new": "HONDA"}
    response = post_form(client, "/admin/vehicles/new", data)
    assert response.status_code == 302
    after = manufacturers(app)
    assert after.keys() == before.keys()
    assert after["Honda"][1] == before["Honda"][1] + 1


def test_numbers_are_number_inputs_with_units(client: FlaskClient, auth: Any) -> None:
    auth.login()
    html = client.get("/admin/vehicles/new").get_data(as_text=True)
    for name, unit in (("weight", "lb"), ("horsepower", "hp"), ("combined_mpg", "mpg")):
        assert re.search(
            rf'<input [^>]*name="{name}" step="any" type="number" value="">'
            rf'<span class="input-group-text">{unit}</span>',
            html,
        ), name
    assert re.search(r'<input [^>]*max="2100" min="1886" name="year" step="1" type="number"', html)


def test_the_edit_form_shows_the_stored_choice(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    vehicle_id = first_vehicle_id(app, "civic")
    html = client.get(f"/admin/vehicles/{vehicle_id}/edit").get_data(as_text=True)
    assert '<option selected value="Honda">Honda</option>' in html
    assert '<option selected value="Japan">Japan</option>' in html
