"""The exploration queries, checked against values computed straight from the raw sample."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import Connection, Select, event, insert, select

from models import Manufacturer, Vehicle, VehicleFilter, explore, load_sample
from models.datasets import dataset_id_for
from models.db import db
from models.explore import (
    AXIS_FIELDS,
    DETAIL_FIELDS,
    _points_statement,
    _sample_statement,
    plot_series,
    similar_vehicles,
    vehicle_details,
    year_span,
)
from models.sample import SampleCar

SAMPLE = load_sample()


def expected(
    manufacturer: str,
    x: str = "horsepower",
    y: str = "combined_mpg",
    keep: Callable[..., bool] = bool,
) -> list[SampleCar]:
    """Sample cars of a manufacturer with both axis values, that ``keep`` accepts."""
    return [
        car
        for car in SAMPLE
        if car.manufacturer == manufacturer
        and getattr(car, x, None) is not None
        and getattr(car, y, None) is not None
        and keep(car)
    ]


def hidden(manufacturer: str, x: str = "horsepower", y: str = "combined_mpg") -> int:
    cars = [c for c in SAMPLE if c.manufacturer == manufacturer]
    return sum(1 for c in cars if getattr(c, x, None) is None or getattr(c, y, None) is None)


def test_one_manufacturer_matches_the_seed_counts(conn: Connection) -> None:
    selection = plot_series(
        conn, VehicleFilter(manufacturers=("toyota",)), "horsepower", "combined_mpg"
    )
    (toyota,) = selection.series
    assert (toyota.manufacturer, toyota.plotted, selection.plotted) == ("Toyota", 26, 26)
    assert toyota.x.dtype == np.float32 and toyota.ids.dtype == np.int64
    assert sorted(toyota.x.tolist()) == toyota.x.tolist()
    assert sorted(toyota.x.tolist()) == sorted(c.horsepower for c in expected("Toyota"))


def test_comparison_is_the_sum_of_its_parts(conn: Connection) -> None:
    selection = plot_series(
        conn, VehicleFilter(manufacturers=("Toyota", "Honda")), "horsepower", "combined_mpg"
    )
    assert [s.manufacturer for s in selection.series] == ["Toyota", "Honda"]
    assert [s.plotted for s in selection.series] == [26, 13]
    assert selection.plotted == 39
    ids = np.concatenate([s.ids for s in selection.series])
    assert len(set(ids.tolist())) == 39
    assert selection.unknown == ()


def test_series_follow_the_requested_order_and_name_the_unknown(conn: Connection) -> None:
    selection = plot_series(
        conn,
        VehicleFilter(manufacturers=("Honda", "Nope", "BMW", "honda")),
        "horsepower",
        "combined_mpg",
    )
    assert [s.manufacturer for s in selection.series] == ["Honda", "BMW"]
    assert selection.unknown == ("Nope",)


@pytest.mark.parametrize(
    ("vehicle_filter", "keep"),
    [
        (VehicleFilter(year_min=1975), lambda c: c.year >= 1975),
        (VehicleFilter(year_min=1972, year_max=1976), lambda c: 1972 <= c.year <= 1976),
        (VehicleFilter(origins=("usa",)), lambda c: c.origin == "USA"),
        (VehicleFilter(cylinders=(4,)), lambda c: c.cylinders == 4),
        (
            VehicleFilter(cylinders=(6, 8), year_max=1974),
            lambda c: c.cylinders in (6, 8) and c.year <= 1974,
        ),
    ],
)
@pytest.mark.parametrize("manufacturer", ["Ford", "Chevrolet", "Toyota"])
def test_filters_narrow_in_the_database(
    conn: Connection, vehicle_filter: VehicleFilter, keep: Callable[..., bool], manufacturer: str
) -> None:
    narrowed = VehicleFilter(
        manufacturers=(manufacturer,),
        origins=vehicle_filter.origins,
        cylinders=vehicle_filter.cylinders,
        year_min=vehicle_filter.year_min,
        year_max=vehicle_filter.year_max,
    )
    (series,) = plot_series(conn, narrowed, "horsepower", "combined_mpg").series
    cars = expected(manufacturer, keep=keep)
    assert series.plotted == len(cars)
    assert sorted(series.y.tolist()) == pytest.approx(sorted(c.combined_mpg for c in cars))


@pytest.mark.parametrize("x", list(AXIS_FIELDS))
@pytest.mark.parametrize("y", ["combined_mpg", "weight", "acceleration"])
def test_any_two_axes(conn: Connection, x: str, y: str) -> None:
    (ford,) = plot_series(conn, VehicleFilter(manufacturers=("Ford",)), x, y).series
    cars = expected("Ford", x, y)
    assert ford.plotted == len(cars)
    assert ford.hidden == hidden("Ford", x, y)
    got = np.array(sorted(zip(ford.x.tolist(), ford.y.tolist(), strict=True)))
    want = np.array(sorted((float(getattr(c, x, None)), float(getattr(c, y, None))) for c in cars))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_mpg_rides_along_when_not_on_an_axis(conn: Connection) -> None:
    ford_only = VehicleFilter(manufacturers=("Ford",))
    (ford,) = plot_series(conn, ford_only, "weight", "acceleration").series
    missing_mpg = [c for c in expected("Ford", "weight", "acceleration") if c.combined_mpg is None]
    assert int(np.isnan(ford.mpg).sum()) == len(missing_mpg) > 0
    known = sorted(
        c.combined_mpg for c in expected("Ford", "weight", "acceleration") if c.combined_mpg
    )
    assert sorted(ford.mpg[~np.isnan(ford.mpg)].tolist()) == pytest.approx(known)


def test_hidden_counts_respect_the_filter(conn: Connection) -> None:
    (ford,) = plot_series(
        conn, VehicleFilter(manufacturers=("Ford",)), "horsepower", "combined_mpg"
    ).series
    assert (ford.plotted, ford.hidden) == (49, 5)
    late = VehicleFilter(manufacturers=("Ford",), year_min=1980)
    (ford_late,) = plot_series(conn, late, "horsepower", "combined_mpg").series
    cars = [c for c in SAMPLE if c.manufacturer == "Ford" and c.year >= 1980]
    assert ford_late.hidden == sum(
        1 for c in cars if c.horsepower is None or c.combined_mpg is None
    )


def test_unknown_axis_is_refused(conn: Connection) -> None:
    with pytest.raises(KeyError):
        plot_series(conn, VehicleFilter(manufacturers=("Ford",)), "colour", "combined_mpg")


def test_nothing_requested_means_no_series(conn: Connection) -> None:
    selection = plot_series(conn, VehicleFilter(), "horsepower", "combined_mpg")
    assert (selection.series, selection.plotted) == ((), 0)


def test_year_span(conn: Connection) -> None:
    assert year_span(conn) == (1970, 1982)


def _id_of(conn: Connection, model: str, year: int) -> int:
    return conn.scalar(select(Vehicle.id).where(Vehicle.model == model, Vehicle.year == year))


def test_vehicle_details_hold_every_field(conn: Connection) -> None:
    details = vehicle_details(conn, _id_of(conn, "2002", 1970))
    assert details is not None
    assert tuple(details) == DETAIL_FIELDS
    assert details["manufacturer"] == "BMW"
    assert (details["horsepower"], details["weight"], details["origin"]) == (
        113.0,
        2234.0,
        "Europe",
    )
    assert vehicle_details(conn, 10**9) is None


def test_similar_vehicles_are_nearest_in_hp_and_weight_by_mpg(conn: Connection) -> None:
    complete = [c for c in SAMPLE if c.horsepower and c.weight and c.combined_mpg]
    hp = np.array([c.horsepower for c in complete])
    weight = np.array([c.weight for c in complete])
    origin = next(c for c in complete if c.model == "2002" and c.year == 1970)
    distance = ((hp - origin.horsepower) / np.ptp(hp)) ** 2 + (
        (weight - origin.weight) / np.ptp(weight)
    ) ** 2
    nearest = [complete[i] for i in np.argsort(distance, kind="stable") if complete[i] != origin]
    want = sorted(nearest[:5], key=lambda c: -c.combined_mpg)

    similar = similar_vehicles(conn, _id_of(conn, "2002", 1970))
    assert [(v["manufacturer"], v["model"], v["combined_mpg"]) for v in similar] == [
        (c.manufacturer, c.model, c.combined_mpg) for c in want
    ]
    assert similar_vehicles(conn, 10**9) == []


def store_one_vehicle_without_mpg(app: Flask) -> int:
    """Fill an empty store with one vehicle that has horsepower and weight but no mpg."""
    with app.app_context(), db.engine.begin() as conn:
        maker_id = conn.execute(insert(Manufacturer).values(name="Lonely")).inserted_primary_key[0]
        values = {
            "manufacturer_id": maker_id,
            "dataset_id": dataset_id_for(conn, "auto-mpg"),
            "model": "one",
            "horsepower": 90.0,
            "weight": 2500.0,
        }
        return conn.execute(insert(Vehicle).values(values)).inserted_primary_key[0]


def test_similar_vehicles_need_a_store_with_complete_vehicles(empty_app: Flask) -> None:
    # No vehicle has horsepower, weight and mpg all set: nothing to compare with.
    vehicle_id = store_one_vehicle_without_mpg(empty_app)
    with empty_app.app_context(), db.engine.connect() as conn:
        assert similar_vehicles(conn, vehicle_id) == []


def test_a_point_budget_is_shared_in_proportion(conn: Connection) -> None:
    three = VehicleFilter(manufacturers=("Ford", "Chevrolet", "Honda"))
    full = plot_series(conn, three, "horsepower", "combined_mpg")
    selection = plot_series(conn, three, "horsepower", "combined_mpg", budget=20)
    assert [s.available for s in selection.series] == [49, 47, 13]
    assert [s.plotted for s in selection.series] == [9, 9, 2]
    assert all(s.sampled for s in selection.series)
    for sampled, whole in zip(selection.series, full.series, strict=True):
        position = {vehicle_id: i for i, vehicle_id in enumerate(whole.ids.tolist())}
        picked = [position[vehicle_id] for vehicle_id in sampled.ids.tolist()]
        assert picked == sorted(picked), "a sample keeps the plotted order"
        assert sampled.x.tolist() == [whole.x[i] for i in picked]
    again = plot_series(conn, three, "horsepower", "combined_mpg", budget=20)
    assert [s.ids.tolist() for s in again.series] == [s.ids.tolist() for s in selection.series]
    assert plot_series(conn, three, "horsepower", "combined_mpg", budget=109).plotted == 109


def test_a_small_maker_never_drops_out_of_a_sample(conn: Connection) -> None:
    with_bmw = VehicleFilter(manufacturers=("Ford", "Chevrolet", "BMW"))
    selection = plot_series(conn, with_bmw, "horsepower", "combined_mpg", budget=5)
    assert [(s.manufacturer, s.plotted) for s in selection.series] == [
        ("Ford", 2),
        ("Chevrolet", 2),
        ("BMW", 1),
    ]


def sample_order(vehicle_id: int) -> int:
    """A vehicle's place in the point budget's order (``models.vehicle.SAMPLE_ORDER``)."""
    return vehicle_id * 2654435761 % 2**32


@pytest.mark.parametrize(
    ("overshoot", "slack"),
    [
        (explore.SAMPLE_OVERSHOOT, explore.SAMPLE_SLACK),  # the bound lets every key through
        (1.5, 0),  # a bound that about 15 of Ford's 49 keys fall below: enough
        (0.0, 0),  # a bound no key falls below: read again without it
    ],
)
def test_a_sample_is_a_makers_first_vehicles_in_sample_order(
    conn: Connection, monkeypatch: pytest.MonkeyPatch, overshoot: float, slack: int
) -> None:
    monkeypatch.setattr(explore, "SAMPLE_OVERSHOOT", overshoot)
    monkeypatch.setattr(explore, "SAMPLE_SLACK", slack)
    ford = VehicleFilter(manufacturers=("Ford",))
    every = plot_series(conn, ford, "horsepower", "combined_mpg").series[0].ids.tolist()
    sampled = plot_series(conn, ford, "horsepower", "combined_mpg", budget=10).series[0]
    assert (len(every), sampled.plotted) == (49, 10)
    assert sorted(sampled.ids.tolist()) == sorted(sorted(every, key=sample_order)[:10])
    # Which path ran: every key below the bound, enough of them, or none (read again).
    below = sum(sample_order(i) < explore.sample_bound(10, 49) for i in every)
    expected_below = {1.5: range(10, 30), 0.0: range(0, 1)}.get(overshoot, range(49, 50))
    assert below in expected_below


def sqlite_plan(conn: Connection, stmt: Select[Any], params: dict[str, Any]) -> str:
    """SQLite's plan for ``stmt`` as it runs with ``params``: the SQL and parameters the
    driver got, explained."""
    sent: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        sent.append((args[2], args[3]))  # (statement, parameters)

    event.listen(conn, "before_cursor_execute", capture)
    try:
        conn.execute(stmt, params).all()
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    statement, parameters = sent[-1]
    return " / ".join(
        row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    )


def test_points_are_read_from_the_covering_index_alone(conn: Connection) -> None:
    """Each point's row is never read: ix_vehicles_plot holds all the points query needs,
    the electric flag included (at 1M vehicles, 17 ms instead of 3 for 3,025 points)."""
    if conn.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's index-only scans also depend on its visibility map")
    one_dataset = VehicleFilter(datasets=("auto-mpg",))
    shape, values = one_dataset.shape(), one_dataset.parameters()
    ford = conn.execute(select(Manufacturer.id).where(Manufacturer.name == "Ford")).scalar_one()
    points = _points_statement("horsepower", "combined_mpg", shape)
    sample = _sample_statement("horsepower", "combined_mpg", shape, bounded=True)
    sampled = {"maker_id": ford, "share": 10, "below": explore.SAMPLE_KEYS}
    for stmt, params in ((points, {"maker_ids": [ford]}), (sample, sampled)):
        assert "USING COVERING INDEX ix_vehicles_plot" in sqlite_plan(
            conn, stmt, {**values, **params}
        )
