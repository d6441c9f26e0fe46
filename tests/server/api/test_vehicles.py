"""GET /api/v1/vehicles and /vehicles/{id}: filters, sort, limits, cursor walks, CSV."""

import csv
import io
from collections import Counter
from itertools import pairwise
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.server.api.helpers import API, add_vehicles, raw_sample, vehicle_id

#: The CSV names its id column fueldash_id, so importing the file back updates those rows.
CSV_HEADER = (
    "fueldash_id,dataset,manufacturer,model,year,vehicle_class,powertrain,fuel_type,horsepower,"
    "city_mpg,highway_mpg,combined_mpg,cylinders,displacement,weight,acceleration,drive,"
    "transmission,origin,co2_g_per_mile,annual_fuel_cost_usd,electric_range_miles,source_id,"
    "combined_mpg_derived"
)
VEHICLE_KEYS = {"id", *CSV_HEADER.split(",")[1:]}
#: Cubic inches to litres, as the sample's displacement is stored.
LITRES_PER_CUBIC_INCH = 0.016387064


def get_json(client: FlaskClient, url: str, **kwargs: Any) -> Any:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    return response.get_json()


def walk(client: FlaskClient, url: str) -> list[dict[str, Any]]:
    """Every item from following ``next`` links from ``url``."""
    items: list[dict[str, Any]] = []
    while url:
        page = get_json(client, url)
        items.extend(page["items"])
        url = page["next"]
    return items


def test_first_page_defaults(client: FlaskClient) -> None:
    page = get_json(client, f"{API}/vehicles")
    assert page["total"] == 406
    assert len(page["items"]) == 50
    assert [item["id"] for item in page["items"]] == sorted(item["id"] for item in page["items"])
    assert set(page["items"][0]) == VEHICLE_KEYS
    assert page["next"].startswith("http://localhost/api/v1/vehicles?cursor=")


def test_items_carry_the_sample_values(client: FlaskClient) -> None:
    raw = raw_sample()
    page = get_json(client, f"{API}/vehicles?limit=406")
    assert len(page["items"]) == 406 and page["next"] is None
    # Seeding keeps the sample's order, so the n-th id is the n-th car.
    for item, car in zip(page["items"], raw, strict=True):
        assert item["dataset"] == "auto-mpg"
        assert item["combined_mpg"] == car["Miles_per_Gallon"]
        assert item["combined_mpg_derived"] is False
        assert item["city_mpg"] is None and item["highway_mpg"] is None
        assert item["horsepower"] == car["Horsepower"]
        assert item["displacement"] == pytest.approx(
            car["Displacement"] * LITRES_PER_CUBIC_INCH, rel=1e-12
        )
        assert item["cylinders"] == car["Cylinders"]
        assert item["weight"] == car["Weight_in_lbs"]
        assert item["origin"] == car["Origin"]
        assert item["year"] == int(car["Year"][:4])


def test_limit_is_capped_at_500(client: FlaskClient, app: Flask) -> None:
    add_vehicles(app, 200)
    page = get_json(client, f"{API}/vehicles?limit=100000")
    assert (len(page["items"]), page["total"]) == (500, 606)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("manufacturer=toyota", 26),
        ("manufacturer=TOYOTA&manufacturer=honda", 39),
        ("manufacturer=Ford", 54),
        ("origin=japan", 79),
        ("origin=Europe&origin=Japan", 152),
        ("cylinders=4", 207),
        ("cylinders=3&cylinders=5", 7),
        ("year_min=1980", 90),
        ("year_min=1975&year_max=1975", 30),
        ("hp_min=200", 11),
        ("mpg_max=10", 3),
        ("q=corolla", 10),
        ("q=' OR 1=1 --", 0),
        ("q=100%25", 0),
        ("manufacturer=Toyota&year_min=1980", 9),
    ],
)
def test_filters(client: FlaskClient, query: str, expected: int) -> None:
    page = get_json(client, f"{API}/vehicles?{query}&limit=500")
    assert page["total"] == expected
    assert len(page["items"]) == expected


def test_filters_match_the_raw_sample(client: FlaskClient) -> None:
    raw = raw_sample()
    expected = sum(
        1 for car in raw if car["Origin"] == "Europe" and (car["Horsepower"] or 0) >= 100
    )
    page = get_json(client, f"{API}/vehicles?origin=europe&hp_min=100&limit=500")
    assert page["total"] == expected == len(page["items"])
    assert all(item["origin"] == "Europe" and item["horsepower"] >= 100 for item in page["items"])


def test_sort_descending_with_nulls_last_and_id_tie_break(client: FlaskClient) -> None:
    items = walk(client, f"{API}/vehicles?sort=-combined_mpg&limit=37")
    assert len(items) == 406
    mpgs = [item["combined_mpg"] for item in items]
    known = [mpg for mpg in mpgs if mpg is not None]
    assert mpgs == known + [None] * 8
    assert known == sorted(known, reverse=True)
    assert known[0] == max(car["Miles_per_Gallon"] or 0 for car in raw_sample())
    for before, after in pairwise(items):
        if before["combined_mpg"] == after["combined_mpg"]:
            assert before["id"] < after["id"]


@pytest.mark.parametrize("sort", ["horsepower", "-horsepower", "manufacturer", "-model", "-id"])
def test_cursor_walk_visits_every_vehicle_once(client: FlaskClient, sort: str) -> None:
    items = walk(client, f"{API}/vehicles?sort={sort}&limit=45")
    ids = [item["id"] for item in items]
    assert len(ids) == 406 == len(set(ids))
    field = sort.lstrip("-")
    values = [item[field] for item in items if item[field] is not None]
    assert values == sorted(values, reverse=sort.startswith("-"))
    assert all(item[field] is None for item in items[len(values) :])


def test_cursor_walk_of_a_filtered_set(client: FlaskClient) -> None:
    items = walk(client, f"{API}/vehicles?manufacturer=ford&sort=-year&limit=5")
    assert len(items) == 54 == len({item["id"] for item in items})
    assert {item["manufacturer"] for item in items} == {"Ford"}


def test_cursor_walk_while_rows_are_added(client: FlaskClient, app: Flask) -> None:
    """Rows inserted mid-walk never make an existing row appear twice or go missing."""
    sample_ids = {item["id"] for item in walk(client, f"{API}/vehicles?limit=500")}
    url: str | None = f"{API}/vehicles?sort=horsepower&limit=60"
    seen: list[int] = []
    pages = 0
    while url:
        page = get_json(client, url)
        seen.extend(item["id"] for item in page["items"])
        url = page["next"]
        pages += 1
        # Both before and after the cursor's position, and with NULL horsepower.
        add_vehicles(app, 2, horsepower=40.0 + pages * 30)
        add_vehicles(app, 1, horsepower=None)
    assert len(seen) == len(set(seen))
    assert len(sample_ids) == 406
    assert sample_ids <= set(seen)


def test_one_vehicle(client: FlaskClient) -> None:
    first = vehicle_id(client)
    vehicle = get_json(client, f"{API}/vehicles/{first}")
    car = raw_sample()[0]
    assert vehicle["id"] == first and set(vehicle) == VEHICLE_KEYS
    assert (vehicle["manufacturer"], vehicle["model"]) == ("Chevrolet", "chevelle malibu")
    assert (vehicle["combined_mpg"], vehicle["horsepower"]) == (
        car["Miles_per_Gallon"],
        car["Horsepower"],
    )
    assert vehicle["displacement"] == 5.030828648  # 307 cubic inches


@pytest.mark.parametrize("missing", ["0", "after-last", "99999999999999999999999"])
def test_missing_vehicle_is_a_404_problem(client: FlaskClient, missing: str) -> None:
    if missing == "after-last":
        missing = str(vehicle_id(client, last=True) + 1)
    response = client.get(f"{API}/vehicles/{missing}")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.get_json()["status"] == 404


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    "how",
    [{"query_string": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}],
    ids=["format", "accept"],
)
def test_csv_streams_the_whole_filtered_set(client: FlaskClient, how: dict[str, Any]) -> None:
    response = client.get(f"{API}/vehicles", **how)
    assert response.status_code == 200
    assert response.content_type.startswith("text/csv")
    assert response.is_streamed
    rows = read_csv(response.get_data(as_text=True))
    assert rows[0] == CSV_HEADER.split(",")
    assert len(rows) == 1 + 406


def test_csv_applies_filters_and_sort_with_no_page_limit(client: FlaskClient, app: Flask) -> None:
    add_vehicles(app, 600, manufacturer="Ford", origin="USA", cylinders=8)
    response = client.get(f"{API}/vehicles?format=csv&cylinders=8&sort=-year&limit=5")
    rows = read_csv(response.get_data(as_text=True))
    cylinder_count = Counter(car["Cylinders"] for car in raw_sample())[8]
    assert len(rows) == 1 + cylinder_count + 600
    header = rows[0]
    assert {row[header.index("cylinders")] for row in rows[1:]} == {"8"}
    years = [int(row[header.index("year")]) for row in rows[1:]]
    assert years == sorted(years, reverse=True)


def test_csv_neutralises_formulas(client: FlaskClient, app: Flask) -> None:
    add_vehicles(app, 1, model="=HYPERLINK(1)")
    text = client.get(f"{API}/vehicles?format=csv&q=HYPERLINK").get_data(as_text=True)
    header, row = read_csv(text)
    assert row[header.index("model")] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("year_min=1990&year_max=1980", "year_min"),
        ("mpg_min=40&mpg_max=10", "mpg_min"),
        ("sort=price", "sort"),
        ("sort=-", "sort"),
        ("cylinders=four", "cylinders"),
        ("hp_min=nan", "hp_min"),
        ("cursor=not-a-cursor", "cursor"),
        ("format=xml", "format"),
        (f"q={'x' * 201}", "q"),
        ("q=a%00b", "q"),
        ("manufacturer=Ford&manufacturer=%00", "manufacturer"),
    ],
)
def test_bad_parameters_name_the_parameter(client: FlaskClient, query: str, parameter: str) -> None:
    response = client.get(f"{API}/vehicles?{query}")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422
    assert problem["type"] == "about:blank"
    assert parameter in problem["detail"]
    assert list(problem["errors"]) == [parameter]
    assert all(isinstance(message, str) for message in problem["errors"][parameter])


def test_cursor_for_another_sort_is_refused(client: FlaskClient) -> None:
    next_url = get_json(client, f"{API}/vehicles?sort=combined_mpg")["next"]
    cursor = next_url.split("cursor=")[1]
    problem = client.get(f"{API}/vehicles?sort=-combined_mpg&cursor={cursor}").get_json()
    assert problem["errors"]["cursor"] == [
        "cursor was issued for sort=combined_mpg, not sort=-combined_mpg"
    ]


def test_a_search_total_is_capped_and_says_so(app: Flask, client: FlaskClient) -> None:
    # 10 model names hold "corolla"; with a cap of 4 the total says "at least 4".
    page = get_json(client, f"{API}/vehicles?q=corolla&limit=2")
    assert (page["total"], page["total_capped"], len(page["items"])) == (10, False, 2)
    app.config["API_SEARCH_COUNT_CAP"] = 4
    page = get_json(client, f"{API}/vehicles?q=corolla&limit=2")
    assert (page["total"], page["total_capped"], len(page["items"])) == (4, True, 2)
    assert len(walk(client, f"{API}/vehicles?q=corolla&limit=3")) == 10  # paging is whole
    page = get_json(client, f"{API}/vehicles?limit=2")
    assert (page["total"], page["total_capped"]) == (406, False)


def test_the_spec_documents_the_capped_total(client: FlaskClient) -> None:
    spec = get_json(client, f"{API}/openapi.json")
    page = spec["components"]["schemas"]["VehiclePage"]
    assert {"total", "total_capped"} <= set(page["required"])
    assert page["properties"]["total_capped"]["type"] == "boolean"
    assert "lower bound" in page["properties"]["total_capped"]["description"]
