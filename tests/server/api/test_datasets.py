"""Datasets in the API: GET /datasets, the dataset filter, the EPA's fields as filters,
groups and sort keys, per-dataset manufacturers and figures."""

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update

from models import Manufacturer, Vehicle, bump_data_version, summary
from models.datasets import SHIPPED, dataset_id_for
from models.db import db
from models.validation import combined_mpg
from models.vehicle import Dataset
from tests.dashapp.helpers import point_count
from tests.server.api.helpers import API, bearer

EPA = "epa-1984-2015"
#: A few rows as the EPA's list has them: no horsepower, city/highway/combined figures
#: (MPGe for the electric car), classes, drives and powertrains.
EPA_ROWS: list[dict[str, Any]] = [
    {
        "manufacturer": "Toyota",
        "model": "Prius",
        "year": 2012,
        "vehicle_class": "Midsize Cars",
        "powertrain": "hybrid",
        "fuel_type": "Regular",
        "drive": "Front-Wheel Drive",
        "cylinders": 4,
        "displacement": 1.8,
        "city_mpg": 51.0,
        "highway_mpg": 48.0,
        "combined_mpg": 50.0,
        "source_id": "31540",
    },
    {
        "manufacturer": "Toyota",
        "model": "RAV4 EV",
        "year": 2014,
        "vehicle_class": "Sport Utility Vehicle - 2WD",
        "powertrain": "EV",
        "fuel_type": "Electricity",
        "drive": "Front-Wheel Drive",
        "city_mpg": 78.0,
        "highway_mpg": 74.0,
        "combined_mpg": 76.0,
        "electric_range_miles": 103.0,
        "source_id": "34490",
    },
    {
        "manufacturer": "Chevrolet",
        "model": "Silverado C15 2WD",
        "year": 2015,
        "vehicle_class": "Standard Pickup Trucks 2WD",
        "powertrain": "ICE",
        "fuel_type": "Regular",
        "drive": "Rear-Wheel Drive",
        "cylinders": 8,
        "displacement": 5.3,
        "city_mpg": 16.0,
        "highway_mpg": 23.0,
        "combined_mpg": 19.0,
        "co2_g_per_mile": 468.0,
        "annual_fuel_cost_usd": 2400.0,
        "source_id": "35261",
    },
]
#: Written through the API with no combined figure, so it gets the derived one.
VOLT = {
    "dataset": EPA,
    "manufacturer": "Chevrolet",
    "model": "Volt",
    "year": 2013,
    "vehicle_class": "Compact Cars",
    "powertrain": "plug-in hybrid",
    "fuel_type": "Premium",
    "drive": "Front-Wheel Drive",
    "cylinders": 4,
    "displacement": 1.4,
    "city_mpg": 35,
    "highway_mpg": 40,
}
VOLT_COMBINED = 1 / (0.55 / 35 + 0.45 / 40)


@pytest.fixture
def epa(app: Flask, client: FlaskClient, token: str) -> None:
    """The EPA's dataset (plotted on displacement x combined mpg) with four of its rows."""
    with app.app_context(), db.engine.begin() as conn:
        dataset_id = dataset_id_for(conn, EPA)
        makers = dict(conn.execute(select(Manufacturer.name, Manufacturer.id)).all())
        for row in EPA_ROWS:  # one by one: the rows leave different fields out
            values = {key: value for key, value in row.items() if key != "manufacturer"}
            maker_id = makers[row["manufacturer"]]
            conn.execute(
                insert(Vehicle).values(dataset_id=dataset_id, manufacturer_id=maker_id, **values)
            )
        imported_at = datetime(2015, 6, 30, 12, tzinfo=UTC)
        conn.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id)
            .values(imported_at=imported_at, imported_by="admin")
        )
        summary.rebuild(conn)  # count the rows in, as the writers do
        bump_data_version(conn)
    created = client.post(f"{API}/vehicles", json=VOLT, headers=bearer(token))
    assert created.status_code == 201, created.get_json()


def get_json(client: FlaskClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def models_of(client: FlaskClient, query: str) -> list[str]:
    page = get_json(client, f"{API}/vehicles?{query}&limit=500")
    assert page["total"] == len(page["items"])
    return [item["model"] for item in page["items"]]


def test_datasets_list_every_dataset_with_its_count(client: FlaskClient, epa: None) -> None:
    body = get_json(client, f"{API}/datasets")
    assert body["total"] == 2
    counts = {"auto-mpg": 406, EPA: 4}
    imports = {"auto-mpg": (None, None), EPA: ("2015-06-30T12:00:00+00:00", "admin")}
    assert body["items"] == [  # by slug
        {
            "slug": slug,
            "name": SHIPPED[slug].name,
            "description": SHIPPED[slug].description,
            "source": SHIPPED[slug].source,
            "licence": SHIPPED[slug].licence,
            "imported_at": imports[slug][0],
            "imported_by": imports[slug][1],
            "default_x": SHIPPED[slug].default_x,
            "default_y": SHIPPED[slug].default_y,
            "vehicles": counts[slug],
        }
        for slug in ("auto-mpg", EPA)
    ]
    assert (body["items"][1]["default_x"], body["items"][1]["default_y"]) == (
        "displacement",
        "combined_mpg",
    )


def test_items_carry_the_epa_fields(client: FlaskClient, epa: None) -> None:
    items = get_json(client, f"{API}/vehicles?dataset={EPA}&sort=source_id")["items"]
    assert [item["source_id"] for item in items] == ["31540", "34490", "35261", None]
    rav4 = items[1]
    assert {key: rav4[key] for key in EPA_ROWS[1] if key != "manufacturer"} == {
        key: value for key, value in EPA_ROWS[1].items() if key != "manufacturer"
    }
    assert (rav4["dataset"], rav4["manufacturer"], rav4["horsepower"]) == (EPA, "Toyota", None)
    assert rav4["combined_mpg_derived"] is False
    volt = items[3]
    assert volt["combined_mpg"] == pytest.approx(VOLT_COMBINED) == combined_mpg(35, 40)
    assert volt["combined_mpg_derived"] is True


def test_csv_carries_the_epa_fields(client: FlaskClient, epa: None) -> None:
    text = client.get(f"{API}/vehicles?format=csv&dataset={EPA}&sort=-city_mpg").get_data(
        as_text=True
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["model"] for row in rows] == ["RAV4 EV", "Prius", "Volt", "Silverado C15 2WD"]
    assert (rows[0]["fuel_type"], rows[0]["electric_range_miles"]) == ("Electricity", "103.0")
    assert (rows[2]["combined_mpg_derived"], rows[3]["combined_mpg_derived"]) == ("True", "False")
    assert (rows[3]["co2_g_per_mile"], rows[3]["annual_fuel_cost_usd"]) == ("468.0", "2400.0")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"dataset={EPA}", 4),
        ("dataset=auto-mpg", 406),
        (f"dataset=auto-mpg&dataset={EPA}", 410),
        ("", 410),
        (f"dataset={EPA}&manufacturer=toyota", 2),
        ("dataset=auto-mpg&manufacturer=toyota", 26),
        ("fuel_type=REGULAR", 2),
        ("fuel_type=electricity&fuel_type=premium", 2),
        ("vehicle_class=compact cars", 1),
        ("drive=front-wheel drive", 3),
        ("powertrain=ev&powertrain=Hybrid", 2),
        ("powertrain=ICE", 1),  # the sample's powertrain is unknown, not ICE
        ("fuel_type=regular&mpg_min=20", 1),
    ],
)
def test_dataset_and_epa_filters(client: FlaskClient, epa: None, query: str, expected: int) -> None:
    assert get_json(client, f"{API}/vehicles?{query}&limit=500")["total"] == expected


def test_filters_name_the_matching_vehicles(client: FlaskClient, epa: None) -> None:
    assert models_of(client, "fuel_type=electricity") == ["RAV4 EV"]
    assert models_of(client, "powertrain=plug-in hybrid") == ["Volt"]
    assert models_of(client, "drive=rear-wheel drive") == ["Silverado C15 2WD"]


@pytest.mark.parametrize("endpoint", ["vehicles?", "stats?group_by=origin&"])
def test_an_unknown_dataset_is_refused_by_name(client: FlaskClient, endpoint: str) -> None:
    response = client.get(f"{API}/{endpoint}dataset=auto-mpg&dataset=nope&dataset=gone")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.get_json()["errors"] == {
        "dataset": ["no dataset is named 'gone', 'nope'; GET /api/v1/datasets lists them"]
    }


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/manufacturers?dataset=nope",
        f"{API}/figures/fuel-efficiency?manufacturer=Ford&dataset=nope",
    ],
)
def test_an_unknown_single_dataset_is_refused_by_name(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "dataset": ["no dataset is named 'nope'; GET /api/v1/datasets lists them"]
    }


def test_a_dataset_that_cannot_be_stored_is_a_422(client: FlaskClient) -> None:
    for url in (f"{API}/vehicles?dataset=a%00b", f"{API}/manufacturers?dataset=a%00b"):
        response = client.get(url)
        assert response.status_code == 422
        assert list(response.get_json()["errors"]) == ["dataset"]


def test_stats_by_dataset(client: FlaskClient, epa: None) -> None:
    groups = get_json(client, f"{API}/stats?group_by=dataset")["groups"]
    assert [(g["key"], g["count"]) for g in groups] == [("auto-mpg", 406), (EPA, 4)]
    epa_group = groups[1]
    assert epa_group["mpg_min"] == 19.0 and epa_group["mpg_max"] == 76.0
    assert epa_group["mpg_mean"] == round((50 + 76 + 19 + VOLT_COMBINED) / 4, 2)
    assert epa_group["horsepower_mean"] is None


def test_stats_by_fuel_type_and_class(client: FlaskClient, epa: None) -> None:
    fuels = get_json(client, f"{API}/stats?group_by=fuel_type")["groups"]
    # Byte order, the null key (the whole sample) last.
    assert [(g["key"], g["count"]) for g in fuels] == [
        ("Electricity", 1),
        ("Premium", 1),
        ("Regular", 2),
        (None, 406),
    ]
    assert fuels[2]["mpg_mean"] == 34.5
    classes = get_json(client, f"{API}/stats?group_by=vehicle_class&dataset={EPA}")["groups"]
    assert [g["key"] for g in classes] == [
        "Compact Cars",
        "Midsize Cars",
        "Sport Utility Vehicle - 2WD",
        "Standard Pickup Trucks 2WD",
    ]


@pytest.mark.parametrize(
    ("sort", "models"),
    [
        ("-city_mpg", ["RAV4 EV", "Prius", "Volt", "Silverado C15 2WD"]),
        ("highway_mpg", ["Silverado C15 2WD", "Volt", "Prius", "RAV4 EV"]),
        ("-displacement", ["Silverado C15 2WD", "Prius", "Volt", "RAV4 EV"]),
        ("electric_range_miles", ["RAV4 EV", "Prius", "Silverado C15 2WD", "Volt"]),
        ("fuel_type", ["RAV4 EV", "Volt", "Prius", "Silverado C15 2WD"]),
        ("-vehicle_class", ["Silverado C15 2WD", "RAV4 EV", "Prius", "Volt"]),
        ("powertrain", ["RAV4 EV", "Silverado C15 2WD", "Prius", "Volt"]),  # byte order
        ("drive", ["Prius", "RAV4 EV", "Volt", "Silverado C15 2WD"]),
    ],
)
def test_sort_by_new_fields(client: FlaskClient, epa: None, sort: str, models: list[str]) -> None:
    assert models_of(client, f"dataset={EPA}&sort={sort}") == models


@pytest.mark.parametrize("sort", ["-dataset", "fuel_type", "-city_mpg", "co2_g_per_mile"])
def test_cursor_walk_over_both_datasets(client: FlaskClient, epa: None, sort: str) -> None:
    url: str | None = f"{API}/vehicles?sort={sort}&limit=37"
    ids: list[int] = []
    while url:
        page = get_json(client, url)
        ids.extend(item["id"] for item in page["items"])
        url = page["next"]
    assert len(ids) == 410 == len(set(ids))


def test_manufacturers_of_one_dataset(client: FlaskClient, epa: None) -> None:
    body = get_json(client, f"{API}/manufacturers?dataset={EPA}")
    # Only makers with vehicles in it; plottable on its axes: displacement and combined mpg.
    assert body == {
        "items": [
            {**body["items"][0], "name": "Chevrolet", "vehicles": 2, "plottable": 2},
            {**body["items"][1], "name": "Toyota", "vehicles": 2, "plottable": 1},
        ],
        "total": 2,
    }
    sample = {
        m["name"]: m for m in get_json(client, f"{API}/manufacturers?dataset=auto-mpg")["items"]
    }
    assert len(sample) == 30
    assert (sample["Toyota"]["vehicles"], sample["Toyota"]["plottable"]) == (26, 26)
    every = {m["name"]: m for m in get_json(client, f"{API}/manufacturers")["items"]}
    assert (every["Toyota"]["vehicles"], every["Toyota"]["plottable"]) == (28, 26)


def test_figure_of_one_dataset(client: FlaskClient, epa: None) -> None:
    figure = get_json(client, f"{API}/figures/fuel-efficiency?manufacturer=Chevrolet&dataset={EPA}")
    assert point_count(figure) == 2
    assert "isplacement" in figure["layout"]["xaxis"]["title"]["text"]
    sample = get_json(client, f"{API}/figures/fuel-efficiency?manufacturer=Toyota")
    assert point_count(sample) == 26
    assert sample == get_json(
        client, f"{API}/figures/fuel-efficiency?manufacturer=Toyota&dataset=auto-mpg"
    )


def test_openapi_documents_datasets_and_the_new_fields(client: FlaskClient) -> None:
    spec = get_json(client, f"{API}/openapi.json")
    schemas = spec["components"]["schemas"]
    assert set(schemas["Dataset"]["properties"]) == {
        "slug",
        "name",
        "description",
        "source",
        "licence",
        "imported_at",
        "imported_by",
        "default_x",
        "default_y",
        "vehicles",
    }
    vehicle = schemas["Vehicle"]["properties"]
    assert "derived" in vehicle["combined_mpg_derived"]["description"]
    for fuel in ("city_mpg", "highway_mpg", "combined_mpg"):
        assert "MPGe" in vehicle[fuel]["description"]

    def parameters(path: str) -> dict[str, Any]:
        return {p["name"]: p for p in spec["paths"][f"{API}{path}"]["get"]["parameters"]}

    vehicles = parameters("/vehicles")
    assert {"dataset", "fuel_type", "vehicle_class", "drive", "powertrain"} <= set(vehicles)
    assert vehicles["dataset"]["schema"]["type"] == "array"
    assert {"city_mpg", "-fuel_type", "dataset"} <= set(vehicles["sort"]["schema"]["enum"])
    assert {"dataset", "fuel_type", "vehicle_class"} <= set(
        parameters("/stats")["group_by"]["schema"]["enum"]
    )
    assert "dataset" in parameters("/manufacturers")
    assert "dataset" in parameters("/figures/fuel-efficiency")
