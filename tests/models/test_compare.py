"""Searching vehicles by model text, and comparing 2-4 of them: fuel use, cost, CO2."""

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Connection

from models.compare import (
    FUELS,
    MAX_VEHICLES,
    CompareError,
    UnknownVehicles,
    compare_vehicles,
    fuel_for,
    parse_compare_args,
    search_vehicles,
)
from models.db import db
from tests.comparisons import ACURA, PRIUS, SILVERADO, TESLA, import_epa_examples


@pytest.fixture
def epa_ids(app: Flask) -> dict[str, int]:
    """The sample plus four EPA vehicles; the EPA vehicles' ids by EPA id."""
    return import_epa_examples(app)


@pytest.fixture
def store(app: Flask, epa_ids: dict[str, int]) -> Iterator[Connection]:
    with app.app_context(), db.engine.connect() as connection:
        yield connection


# --- search -------------------------------------------------------------------------------


def test_search_finds_a_model_across_makers_ignoring_case(store: Connection) -> None:
    found = search_vehicles(store, "CIVIC")
    assert len(found) == 8  # the sample's Honda Civics
    assert {match.manufacturer for match in found} == {"Honda"}
    assert all("civic" in match.model.lower() for match in found)
    assert [match.year for match in found] == sorted((m.year for m in found), reverse=True)
    assert found == search_vehicles(store, "civic")


def test_search_words_narrow_by_maker_and_year(store: Connection) -> None:
    found = search_vehicles(store, "honda civic 1982")
    assert [(m.model, m.year) for m in found] == [
        ("civic", 1982),
        ("civic (auto)", 1982),
        ("civic 1300", 1982),
    ]
    assert found[0].label == "Honda civic (1982) · 1.5 L, 4 cyl"


def test_search_tells_namesakes_apart_and_stays_in_a_dataset(store: Connection) -> None:
    (prius,) = search_vehicles(store, "prius")
    assert (prius.dataset, prius.year, prius.transmission, prius.fuel_type) == (
        "epa-1984-2015",
        2015,
        "Automatic (variable gear ratios)",
        "Regular",
    )
    assert prius.engine == "1.8 L, 4 cyl"
    assert search_vehicles(store, "prius", dataset="auto-mpg") == []
    assert len(search_vehicles(store, "toyota", dataset="epa-1984-2015")) == 1


def test_search_is_bounded_and_takes_text_literally(store: Connection) -> None:
    assert len(search_vehicles(store, "a")) == 20
    assert len(search_vehicles(store, "a", limit=5)) == 5
    assert search_vehicles(store, "%") == []
    assert search_vehicles(store, "_") == []
    assert search_vehicles(store, "   ") == []
    assert search_vehicles(store, "x" * 201) == []


# --- comparison ---------------------------------------------------------------------------


def test_costs_co2_and_units_of_four_epa_vehicles(
    store: Connection, epa_ids: dict[str, int]
) -> None:
    ids = [epa_ids[key] for key in (ACURA, TESLA, PRIUS, SILVERADO)]
    result = compare_vehicles(store, ids)
    acura, tesla, prius, silverado = result.vehicles
    assert result.miles_per_year == 15_000
    # miles / combined mpg x price, in whole dollars
    assert acura.annual_fuel_cost_usd == round(15_000 / 22 * 3.20) == 2182
    assert prius.annual_fuel_cost_usd == round(15_000 / 50 * 3.20) == 960
    assert silverado.annual_fuel_cost_usd == round(15_000 / 18 * 3.20) == 2667
    # an EV: miles / MPGe x 33.7 kWh x price per kWh
    assert tesla.fuel_per_year == round(15_000 / 112 * 33.7, 1) == 4513.4
    assert tesla.annual_fuel_cost_usd == round(15_000 / 112 * 33.7 * 0.17) == 767
    assert tesla.kwh_per_100_miles == 30.1
    assert (tesla.fuel, tesla.fuel_unit, tesla.electric) == ("electricity", "kWh", True)
    # L/100 km = 235.215 / mpg
    assert acura.economy["combined_mpg"].l_per_100km == round(235.215 / 22, 1) == 10.7
    assert acura.economy["city_mpg"].mpg == 20.0
    assert acura.economy["highway_mpg"].l_per_100km == 9.0
    # CO2: the EPA's g/mile when stored, else from the fuel (none at an EV's tailpipe)
    assert (acura.co2_source, acura.co2_g_per_mile, acura.co2_kg_per_year) == ("EPA", 404.0, 6059)
    assert (tesla.co2_source, tesla.co2_kg_per_year) == ("computed", 0)
    assert silverado.co2_kg_per_year == round(494 * 15_000 / 1000) == 7410
    # the EPA's own stored figure is kept beside ours
    assert [v.epa_annual_fuel_cost_usd for v in result.vehicles] == [2000, 600, 750, 2450]
    assert silverado.fuel == "regular" and "Gasoline or E85" in silverado.fuel_note
    assert result.cheapest_ids == [epa_ids[TESLA]]
    assert [v.extra_cost_usd for v in result.vehicles] == [1415, 0, 193, 1900]
    assert [p.key for p in result.prices] == ["regular", "electricity"]


def test_miles_and_prices_change_the_cheapest(store: Connection, epa_ids: dict[str, int]) -> None:
    ids = [epa_ids[TESLA], epa_ids[PRIUS]]
    result = compare_vehicles(store, ids, 12_000, {"electricity": 0.40, "regular": 3.5})
    tesla, prius = result.vehicles
    assert tesla.annual_fuel_cost_usd == round(12_000 / 112 * 33.7 * 0.40) == 1444
    assert prius.annual_fuel_cost_usd == round(12_000 / 50 * 3.5) == 840
    assert prius.co2_kg_per_year == round(178 * 12_000 / 1000) == 2136
    assert result.cheapest_ids == [epa_ids[PRIUS]]
    assert (prius.cheapest, tesla.cheapest) == (True, False)
    prices = {p.key: (p.price, p.is_default) for p in result.prices}
    assert prices == {"regular": (3.5, False), "electricity": (0.40, False)}


def test_a_vehicle_without_fuel_type_is_priced_as_regular_and_ties_share_cheapest(
    store: Connection,
) -> None:
    civic, civic_auto, _civic_1300 = search_vehicles(store, "honda civic 1982")
    result = compare_vehicles(store, [civic.id, civic_auto.id])
    first, second = result.vehicles
    assert first.fuel == "regular" and "not recorded" in first.fuel_note
    assert first.annual_fuel_cost_usd == round(15_000 / 38 * 3.20) == 1263
    assert first.co2_source == "computed"
    assert first.co2_g_per_mile == round(8_887 / 38, 1) == 233.9
    assert second.annual_fuel_cost_usd == round(15_000 / 32 * 3.20) == 1500
    assert result.cheapest_ids == [civic.id]
    # at a tenth of a cent a gallon both cost $0 a year: a tie marks both
    tied = compare_vehicles(store, [civic.id, civic_auto.id], fuel_prices={"regular": 0.001})
    assert tied.cheapest_ids == [civic.id, civic_auto.id]


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([1], "at least 2"),
        ([1, 2, 3, 4, 5], f"At most {MAX_VEHICLES}"),
        ([1, 1], "named twice"),
        ([0, 1], "not a vehicle id"),
    ],
)
def test_a_bad_choice_of_vehicles_is_refused(
    store: Connection, ids: list[int], message: str
) -> None:
    with pytest.raises(CompareError, match=message):
        compare_vehicles(store, ids)


def test_unknown_ids_are_all_named(store: Connection, epa_ids: dict[str, int]) -> None:
    with pytest.raises(UnknownVehicles) as raised:
        compare_vehicles(store, [epa_ids[PRIUS], 99_998, 99_999])
    assert raised.value.ids == (99_998, 99_999)
    assert str(raised.value) == "There are no vehicles with ids 99998, 99999."


def test_bad_distance_or_price_is_refused(store: Connection) -> None:
    with pytest.raises(CompareError, match="Miles per year"):
        compare_vehicles(store, [1, 2], 0)
    with pytest.raises(CompareError, match="price of diesel"):
        compare_vehicles(store, [1, 2], fuel_prices={"diesel": 0})
    with pytest.raises(CompareError, match="No fuel is called 'coal'"):
        compare_vehicles(store, [1, 2], fuel_prices={"coal": 1})


def test_query_strings_name_every_bad_parameter() -> None:
    request = parse_compare_args({"ids": " 3, 1 ", "miles": "12000", "price_regular": "3.50"})
    assert (request.ids, request.miles_per_year, dict(request.fuel_prices)) == (
        (3, 1),
        12_000,
        {"regular": 3.5},
    )
    with pytest.raises(CompareError) as raised:
        parse_compare_args({"ids": "1,x", "miles": "1_000", "price_diesel": "nan"})
    assert sorted(raised.value.errors) == ["ids", "miles", "price_diesel"]
    assert "'x' is not a vehicle id" in raised.value.errors["ids"]
    for ids in ("", "1", "1,,2", "\u0661,\u0662", "1.0,2", "1,2,3,4,5", "99999999999999999999,1"):
        with pytest.raises(CompareError):
            parse_compare_args({"ids": ids})
    assert parse_compare_args({"ids": "1,2"}).miles_per_year == 15_000


@pytest.mark.parametrize(
    ("fuel_type", "powertrain", "key"),
    [
        ("Regular", "ICE", "regular"),
        ("Premium or E85", "ICE", "premium"),
        ("Premium Gas or Electricity", "plug-in hybrid", "premium"),
        ("Diesel", "ICE", "diesel"),
        ("Midgrade", "ICE", "midgrade"),
        ("CNG", "ICE", "cng"),
        ("Ethanol E85", None, "e85"),
        ("Electricity", "EV", "electricity"),
        (None, "EV", "electricity"),
        ("Gasoline or natural gas", "ICE", "regular"),
        (None, None, "regular"),
    ],
)
def test_every_epa_fuel_type_has_a_price(
    fuel_type: str | None, powertrain: str | None, key: str
) -> None:
    fuel, _note = fuel_for(fuel_type, powertrain)
    assert fuel is FUELS[key]


def test_a_fuel_without_a_price_is_said_so() -> None:
    assert fuel_for("Hydrogen") == (None, "no price is kept for Hydrogen")
