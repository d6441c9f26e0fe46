"""VehicleFilter narrows queries in the database, with exact counts from the sample."""

import pytest
from sqlalchemy import Connection, func, select

from models import Vehicle
from models.filters import VehicleFilter, with_manufacturer_ids


def count(conn: Connection, vehicle_filter: VehicleFilter) -> int:
    stmt = vehicle_filter.apply(select(func.count()).select_from(Vehicle))
    return conn.scalar(stmt) or 0


@pytest.mark.parametrize(
    ("vehicle_filter", "expected"),
    [
        (VehicleFilter(), 406),
        (VehicleFilter(manufacturers=("toyota",)), 26),
        (VehicleFilter(manufacturers=("Toyota", "HONDA")), 39),
        (VehicleFilter(manufacturers=("Nope",)), 0),
        (VehicleFilter(origins=("japan",)), 79),
        (VehicleFilter(origins=("Europe", "Japan")), 152),
        (VehicleFilter(cylinders=(4,)), 207),
        (VehicleFilter(cylinders=(3, 5)), 7),
        (VehicleFilter(year_min=1980), 90),
        (VehicleFilter(year_min=1975, year_max=1975), 30),
        (VehicleFilter(hp_min=200), 11),
        (VehicleFilter(mpg_max=10), 3),
        (VehicleFilter(q="corolla"), 10),
        (VehicleFilter(q="100%"), 0),
        (VehicleFilter(q="_"), 0),
        (VehicleFilter(manufacturers=("Toyota",), year_min=1980), 9),
    ],
)
def test_filter_counts(conn: Connection, vehicle_filter: VehicleFilter, expected: int) -> None:
    assert count(conn, vehicle_filter) == expected
    # Names looked up as ids first (the API's fast path) select exactly the same vehicles.
    assert count(conn, with_manufacturer_ids(conn, vehicle_filter)) == expected


def test_manufacturer_names_become_ids(conn: Connection) -> None:
    resolved = with_manufacturer_ids(conn, VehicleFilter(manufacturers=(" honda", "TOYOTA", "x")))
    assert resolved.manufacturers == ()
    assert resolved.manufacturer_ids is not None and len(resolved.manufacturer_ids) == 2
    nobody = with_manufacturer_ids(conn, VehicleFilter(manufacturers=("Nope",), year_min=1970))
    assert nobody.manufacturer_ids == ()
    assert count(conn, nobody) == 0
    unnamed = VehicleFilter(year_min=1980)
    assert with_manufacturer_ids(conn, unnamed) is unnamed


def test_sql_looking_text_is_just_text(conn: Connection) -> None:
    assert count(conn, VehicleFilter(q="' OR 1=1 --")) == 0
    assert count(conn, VehicleFilter(manufacturers=("x') OR ('1'='1",))) == 0


def test_problems() -> None:
    assert VehicleFilter(year_min=1970, year_max=1980).problems() == {}
    assert VehicleFilter(year_min=1990, year_max=1980).problems() == {
        "year_min": "year_min (1990) is greater than year_max (1980)"
    }
    assert "q" in VehicleFilter(q="x" * 201).problems()
