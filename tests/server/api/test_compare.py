"""GET /api/v1/compare: the page's numbers as JSON, its refusals as problem details."""

import re
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.comparisons import ACURA, PRIUS, SILVERADO, TESLA, import_epa_examples
from tests.server.api.helpers import API, bearer

PROBLEM = "application/problem+json"


@pytest.fixture
def epa_ids(app: Flask) -> dict[str, int]:
    """The sample plus four EPA vehicles; the EPA vehicles' ids by EPA id."""
    return import_epa_examples(app)


def _ids(epa_ids: dict[str, int], *keys: str) -> str:
    return ",".join(str(epa_ids[key]) for key in keys)


def _cells(html: str, row_id: str) -> list[str]:
    """The text of each vehicle's cell in one row of the page's table."""
    row = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html, re.S)
    assert row, f"no row {row_id}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells]


def test_the_api_gives_the_numbers_the_page_shows(
    client: FlaskClient, epa_ids: dict[str, int]
) -> None:
    query = f"ids={_ids(epa_ids, ACURA, TESLA, PRIUS, SILVERADO)}&miles=12000&price_regular=3.50"
    response = client.get(f"{API}/compare?{query}")
    assert response.status_code == 200
    body = response.get_json()
    page = client.get(f"/compare?{query}").get_data(as_text=True)
    vehicles = body["vehicles"]
    assert [v["id"] for v in vehicles] == [
        int(i) for i in _ids(epa_ids, ACURA, TESLA, PRIUS, SILVERADO).split(",")
    ]
    costs = [v["annual_fuel_cost_usd"] for v in vehicles]
    assert costs == [round(12_000 / 22 * 3.5), round(12_000 / 112 * 33.7 * 0.17), 840, 2333]
    assert [cell.split()[0] for cell in _cells(page, "row-annual-cost")] == [
        f"${cost:,}" for cost in costs
    ]
    combined = [v["fuel_economy"]["combined"] for v in vehicles]
    assert [
        f"{c['mpg']} {'MPGe' if v['electric'] else 'mpg'} {c['l_per_100km']} L/100 km"
        for c, v in zip(combined, vehicles, strict=True)
    ] == _cells(page, "row-combined_mpg")
    assert [v["co2_kg_per_year"] for v in vehicles] == [4847, 0, 2136, 5928]
    assert [cell.split()[0] for cell in _cells(page, "row-co2-per-year")] == [
        f"{v['co2_kg_per_year']:,}" for v in vehicles
    ]
    assert body["cheapest_ids"] == [epa_ids[TESLA]]
    assert [v["cheapest"] for v in vehicles] == [False, True, False, False]
    assert body["miles_per_year"] == 12_000
    assert body["prices"] == [
        {
            "fuel": "regular",
            "label": "Regular gasoline",
            "unit": "gallon",
            "price": 3.5,
            "default_price": 3.2,
        },
        {
            "fuel": "electricity",
            "label": "Electricity",
            "unit": "kWh",
            "price": 0.17,
            "default_price": 0.17,
        },
    ]
    acura = vehicles[0]
    assert acura["vehicle"]["model"] == "2.2CL/3.0CL"
    assert acura["vehicle"]["co2_g_per_mile"] == pytest.approx(403.954545)
    assert (acura["co2_source"], acura["epa_annual_fuel_cost_usd"]) == ("EPA", 2000)
    assert vehicles[3]["fuel_note"] == "Gasoline or E85: priced as regular gasoline, its first fuel"
    assert "EIA" in body["price_source"] and "8,887" in body["co2_source"]


def test_an_unchanged_comparison_answers_304(client: FlaskClient, epa_ids: dict[str, int]) -> None:
    url = f"{API}/compare?ids={_ids(epa_ids, TESLA, PRIUS)}"
    etag = client.get(url).headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("query", "param", "message"),
    [
        ("", "ids", "Missing data for required field."),
        ("ids=", "ids", "Name 2 to 4 vehicle ids, e.g. ids=12,34."),
        ("ids=7", "ids", "Name at least 2 vehicles to compare; 1 was named."),
        ("ids=1,2,3,4,5", "ids", "At most 4 vehicles can be compared; 5 were named."),
        ("ids=1,x", "ids", "'x' is not a vehicle id; ids are whole numbers, comma-separated."),
        (
            "ids=1,2&miles=1.5",
            "miles",
            "Miles per year must be a whole number from 1 to 1,000,000.",
        ),
        (
            "ids=1,2&price_cng=0",
            "price_cng",
            "The price of compressed natural gas must be a number "
            "of dollars per gasoline gallon equivalent above 0 and at most 1,000.",
        ),
    ],
)
def test_bad_parameters_are_problem_details(
    client: FlaskClient, query: str, param: str, message: str
) -> None:
    response = client.get(f"{API}/compare?{query}")
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["errors"] == {param: [message]}
    assert problem["detail"] == f"Invalid parameter: {param}."


def test_unknown_vehicles_are_a_404_naming_them(
    client: FlaskClient, epa_ids: dict[str, int]
) -> None:
    response = client.get(f"{API}/compare?ids={epa_ids[PRIUS]},999998,999999")
    assert response.status_code == 404
    assert response.mimetype == PROBLEM
    assert response.get_json()["detail"] == "There are no vehicles with ids 999998, 999999."


def test_the_openapi_document_describes_compare(client: FlaskClient) -> None:
    spec = client.get(f"{API}/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/compare"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) == {
        "ids",
        "miles",
        *(
            f"price_{fuel}"
            for fuel in ("regular", "midgrade", "premium", "diesel", "e85", "cng", "electricity")
        ),
    }
    assert params["ids"]["required"] is True
    assert params["price_electricity"]["schema"]["type"] == "number"
    assert params["miles"]["schema"]["type"] == "integer"
    assert {"200", "304", "404", "422"} <= set(operation["responses"])
    schema = spec["components"]["schemas"]["ComparedVehicle"]
    assert {"annual_fuel_cost_usd", "co2_kg_per_year", "fuel_economy", "cheapest"} <= set(
        schema["properties"]
    )


def test_private_mode_covers_compare(
    make_app: Any, app: Flask, users: dict[str, int], token: str, epa_ids: dict[str, int]
) -> None:
    private = make_app(FUELDASH_PRIVATE=True).test_client()
    url = f"{API}/compare?ids={_ids(epa_ids, TESLA, PRIUS)}"
    anonymous = private.get(url)
    assert anonymous.status_code == 401
    assert anonymous.mimetype == PROBLEM
    signed = private.get(url, headers=bearer(token))
    assert signed.status_code == 200
    assert "private" in signed.headers["Cache-Control"]
