"""The typed queries that the dashboard and the API share."""

import numpy as np
import pytest
from sqlalchemy import Connection

from models import count_unplottable, find_manufacturer, manufacturer_summaries, vehicles_for

PLOTTABLE = {
    "Toyota": 26,
    "Chevrolet": 47,
    "Ford": 49,
    "BMW": 2,
    "Volkswagen": 22,
    "Mazda": 12,
    "Honda": 13,
    "Citroen": 0,
}


@pytest.mark.parametrize(("name", "count"), PLOTTABLE.items())
def test_vehicles_for_returns_only_plottable_rows(conn: Connection, name: str, count: int) -> None:
    points = vehicles_for(conn, name)
    assert points is not None
    assert points.manufacturer == name
    assert points.plotted == count
    assert len(points.horsepower) == len(points.mpg) == count
    assert points.horsepower.dtype == np.float32
    assert not np.isnan(points.horsepower).any()
    assert not np.isnan(points.mpg).any()


def test_vehicles_for_counts_hidden_rows(conn: Connection) -> None:
    ford = vehicles_for(conn, "Ford")
    assert ford is not None
    assert (ford.plotted, ford.hidden) == (49, 5)
    citroen = vehicles_for(conn, "Citroen")
    assert citroen is not None
    assert (citroen.plotted, citroen.hidden) == (0, 1)


def test_vehicles_for_values_and_labels(conn: Connection) -> None:
    bmw = vehicles_for(conn, "bmw")
    assert bmw is not None
    assert bmw.manufacturer == "BMW"
    assert bmw.horsepower.tolist() == [110.0, 113.0]
    assert bmw.mpg.tolist() == pytest.approx([21.5, 26.0])
    assert bmw.label == ["320i (1977)", "2002 (1970)"]


@pytest.mark.parametrize("name", ["", "Nope", "Toyota' OR '1'='1", "x" * 500])
def test_unknown_manufacturers_are_none(conn: Connection, name: str) -> None:
    assert vehicles_for(conn, name) is None
    assert find_manufacturer(conn, name) is None


def test_manufacturer_summaries(conn: Connection) -> None:
    summaries = {s.name: s for s in manufacturer_summaries(conn)}
    assert len(summaries) == 30
    assert (summaries["Ford"].vehicles, summaries["Ford"].plottable) == (54, 49)
    assert list(summaries) == sorted(summaries)


def test_count_unplottable(conn: Connection) -> None:
    assert count_unplottable(conn) == (14, 406)
