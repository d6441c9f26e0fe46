"""Fast column fetches for plotting: one maker's (horsepower, mpg, label) straight into NumPy.

Two Core queries, both answered from the covering index ``ix_vehicles_plot``. Each is
built and compiled once per process and dialect, then run on the driver's own cursor
(``driver_rows``): at 406 rows SQLAlchemy's per-execute bookkeeping cost more than the
queries themselves.

1. the maker, looked up by name, with its counts (plottable and not), which say whether
   the point budget applies;
2. the points themselves. When the maker has more plottable vehicles than the budget, the
   database keeps every ``stride``-th point in (horsepower, mpg) order with a window
   function, so Python only ever sees at most ``budget`` rows and builds at most that many
   hover labels. Evenly spaced ranks keep the shape of the cloud.
"""

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Select, String, bindparam, case, cast, func, select
from sqlalchemy.engine import Compiled, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

from models.vehicle import Manufacturer, Vehicle


@dataclass(frozen=True, slots=True)
class PlotColumns:
    """One maker's points to draw, and how many plottable and unplottable vehicles it has."""

    manufacturer: str
    horsepower: npt.NDArray[np.float32]
    mpg: npt.NDArray[np.float32]
    label: list[str]
    available: int
    hidden: int


@dataclass(frozen=True, slots=True)
class _Statements:
    maker_counts: Select[tuple[int, str, int, int]]
    points: Select[tuple[float, float, str]]
    thinned_points: Select[tuple[float, float, str]]


def thinning_stride(available: int, budget: int | None) -> int:
    """Keep every ``stride``-th point so that at most ``budget`` of ``available`` remain."""
    if budget is None or budget <= 0 or available <= budget:
        return 1
    return math.ceil(available / budget)


def plottable_condition() -> object:
    """Vehicles with both horsepower and mpg: the ones a scatter can place."""
    return Vehicle.horsepower.is_not(None) & Vehicle.mpg.is_not(None)


def hover_label() -> object:
    """ "model (year)", built by the database so Python makes one string per point."""
    year = func.coalesce(cast(Vehicle.year, String), "year unknown")
    return (Vehicle.model + " (" + year + ")").label("label")


@cache
def _compiled(dialect: Dialect, stmt: Executable) -> tuple[str, Compiled]:
    compiled = stmt.compile(dialect=dialect)
    return compiled.string, compiled


def driver_rows(
    conn: Connection, stmt: Executable, params: dict[str, Any] | None = None
) -> list[Any]:
    """Run a prebuilt Core statement on the DBAPI cursor and return its raw rows.

    Driver errors come back as SQLAlchemy's ``DBAPIError``, as ``conn.execute`` raises them.
    """
    sql, compiled = _compiled(conn.dialect, stmt)
    values = compiled.construct_params(params or {})
    arguments: Any = (
        [values[name] for name in compiled.positiontup or ()] if compiled.positional else values
    )
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, arguments)
        return cursor.fetchall()
    except dbapi.Error as error:
        raise DBAPIError.instance(
            sql, arguments, error, dbapi.Error, dialect=conn.dialect
        ) from error
    finally:
        cursor.close()


@cache
def _statements() -> _Statements:
    plottable = plottable_condition()
    maker_counts = (
        select(
            Manufacturer.id,
            Manufacturer.name,
            func.count(case((plottable, 1))),
            func.count(Vehicle.id),
        )
        .outerjoin(Vehicle, Vehicle.manufacturer_id == Manufacturer.id)
        .where(func.lower(Manufacturer.name) == bindparam("name"))
        .group_by(Manufacturer.id, Manufacturer.name)
    )
    where = (Vehicle.manufacturer_id == bindparam("manufacturer_id"), plottable)
    points = (
        select(Vehicle.horsepower, Vehicle.mpg, hover_label())
        .where(*where)
        .order_by(Vehicle.horsepower, Vehicle.mpg)
    )
    rank = func.row_number().over(order_by=(Vehicle.horsepower, Vehicle.mpg)).label("rank")
    ranked = select(Vehicle.horsepower, Vehicle.mpg, hover_label(), rank).where(*where).subquery()
    thinned = (
        select(ranked.c.horsepower, ranked.c.mpg, ranked.c.label)
        .where((ranked.c.rank - 1) % bindparam("stride") == 0)
        .order_by(ranked.c.rank)
    )
    return _Statements(maker_counts, points, thinned)


def plot_columns(conn: Connection, manufacturer: str, budget: int | None) -> PlotColumns | None:
    """The named maker's plottable points in (horsepower, mpg) order, thinned to ``budget``.

    The name matches case-insensitively; None when there is no such maker.
    """
    statements = _statements()
    found = driver_rows(conn, statements.maker_counts, {"name": manufacturer.strip().lower()})
    if not found:
        return None
    manufacturer_id, name, available, total = found[0]
    stride = thinning_stride(available, budget)
    if stride == 1:
        rows = driver_rows(conn, statements.points, {"manufacturer_id": manufacturer_id})
    else:
        rows = driver_rows(
            conn, statements.thinned_points, {"manufacturer_id": manufacturer_id, "stride": stride}
        )
    count = len(rows)
    return PlotColumns(
        manufacturer=name,
        horsepower=np.fromiter((row[0] for row in rows), dtype=np.float32, count=count),
        mpg=np.fromiter((row[1] for row in rows), dtype=np.float32, count=count),
        label=[row[2] for row in rows],
        available=available,
        hidden=total - available,
    )
