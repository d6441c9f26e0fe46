"""The exploration callbacks through the test client, checked against the raw sample."""

import json
from statistics import median
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashapp.layout import (
    CHOICES_ID,
    DETAILS_ID,
    DROPDOWN_ID,
    LINK_ID,
    SELECTED_ID,
    URL_ID,
    URL_NOTICE_ID,
    YEARS_ID,
)
from models import Vehicle, load_sample
from models.datasets import DatasetInfo, create_dataset
from models.db import db
from tests.dashapp.helpers import (
    UPDATE_URL,
    decode_array,
    marker_traces,
    point_count,
    post_view,
)
from tests.dashapp.test_callbacks import find_component

SAMPLE = load_sample()


def plottable(names: set[str], keep: Any = lambda car: True) -> list[Any]:
    return [
        c
        for c in SAMPLE
        if c.manufacturer in names
        and c.horsepower is not None
        and c.combined_mpg is not None
        and keep(c)
    ]


def card_values(figure: dict[str, Any]) -> dict[str, str]:
    """Card title -> its value text, from what the figure carries for the summary cards."""
    return {title: value for title, value, _detail in figure["layout"]["meta"]["view"]["cards"]}


def test_toyota_and_honda_compare_with_39_points(client: FlaskClient) -> None:
    figure = post_view(client, ["Toyota", "Honda"])
    assert point_count(figure) == 39
    assert [t["name"] for t in marker_traces(figure)] == ["Toyota", "Honda"]
    assert [len(decode_array(t["x"])) for t in marker_traces(figure)] == [26, 13]

    ids = np.concatenate([decode_array(t["customdata"]) for t in marker_traces(figure)])
    assert len(set(ids.tolist())) == 39
    view = figure["layout"]["meta"]["view"]
    assert view["rows"] is True  # the browser's table lists every plotted point
    assert [c["field"] for c in view["columns"]] == ["manufacturer", "vehicle", "x", "y"]
    assert [t["meta"]["manufacturer"] for t in marker_traces(figure)] == ["Toyota", "Honda"]

    cars = plottable({"Toyota", "Honda"})
    mpgs = [c.combined_mpg for c in cars]
    cards = card_values(figure)
    assert cards["Vehicles plotted"] == "39"
    assert cards["Median fuel efficiency"] == f"{median(mpgs):.1f} mpg"
    assert cards["Best"] == f"{max(mpgs):.1f} mpg"
    assert cards["Worst"] == f"{min(mpgs):.1f} mpg"
    hidden = sum(
        1
        for c in SAMPLE
        if c.manufacturer in {"Toyota", "Honda"}
        and (c.horsepower is None or c.combined_mpg is None)
    )
    assert cards["Hidden"] == str(hidden)
    assert figure["layout"]["meta"]["view"]["csv"] == (
        "/api/v1/vehicles?format=csv&dataset=auto-mpg&manufacturer=Toyota&manufacturer=Honda"
        "&hp_min=0&mpg_min=0"
    )


def test_filters_and_axes_narrow_the_plot(client: FlaskClient) -> None:
    figure = post_view(
        client,
        ["Ford", "Chevrolet"],
        years=[1975, 1982],
        cylinders=[8],
        x="weight",
        units="l100km",
    )
    cars = [
        c
        for c in SAMPLE
        if c.manufacturer in {"Ford", "Chevrolet"}
        and c.weight is not None
        and c.combined_mpg is not None
        and c.year >= 1975
        and c.cylinders == 8
    ]
    assert point_count(figure) == len(cars) > 0
    ys = np.concatenate([decode_array(t["y"]) for t in marker_traces(figure)])
    assert sorted(ys.tolist()) == pytest.approx(
        sorted(235.215 / c.combined_mpg for c in cars), rel=1e-5
    )
    assert figure["layout"]["xaxis"]["title"]["text"] == "Weight (lb)"
    assert figure["layout"]["meta"]["view"]["csv"] == (
        "/api/v1/vehicles?format=csv&dataset=auto-mpg&manufacturer=Ford&manufacturer=Chevrolet"
        "&year_min=1975&cylinders=8&mpg_min=0&units=l100km"
    )


def test_an_origin_that_excludes_everything_gives_an_empty_state(client: FlaskClient) -> None:
    figure = post_view(client, ["Toyota"], origins=["Europe"])
    assert figure["data"] == []


@pytest.mark.parametrize(
    "controls",
    [
        {"x": "colour"},
        {"x": {"$gt": ""}},
        {"years": ["a", "b"]},
        {"years": 7},
        {"cylinders": ["'; DROP TABLE vehicles"]},
        {"origins": [{"x": 1}]},
        {"units": ["l100km"]},
        {"origins": ["\ud800Japan"]},
        {"x": "\udfffweight"},
    ],
)
def test_crafted_controls_never_500(client: FlaskClient, controls: dict[str, Any]) -> None:
    figure = post_view(client, ["Toyota"], **controls)
    assert point_count(figure) in (0, 26)


def restore_payload(client: FlaskClient, search: Any) -> dict[str, Any]:
    """The body the renderer posts when the page's address is to be read into the controls,
    the callback named as the app's dependencies name it."""
    dependencies = client.get("/dash/_dash-dependencies").get_json()
    link = [{"id": LINK_ID, "property": "data"}]
    (output,) = [d["output"] for d in dependencies if d["inputs"] == link]
    outputs = [part.split("@")[0].rsplit(".", 1) for part in output.strip(".").split("...")]
    return {
        "output": output,
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": LINK_ID, "property": "data", "value": search}],
        "changedPropIds": [f"{LINK_ID}.data"],
        "state": [
            {"id": YEARS_ID, "property": "min", "value": 1970},
            {"id": YEARS_ID, "property": "max", "value": 1982},
            {"id": "default-manufacturers", "property": "data", "value": ["Toyota"]},
            {"id": CHOICES_ID, "property": "data", "value": page_choices(client)},
        ],
    }


def page_choices(client: FlaskClient) -> Any:
    """What the page offers per dataset (the choices store), as the browser holds it."""
    return find_component(client.get("/dash/_dash-layout").get_json(), CHOICES_ID)["props"]["data"]


def restored(client: FlaskClient, search: Any) -> dict[str, Any]:
    """The control values and notice the server answers for a link's query string."""
    response = client.post(UPDATE_URL, json=restore_payload(client, search))
    assert response.status_code == 200, response.data
    return response.get_json()["response"]


def test_a_shared_url_sets_the_controls(client: FlaskClient) -> None:
    response = restored(
        client, "?manufacturer=Toyota&manufacturer=Honda&year_min=1975&x=weight&trend=1"
    )
    assert response[DROPDOWN_ID]["value"] == ["Toyota", "Honda"]
    assert response[YEARS_ID]["value"] == [1975, 1982]
    assert response["x-axis"]["value"] == "weight"
    assert response["trend-toggle"]["value"] == ["on"]
    assert response[URL_NOTICE_ID]["children"] == ""
    assert response[LINK_ID]["data"] is None  # tells the browser the controls are the link's
    assert URL_ID not in response  # restoring a link does not push a new history entry


@pytest.mark.parametrize("search", ["", "?", None, 42, ["x=weight"]])
def test_a_link_without_manufacturers_shows_the_default(client: FlaskClient, search: Any) -> None:
    response = restored(client, search)
    assert response[DROPDOWN_ID]["value"] == ["Toyota"]
    assert response[YEARS_ID]["value"] == [1970, 1982]
    assert response["x-axis"]["value"] == "horsepower"


def test_a_bad_url_gets_a_notice(client: FlaskClient) -> None:
    response = restored(client, "?x=colour")
    assert response["x-axis"]["value"] == "horsepower"
    assert response[DROPDOWN_ID]["value"] == ["Toyota"]
    assert "x must be one of" in response[URL_NOTICE_ID]["children"]


def test_names_that_are_not_text_are_refused_not_a_500(client: FlaskClient) -> None:
    # JSON can carry lone surrogates, which no URL, database or JSON encoder accepts, and
    # NUL, which PostgreSQL cannot take.
    figure = post_view(client, ["\ud800Toyota", "Honda", "Ford\x00"])
    assert [t["name"] for t in marker_traces(figure)] == ["Honda"]
    response = restored(client, "?manufacturer=%ED%A0%80&manufacturer=\ud800Ford")
    notice = response[URL_NOTICE_ID]["children"]
    assert "names cannot hold NUL or lone surrogates" in notice


def details_payload(selected: Any) -> dict[str, Any]:
    return {
        "output": f"..{DETAILS_ID}.children...{DETAILS_ID}.className..",
        "outputs": [
            {"id": DETAILS_ID, "property": "children"},
            {"id": DETAILS_ID, "property": "className"},
        ],
        "inputs": [{"id": SELECTED_ID, "property": "data", "value": selected}],
        "changedPropIds": [f"{SELECTED_ID}.data"],
        "state": [],
    }


def test_a_clicked_vehicle_shows_its_details(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        vehicle_id = db.session.scalar(select(Vehicle.id).where(Vehicle.model == "2002"))
    response = client.post(UPDATE_URL, json=details_payload(vehicle_id))
    text = json.dumps(response.get_json())
    assert response.status_code == 200
    assert f"/api/v1/vehicles/{vehicle_id}" in text
    assert "BMW 2002" in text and "similar-vehicles" in text
    assert '"details open"' in text  # on a phone, the details are a sheet


@pytest.mark.parametrize("selected", [None, "1", 10**9, -3, True, [1], {"id": 1}, 1.5])
def test_bad_selections_get_a_message(client: FlaskClient, selected: Any) -> None:
    response = client.post(UPDATE_URL, json=details_payload(selected))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Click a point" in text or "no longer in the store" in text


def test_the_point_budget_says_it_samples(make_app: Any) -> None:
    from models import seed_sample

    app = make_app(DASH_POINT_BUDGET=10)
    with app.app_context(), db.engine.begin() as conn:
        seed_sample(conn)
    figure = post_view(app.test_client(), ["Toyota", "Honda"])
    assert point_count(figure) <= 12
    assert "showing a sample of" in figure["layout"]["title"]["subtitle"]["text"]
    assert "of 39 vehicles" in figure["layout"]["title"]["subtitle"]["text"]
    assert figure["layout"]["meta"]["available"] == 39


def test_a_link_to_a_dataset_opens_on_its_stored_default_axes(
    app: Flask, client: FlaskClient
) -> None:
    # A dataset made in the admin, with its own default pair: a link that names no axes
    # opens on that pair, not on the sample's.
    with app.app_context(), db.engine.begin() as conn:
        create_dataset(
            conn,
            DatasetInfo(slug="fleet", name="Our fleet", default_x="weight", default_y="city_mpg"),
        )
    response = restored(client, "?dataset=fleet&manufacturer=Toyota")
    assert response["x-axis"]["value"] == "weight"
    assert response["y-axis"]["value"] == "city_mpg"
    named = restored(client, "?dataset=fleet&manufacturer=Toyota&x=year")
    assert named["x-axis"]["value"] == "year"


def test_select_all_leaves_out_makers_with_nothing_to_plot(client: FlaskClient) -> None:
    # Dash 4's "Select all" picks every offered maker, the disabled Citroen among them.
    every = sorted({c.manufacturer for c in SAMPLE})
    assert "Citroen" in every[:12]
    figure = post_view(client, every)
    names = [t["name"] for t in marker_traces(figure)]
    assert names == [m for m in every if m != "Citroen"][:12]
    # Twelve or fewer: the pick is kept as it is, and the chart says what it lacks.
    assert [t["name"] for t in marker_traces(post_view(client, ["Citroen", "BMW"]))] == ["BMW"]
