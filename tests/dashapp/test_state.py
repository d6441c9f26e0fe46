"""The view state's round trip through the URL query string."""

from urllib.parse import urlencode

import pytest

from dashapp.state import (
    MAX_CHOICES,
    MAX_MANUFACTURERS,
    ViewState,
    export_url,
    from_controls,
    parse_query,
    to_query,
)
from models import VehicleFilter


def test_the_plain_url_is_the_default_view() -> None:
    assert parse_query("") == ViewState()
    assert parse_query(None) == ViewState()
    assert to_query(ViewState()) == ""


def test_the_issue_example_parses() -> None:
    state = parse_query("?manufacturer=Toyota&manufacturer=Honda&year_min=1975&x=weight")
    assert state == ViewState(manufacturers=("Toyota", "Honda"), year_min=1975, x="weight")
    assert state.problems == ()


@pytest.mark.parametrize(
    "state",
    [
        ViewState(manufacturers=("Toyota",)),
        ViewState(
            manufacturers=("Mercedes-Benz", "AMC"),
            year_min=1972,
            year_max=1980,
            origins=("Europe",),
            cylinders=(4, 6),
            x="weight",
            y="acceleration",
            units="l100km",
            trend=True,
        ),
        ViewState(manufacturers=("A & B", "50% off?")),
    ],
)
def test_round_trip(state: ViewState) -> None:
    assert parse_query(to_query(state)) == state


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("x=colour", "x must be one of"),
        ("y=1;DROP", "y must be one of"),
        ("units=furlongs", "units must be one of"),
        ("year_min=soon", "year_min must be a whole year"),
        ("year_max=99999", "not a plausible model year"),
        ("year_min=1980&year_max=1975", "is after year_max"),
        ("cylinders=many", "not a cylinder count"),
        ("trend=maybe", "trend must be 1 or 0"),
        ("manufacturer=" + "x" * 300, "at most 200 characters"),
    ],
)
def test_invalid_values_fall_back_to_defaults_and_say_so(query: str, problem: str) -> None:
    state = parse_query(query)
    assert any(problem in p for p in state.problems), state.problems
    defaults = ViewState()
    assert (state.x, state.y, state.units, state.trend) == (
        defaults.x,
        defaults.y,
        defaults.units,
        defaults.trend,
    )
    assert (state.year_min, state.year_max, state.cylinders) == (None, None, ())


def test_too_many_manufacturers_keeps_the_first() -> None:
    query = "&".join(f"manufacturer=m{i}" for i in range(MAX_MANUFACTURERS + 3))
    state = parse_query(query)
    assert len(state.manufacturers) == MAX_MANUFACTURERS
    assert state.problems


def test_vehicle_filter_and_export_url() -> None:
    state = parse_query("manufacturer=Toyota&manufacturer=Honda&year_min=1975&cylinders=4&x=weight")
    assert state.vehicle_filter() == VehicleFilter(
        manufacturers=("Toyota", "Honda"), year_min=1975, cylinders=(4,), datasets=("auto-mpg",)
    )
    assert export_url(state) == (
        "/api/v1/vehicles?format=csv&dataset=auto-mpg&manufacturer=Toyota&manufacturer=Honda"
        "&year_min=1975&cylinders=4&mpg_min=0"
    )


def test_a_dataset_and_its_filters_round_trip() -> None:
    state = ViewState(
        manufacturers=("Chevrolet",),
        dataset="epa-1984-2015",
        x="displacement",
        y="city_mpg",
        fuel_types=("Regular Gasoline", "Electricity"),
        vehicle_classes=("Compact Cars",),
        drives=("Front-Wheel Drive",),
        powertrains=("EV",),
    )
    query = to_query(state)
    # The EPA's default x (displacement) is left out; its y default is the combined figure.
    assert query == (
        "?dataset=epa-1984-2015&manufacturer=Chevrolet&fuel_type=Regular+Gasoline"
        "&fuel_type=Electricity&vehicle_class=Compact+Cars&drive=Front-Wheel+Drive"
        "&powertrain=EV&y=city_mpg"
    )
    assert parse_query(query) == state
    assert state.vehicle_filter().datasets == ("epa-1984-2015",)
    assert state.vehicle_filter().fuel_types == ("Regular Gasoline", "Electricity")


def test_a_dataset_opens_on_its_default_axes_unless_the_link_names_them() -> None:
    epa = parse_query("dataset=epa-1984-2015&manufacturer=Chevrolet")
    assert (epa.dataset, epa.x, epa.y) == ("epa-1984-2015", "displacement", "combined_mpg")
    named = parse_query("dataset=epa-1984-2015&x=year&y=highway_mpg")
    assert (named.x, named.y) == ("year", "highway_mpg")
    assert (parse_query("").dataset, parse_query("").x) == ("auto-mpg", "horsepower")
    assert to_query(ViewState(manufacturers=("Toyota",))) == "?manufacturer=Toyota"


@pytest.mark.parametrize("slug", ["../etc", "a b", "x" * 41, "épa"])
def test_a_malformed_dataset_falls_back_to_the_default(slug: str) -> None:
    state = parse_query(urlencode({"dataset": slug}))
    assert state.dataset == "auto-mpg"
    assert any("not a dataset name" in p for p in state.problems)


def test_controls_become_a_state() -> None:
    state = from_controls(
        ["Toyota", "Honda"],
        [1970, 1976],
        ["Japan"],
        [4],
        "weight",
        "mpg",
        "l100km",
        ["on"],
        first_year=1970,
        last_year=1982,
    )
    assert state == ViewState(
        manufacturers=("Toyota", "Honda"),
        year_max=1976,
        origins=("Japan",),
        cylinders=(4,),
        x="weight",
        units="l100km",
        trend=True,
    )
    assert from_controls("Toyota").manufacturers == ("Toyota",)


@pytest.mark.parametrize("crafted", [{"$ne": 1}, 42, [None, 3, {"a": 1}], "", [""], ["   "], True])
def test_crafted_control_values_never_raise(crafted: object) -> None:
    state = from_controls(crafted, crafted, crafted, crafted, crafted, crafted, crafted, crafted)
    assert state.manufacturers == ()
    assert (state.x, state.y) == ("horsepower", "combined_mpg")


def test_long_lists_of_origins_and_cylinders_are_capped() -> None:
    # Each count of values is its own SQL statement, so a crafted link cannot ask for
    # thousands of them.
    search = "?" + "&".join(
        [f"origin=o{i}" for i in range(MAX_CHOICES + 30)]
        + [f"cylinders={i}" for i in range(1, MAX_CHOICES + 30)]
    )
    state = parse_query(search)
    assert len(state.origins) == MAX_CHOICES
    assert len(state.cylinders) == MAX_CHOICES
    assert any("origins" in p for p in state.problems)
    assert any("cylinder counts" in p for p in state.problems)
