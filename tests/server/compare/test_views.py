"""The /compare page: the figures it prints, its search box, and its refusals of bad ids."""

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from models.compare import search_vehicles
from models.db import db
from tests.comparisons import ACURA, PRIUS, SILVERADO, TESLA, import_epa_examples
from tests.server.api.helpers import add_vehicles


@pytest.fixture
def epa_ids(app: Flask) -> dict[str, int]:
    """The sample plus four EPA vehicles; the EPA vehicles' ids by EPA id."""
    return import_epa_examples(app)


def _ids(epa_ids: dict[str, int], *keys: str) -> str:
    return ",".join(str(epa_ids[key]) for key in keys)


def _text(html: str) -> str:
    """The page's text with tags dropped and white space collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _row(html: str, row_id: str) -> str:
    """The text of one table row."""
    found = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html, re.S)
    assert found, f"no row {row_id}"
    return _text(found.group(1))


def test_four_vehicles_side_by_side(client: FlaskClient, epa_ids: dict[str, int]) -> None:
    ids = _ids(epa_ids, ACURA, TESLA, PRIUS, SILVERADO)
    response = client.get(f"/compare?ids={ids}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _row(html, "row-annual-cost") == (
        "Fuel cost per year USD $2,182 +$1,415 vs cheapest $767 $960 +$193 vs cheapest "
        "$2,667 +$1,900 vs cheapest"
    )
    assert _row(html, "row-combined_mpg") == (
        "Combined mpg (MPGe for EVs) · L/100 km 22.0 mpg 10.7 L/100 km 112.0 MPGe "
        "2.1 L/100 km 50.0 mpg 4.7 L/100 km 18.0 mpg 13.1 L/100 km"
    )
    assert _row(html, "row-co2-per-year").startswith(
        "CO₂ per year kg 6,059 EPA figure: 404.0 g/mile 0 computed from fuel: 0.0 g/mile"
    )
    assert _row(html, "row-epa-cost") == (
        "EPA's fuel cost per year USD, 15,000 miles at the EPA's prices $2,000 $600 $750 $2,450"
    )
    assert _row(html, "row-kwh") == "Electricity use kWh/100 miles — 30.1 — —"
    assert _row(html, "row-displacement") == "Engine displacement L 2.2 — 1.8 5.3"
    assert _row(html, "row-weight") == "Weight lb — — — —"
    assert _row(html, "row-manufacturer") == "Manufacturer Acura Tesla Toyota Chevrolet"
    # the cheapest is highlighted, in its column's head and its cost
    cheapest = re.findall(r'<th scope="col" class="fd-vehicle fd-cheapest[^"]*"[^>]*>', html)
    assert cheapest == [
        f'<th scope="col" class="fd-vehicle fd-cheapest" data-vehicle-id="{epa_ids[TESLA]}">'
    ]
    assert "Cheapest to run: Tesla Model S AWD - 85 kWh (2015) , $767 a year." in _text(html)
    # the default prices and their sources are stated
    text = _text(html)
    assert "Default $3.20 per gallon" in text and "Default $0.17 per kWh" in text
    assert "EIA" in text and "8,887 g per gallon of gasoline" in text


def test_miles_and_prices_come_from_the_url_and_stay_in_the_links(
    client: FlaskClient, epa_ids: dict[str, int]
) -> None:
    ids = _ids(epa_ids, TESLA, PRIUS)
    response = client.get(f"/compare?ids={ids}&miles=12000&price_electricity=0.40&price_diesel=4")
    html = response.get_data(as_text=True)
    assert _row(html, "row-annual-cost") == "Fuel cost per year USD $1,444 +$676 vs cheapest $768"
    assert "12,000 miles a year" in _text(html)
    assert 'name="miles" min="1" max="1000000" step="1" value="12000"' in html
    assert 'id="price_electricity" name="price_electricity"' in html
    # a price for a fuel not shown is kept as a hidden field, and in the remove links
    assert '<input type="hidden" name="price_diesel" value="4">' in html
    remove = re.findall(r'href="(/compare\?[^"]*)">Remove</a>', html)[0].replace("&amp;", "&")
    assert parse_qs(urlsplit(remove).query) == {
        "ids": [str(epa_ids[PRIUS])],
        "miles": ["12000"],
        "price_electricity": ["0.40"],
        "price_diesel": ["4"],
    }


def test_the_search_box_adds_vehicles_without_javascript(
    client: FlaskClient, epa_ids: dict[str, int]
) -> None:
    response = client.get("/compare?q=civic+1982")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    adds = re.findall(r'href="(/compare\?ids=\d+)">Add</a>', html)
    assert len(adds) == 3
    first = client.get(adds[0])  # one vehicle picked: the page asks for another
    assert first.status_code == 400
    assert "Name at least 2 vehicles" in _text(first.get_data(as_text=True))
    assert "Picked so far Honda civic (1982)" in _text(first.get_data(as_text=True))
    picked = parse_qs(urlsplit(adds[0]).query)["ids"][0]
    searched = client.get(f"/compare?ids={picked}&q=prius").get_data(as_text=True)
    (add_prius,) = re.findall(r'href="(/compare\?ids=[\d%C,]+)">Add</a>', searched)
    compared = client.get(add_prius.replace("%2C", ","))
    assert compared.status_code == 200
    assert _row(compared.get_data(as_text=True), "row-model") == "Model civic Prius"
    # The column heads write a lower-case model as the dashboard does.
    assert "Honda Civic (1982)" in _text(compared.get_data(as_text=True))


def test_the_page_without_ids_invites_a_search(client: FlaskClient) -> None:
    response = client.get("/compare")
    assert response.status_code == 200
    text = _text(response.get_data(as_text=True))
    assert "Pick 2 to 4 vehicles" in text
    assert 'name="q"' in response.get_data(as_text=True)


def test_a_search_that_finds_nothing_says_so(client: FlaskClient) -> None:
    text = _text(client.get("/compare?q=zzzz").get_data(as_text=True))
    assert "No vehicle's maker and model hold “zzzz”." in text


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("ids=", 400, "Name 2 to 4 vehicle ids"),
        ("ids=1", 400, "Name at least 2 vehicles to compare; 1 was named."),
        ("ids=1,2,3,4,5", 400, "At most 4 vehicles can be compared; 5 were named."),
        ("ids=1,abc", 400, "'abc' is not a vehicle id"),
        ("ids=1,1", 400, "Vehicle 1 is named twice."),
        ("ids=1,99999999999999999999", 400, "is not a vehicle id"),
        ("ids=999998,999999", 404, "There are no vehicles with ids 999998, 999999."),
        ("ids=1,2&miles=0", 400, "Miles per year must be a whole number from 1 to 1,000,000."),
        ("ids=1,2&price_regular=-1", 400, "The price of regular gasoline must be a number"),
        ("ids=1,2&price_premium=1e4", 400, "The price of premium gasoline must be a number"),
    ],
)
def test_bad_requests_say_why_on_the_page(
    client: FlaskClient, query: str, status: int, message: str
) -> None:
    response = client.get(f"/compare?{query}")
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    errors = re.search(r'id="compare-errors">(.*?)</div>', html, re.S)
    assert errors and message in _text(errors.group(1))
    assert 'id="compare-q"' in html  # the search still works


def test_unknown_ids_are_dropped_from_the_links(
    client: FlaskClient, epa_ids: dict[str, int]
) -> None:
    response = client.get(f"/compare?ids={epa_ids[PRIUS]},999999")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "There is no vehicle with id 999999." in _text(html)
    assert f'name="ids" value="{epa_ids[PRIUS]}"' in html


def test_private_mode_needs_sign_in(make_app: Any, app: Flask, epa_ids: dict[str, int]) -> None:
    private = make_app(FUELDASH_PRIVATE=True)
    response = private.test_client().get(f"/compare?ids={_ids(epa_ids, TESLA, PRIUS)}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/compare")


def test_a_derived_combined_figure_says_so(client: FlaskClient, app: Flask) -> None:
    add_vehicles(
        app, 1, model="derived", city_mpg=20, highway_mpg=26, combined_mpg=22.32,
        combined_mpg_derived=True,
    )  # fmt: skip
    (derived,) = search_vehicles_in(app, "toyota derived")
    (civic, *_) = search_vehicles_in(app, "honda civic 1982")
    html = client.get(f"/compare?ids={derived},{civic}").get_data(as_text=True)
    assert _row(html, "row-combined_mpg") == (
        "Combined mpg (MPGe for EVs) · L/100 km 22.3 mpg 10.5 L/100 km computed from city and "
        "highway 38.0 mpg 6.2 L/100 km"
    )
    assert _row(html, "row-city_mpg").startswith("City mpg (MPGe for EVs) · L/100 km 20.0 mpg")


def search_vehicles_in(app: Flask, text: str) -> list[int]:
    """The ids ``search_vehicles`` finds for ``text``."""
    with app.app_context(), db.engine.connect() as conn:
        return [match.id for match in search_vehicles(conn, text)]
