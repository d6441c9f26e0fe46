"""The typed queries that the dashboard and the API share."""

import pytest
from sqlalchemy import Connection

from models import count_unplottable, find_manufacturer, manufacturer_summaries

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


@pytest.mark.parametrize("name", ["", "Nope", "Toyota' OR '1'='1", "x" * 500])
def test_unknown_manufacturers_are_none(conn: Connection, name: str) -> None:
    assert find_manufacturer(conn, name) is None


def test_manufacturers_are_found_ignoring_case(conn: Connection) -> None:
    found = find_manufacturer(conn, " bmw ")
    assert found is not None and found[1] == "BMW"


def test_manufacturer_summaries(conn: Connection) -> None:
    summaries = {s.name: s for s in manufacturer_summaries(conn)}
    assert len(summaries) == 30
    assert (summaries["Ford"].vehicles, summaries["Ford"].plottable) == (54, 49)
    assert {name: summaries[name].plottable for name in PLOTTABLE} == PLOTTABLE
    assert list(summaries) == sorted(summaries)


def test_count_unplottable(conn: Connection) -> None:
    assert count_unplottable(conn) == (14, 406)
