"""The dashboard across datasets: the sample beside EPA vehicles, stored as the importer would."""

from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dashapp.layout import CHOICES_ID, DATASET_ID, DROPDOWN_ID, detail_text
from models import Vehicle
from models.db import db
from models.explore import vehicle_details
from tests.dashapp.helpers import (
    EPA_DATASET,
    add_epa_vehicles,
    decode_array,
    marker_traces,
    point_count,
    post_view,
)
from tests.dashapp.test_callbacks import find_component
from tests.dashapp.test_explore_callbacks import restored

pytestmark = pytest.mark.usefixtures("epa_chevrolets")

#: The EPA file's Chevrolets: 3,461 rows, 3,458 with a displacement (the 3 electric have none).
CHEVROLETS, WITH_DISPLACEMENT = 3461, 3458


@pytest.fixture
def epa_chevrolets(app: Flask) -> int:
    return add_epa_vehicles(app)


def epa_view(client: FlaskClient, **controls: Any) -> dict[str, Any]:
    return post_view(
        client, ["Chevrolet"], dataset=EPA_DATASET, x="displacement", y="combined_mpg", **controls
    )


def test_the_epa_dataset_opens_on_displacement_against_combined_mpg(client: FlaskClient) -> None:
    response = restored(client, f"?dataset={EPA_DATASET}&manufacturer=Chevrolet")
    assert response[DATASET_ID]["value"] == EPA_DATASET
    assert (response["x-axis"]["value"], response["y-axis"]["value"]) == (
        "displacement",
        "combined_mpg",
    )
    named = restored(client, f"?dataset={EPA_DATASET}&x=year&y=city_mpg")
    assert (named["x-axis"]["value"], named["y-axis"]["value"]) == ("year", "city_mpg")


def test_each_dataset_offers_its_own_axes_filters_and_maker_counts(client: FlaskClient) -> None:
    layout = client.get("/dash/_dash-layout").get_json()
    choices = find_component(layout, CHOICES_ID)["props"]["data"]
    epa, sample = choices[EPA_DATASET], choices["auto-mpg"]
    assert (epa["x"], epa["y"], sample["x"], sample["y"]) == (
        "displacement",
        "combined_mpg",
        "horsepower",
        "combined_mpg",
    )
    epa_axes = [axis["value"] for axis in epa["axes"]]
    assert epa_axes == ["displacement", "year", "city_mpg", "highway_mpg", "combined_mpg"]
    assert "horsepower" in [axis["value"] for axis in sample["axes"]]
    # One Chevrolet row across datasets, counted per dataset on its default axes.
    assert {
        "label": f"Chevrolet ({WITH_DISPLACEMENT})",
        "value": "Chevrolet",
        "search": "Chevrolet",
    } in (epa["manufacturers"])
    assert [m["label"] for m in epa["manufacturers"]] == [f"Chevrolet ({WITH_DISPLACEMENT})"]
    assert "Chevrolet (47)" in [m["label"] for m in sample["manufacturers"]]
    assert {"Regular", "Diesel", "Electricity"} <= {o["value"] for o in epa["fuel_types"]}
    assert sample["fuel_types"] == [] and epa["origins"] == []
    # The page still opens on the sample.
    assert find_component(layout, DATASET_ID)["props"]["value"] == "auto-mpg"
    dropdown = find_component(layout, DROPDOWN_ID)["props"]
    assert dropdown["value"] == ["Toyota"] and "Toyota (26)" in [
        o["label"] for o in dropdown["options"]
    ]


def test_the_dataset_is_filtered_in_the_database(client: FlaskClient) -> None:
    figure = epa_view(client)
    assert point_count(figure) == WITH_DISPLACEMENT
    assert "3 more hidden" in figure["layout"]["title"]["subtitle"]["text"]
    sample = post_view(client, ["Chevrolet"])
    assert point_count(sample) == 47  # the sample's Chevrolets only, by default


def test_new_filters_narrow_the_epa_plot(client: FlaskClient) -> None:
    diesel = epa_view(client, fuel_types=["Diesel"])
    assert point_count(diesel) == 231  # counted from the file with the csv module
    both = epa_view(client, fuel_types=["Diesel"], drives=["4-Wheel or All-Wheel Drive"])
    assert point_count(both) == 91


def test_electric_vehicles_are_labelled_mpge(client: FlaskClient) -> None:
    figure = post_view(client, ["Chevrolet"], dataset=EPA_DATASET, x="year", y="combined_mpg")
    (trace,) = marker_traces(figure)
    templates = trace["hovertemplate"]
    assert isinstance(templates, list) and len(templates) == CHEVROLETS
    electric = [t for t in templates if "MPGe" in t]
    assert len(electric) == 3 and all(" mpg" not in t for t in electric)
    assert figure["layout"]["yaxis"]["title"]["text"] == (
        "Combined fuel economy (mpg, MPGe for electric vehicles)"
    )
    ys = decode_array(trace["y"])
    best = figure["layout"]["meta"]["view"]["cards"][2]
    assert list(best[:2]) == ["Best", f"{float(np.max(ys)):.1f} MPGe"]
    # Without electric vehicles, plain mpg.
    gasoline = epa_view(client, fuel_types=["Regular"])
    assert isinstance(marker_traces(gasoline)[0]["hovertemplate"], str)
    assert gasoline["layout"]["yaxis"]["title"]["text"].endswith("(mpg, miles per US gallon)")


def test_details_give_units_and_mark_a_derived_combined_figure(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        by_fuel = dict(
            conn.execute(
                select(Vehicle.fuel_type, func.min(Vehicle.id))
                .where(Vehicle.fuel_type.in_(("Electricity", "Diesel")))
                .group_by(Vehicle.fuel_type)
            ).all()
        )
        electric = vehicle_details(conn, by_fuel["Electricity"])
        diesel = vehicle_details(conn, by_fuel["Diesel"])
    assert electric is not None and diesel is not None
    assert detail_text(electric, "combined_mpg") == (
        f"{electric['combined_mpg']:.3g} MPGe (derived from city and highway)"
    )
    assert detail_text(electric, "city_mpg") == f"{electric['city_mpg']:.3g} MPGe"
    assert detail_text(electric, "displacement") == "unknown"
    assert detail_text(diesel, "highway_mpg") == f"{diesel['highway_mpg']:.3g} mpg"
    assert detail_text(diesel, "displacement") == f"{diesel['displacement']:.3g} L"
