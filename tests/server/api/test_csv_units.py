"""GET /api/v1/vehicles?format=csv&units=...: the CSV's fuel economy in mpg or L/100 km."""

import csv
import io

from flask.testing import FlaskClient

from models.export import EXPORT_HEADER, export_header
from tests.server.api.helpers import API


def test_l100km_renames_only_the_fuel_columns(client: FlaskClient) -> None:
    text = client.get(f"{API}/vehicles?format=csv&units=l100km&manufacturer=BMW").get_data(
        as_text=True
    )
    header = next(csv.reader(io.StringIO(text)))
    assert header == list(export_header("l100km"))
    renamed = {a: b for a, b in zip(EXPORT_HEADER, header, strict=True) if a != b}
    assert renamed == {
        "city_mpg": "city_l_per_100km",
        "highway_mpg": "highway_l_per_100km",
        "combined_mpg": "combined_l_per_100km",
        "combined_mpg_derived": "combined_l_per_100km_derived",
    }


def test_an_unknown_unit_is_a_clear_422(client: FlaskClient) -> None:
    response = client.get(f"{API}/vehicles?format=csv&units=gallons")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert "units" in response.get_json()["errors"]


def test_json_stays_in_mpg_whatever_the_units(client: FlaskClient) -> None:
    body = client.get(f"{API}/vehicles?units=l100km&manufacturer=BMW&sort=year").get_json()
    assert [item["combined_mpg"] for item in body["items"]] == [26.0, 21.5]
