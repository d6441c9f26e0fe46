"""Manufacturers, stats, the figure, the OpenAPI document and the docs page."""

import statistics
from collections import defaultdict
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.view import figure_for
from models.db import db
from tests.dashapp.helpers import point_count, post_figure
from tests.server.api.helpers import API, raw_sample


def test_manufacturers(client: FlaskClient) -> None:
    response = client.get(f"{API}/manufacturers")
    assert response.status_code == 200
    body = response.get_json()
    by_name = {item["name"]: item for item in body["items"]}
    assert body["total"] == len(body["items"]) == 30
    assert [item["name"] for item in body["items"]] == sorted(by_name)
    assert (by_name["Toyota"]["vehicles"], by_name["Toyota"]["plottable"]) == (26, 26)
    assert (by_name["Ford"]["vehicles"], by_name["Ford"]["plottable"]) == (54, 49)
    assert sum(item["vehicles"] for item in body["items"]) == 406
    assert sum(item["plottable"] for item in body["items"]) == 392
    assert set(by_name["BMW"]) == {"id", "name", "vehicles", "plottable"}


def expected_stats(group_key: str, keep: Any = lambda car: True) -> dict[Any, dict[str, Any]]:
    """Stats computed straight from the raw sample, as the API should report them."""
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for car in raw_sample():
        if keep(car):
            key = int(car["Year"][:4]) if group_key == "Year" else car[group_key]
            groups[key].append(car)
    result = {}
    for key, cars in groups.items():
        mpg = [car["Miles_per_Gallon"] for car in cars if car["Miles_per_Gallon"] is not None]
        hp = [car["Horsepower"] for car in cars if car["Horsepower"] is not None]
        result[key] = {
            "key": key,
            "count": len(cars),
            "mpg_mean": round(statistics.fmean(mpg), 2),
            "mpg_min": min(mpg),
            "mpg_max": max(mpg),
            "horsepower_mean": round(statistics.fmean(hp), 2),
            "horsepower_min": min(hp),
            "horsepower_max": max(hp),
        }
    return result


@pytest.mark.parametrize(
    ("group_by", "raw_key"), [("origin", "Origin"), ("year", "Year"), ("cylinders", "Cylinders")]
)
def test_stats_match_the_raw_sample(client: FlaskClient, group_by: str, raw_key: str) -> None:
    body = client.get(f"{API}/stats?group_by={group_by}").get_json()
    assert body["group_by"] == group_by
    expected = expected_stats(raw_key)
    assert [group["key"] for group in body["groups"]] == sorted(expected)
    for group in body["groups"]:
        assert group == pytest.approx(expected[group["key"]], abs=0.006)
    assert sum(group["count"] for group in body["groups"]) == 406


def test_stats_known_counts(client: FlaskClient) -> None:
    origins = client.get(f"{API}/stats?group_by=origin").get_json()["groups"]
    assert {g["key"]: g["count"] for g in origins} == {"Europe": 73, "Japan": 79, "USA": 254}
    cylinders = client.get(f"{API}/stats?group_by=cylinders").get_json()["groups"]
    assert {g["key"]: g["count"] for g in cylinders}[4] == 207


def test_stats_apply_filters(client: FlaskClient) -> None:
    body = client.get(f"{API}/stats?group_by=cylinders&origin=japan&year_min=1976").get_json()
    expected = expected_stats(
        "Cylinders", lambda car: car["Origin"] == "Japan" and car["Year"] >= "1976"
    )
    assert [group["key"] for group in body["groups"]] == sorted(expected) == [3, 4, 6]
    for group in body["groups"]:
        assert group == pytest.approx(expected[group["key"]], abs=0.006)


def test_stats_by_manufacturer(client: FlaskClient) -> None:
    groups = client.get(f"{API}/stats?group_by=manufacturer").get_json()["groups"]
    by_key = {group["key"]: group for group in groups}
    assert len(groups) == 30
    assert by_key["Toyota"]["count"] == 26 and by_key["Ford"]["count"] == 54


@pytest.mark.parametrize("query", ["", "group_by=price", "group_by=origin&hp_min=300&hp_max=1"])
def test_stats_bad_parameters(client: FlaskClient, query: str) -> None:
    response = client.get(f"{API}/stats?{query}")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.get_json()["errors"]


def test_stats_of_an_empty_selection(client: FlaskClient) -> None:
    body = client.get(f"{API}/stats?group_by=origin&manufacturer=nobody").get_json()
    assert body == {"group_by": "origin", "groups": []}


def test_figure_is_the_dashboards_figure(client: FlaskClient, app: Flask) -> None:
    response = client.get(f"{API}/figures/fuel-efficiency?manufacturer=Toyota")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    figure = response.get_json()
    assert figure == post_figure(client, "Toyota")
    assert "view" not in figure["layout"]["meta"]  # the page's extras stay on the page
    assert point_count(figure) == 26
    with app.test_request_context():
        from plotly.io.json import to_json_plotly

        assert response.get_data(as_text=True) == to_json_plotly(figure_for("Toyota"))
        db.session.remove()


def test_figure_for_an_unknown_manufacturer(client: FlaskClient) -> None:
    response = client.get(f"{API}/figures/fuel-efficiency?manufacturer=Nobody")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    response = client.get(f"{API}/figures/fuel-efficiency")
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["manufacturer"]


def test_openapi_document_describes_every_endpoint(client: FlaskClient) -> None:
    spec = client.get(f"{API}/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/api/v1/datasets",
        "/api/v1/manufacturers",
        "/api/v1/vehicles",
        "/api/v1/vehicles/{vehicle_id}",
        "/api/v1/stats",
        "/api/v1/figures/fuel-efficiency",
        "/api/v1/compare",
    }
    vehicles = spec["paths"]["/api/v1/vehicles"]["get"]
    names = {parameter["name"] for parameter in vehicles["parameters"]}
    assert {"manufacturer", "origin", "cylinders", "year_min", "q", "sort", "limit"} <= names
    assert {"cursor", "format", "hp_max", "mpg_min"} <= names
    assert set(vehicles["responses"]) >= {"200", "304", "406", "422", "default"}
    assert set(vehicles["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    problem = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert list(problem) == ["application/problem+json"]
    one = spec["paths"]["/api/v1/vehicles/{vehicle_id}"]["get"]
    assert "404" in one["responses"]


def test_docs_page_serves_its_assets_locally(client: FlaskClient) -> None:
    page = client.get(f"{API}/docs").get_data(as_text=True)
    assert "/api/v1/openapi.json" in page
    assert "http://" not in page and "https://" not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert f"/api/v1/docs/assets/{asset}" in page
        response = client.get(f"/api/v1/docs/assets/{asset}")
        assert response.status_code == 200
        assert len(response.get_data()) > 10_000
        response.close()


def test_landing_page_links_to_the_api_docs(client: FlaskClient) -> None:
    assert 'href="/api/v1/docs"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("encoding", ["zstd", "gzip"])
@pytest.mark.parametrize("url", [f"{API}/vehicles?format=csv", f"{API}/vehicles?limit=100"])
def test_a_compressed_answer_revalidates_with_its_own_etag(
    client: FlaskClient, url: str, encoding: str
) -> None:
    first = client.get(url, headers={"Accept-Encoding": encoding})
    first.get_data()
    assert first.status_code == 200
    etag = first.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": encoding, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
