"""Typed queries behind the exploration dashboard: series to plot, one vehicle, its peers.

``plot_series`` generalizes ``vehicles_for``: any two numeric fields as axes, several
manufacturers at once, and every other condition from a ``VehicleFilter``, all answered by
one query per selection that reads only the columns it needs.
"""

import functools
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Select, bindparam, func, select, true

from models.api_queries import vehicle_columns
from models.columnar import driver_rows, evenly_spaced, hover_label
from models.filters import FilterShape, VehicleFilter, bound_conditions
from models.queries import MAX_MANUFACTURER_NAME
from models.vehicle import Manufacturer, Vehicle

#: Fields the dashboard can put on an axis, with the column behind each.
AXIS_FIELDS: dict[str, Any] = {
    "horsepower": Vehicle.horsepower,
    "weight": Vehicle.weight,
    "displacement": Vehicle.displacement,
    "acceleration": Vehicle.acceleration,
    "year": Vehicle.year,
    "mpg": Vehicle.mpg,
}

#: Every field of a vehicle, in the order the details panel and exports show them.
DETAIL_FIELDS: tuple[str, ...] = (
    "id",
    "manufacturer",
    "model",
    "year",
    "origin",
    "cylinders",
    "horsepower",
    "displacement",
    "weight",
    "acceleration",
    "mpg",
)

#: How many vehicles a "similar vehicles" list holds.
SIMILAR_COUNT = 5


@dataclass(frozen=True, slots=True)
class Series:
    """One manufacturer's plotted vehicles as columns, plus how many the filter hid.

    ``mpg`` is NaN where a vehicle lacks it (possible when mpg is on neither axis).
    """

    manufacturer: str
    ids: npt.NDArray[np.int64]
    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.float32]
    mpg: npt.NDArray[np.float32]
    label: npt.NDArray[np.object_]
    hidden: int
    #: Plottable vehicles before any point budget; None means every one is plotted.
    available: int | None = None

    @property
    def plotted(self) -> int:
        return len(self.ids)

    @property
    def sampled(self) -> bool:
        return self.available is not None and self.available > self.plotted


@dataclass(frozen=True, slots=True)
class Selection:
    """What a view asked for: a series per known manufacturer, and the names not found."""

    x_field: str
    y_field: str
    series: tuple[Series, ...]
    unknown: tuple[str, ...]

    @property
    def plotted(self) -> int:
        return sum(s.plotted for s in self.series)

    @property
    def hidden(self) -> int:
        return sum(s.hidden for s in self.series)

    @property
    def available(self) -> int:
        """Plottable vehicles before any point budget."""
        return sum(s.plotted if s.available is None else s.available for s in self.series)


@dataclass(frozen=True, slots=True)
class FilterChoices:
    """The values the store holds for each filter control."""

    year_min: int | None
    year_max: int | None
    origins: tuple[str, ...]
    cylinders: tuple[int, ...]


def _wanted_names(names: tuple[str, ...]) -> list[str]:
    return sorted(
        {n.strip().lower() for n in names if n.strip() and len(n) <= MAX_MANUFACTURER_NAME}
    )


def _has_both(x_field: str, y_field: str) -> Any:
    return AXIS_FIELDS[x_field].is_not(None) & AXIS_FIELDS[y_field].is_not(None)


# Both statements are built once per shape of call, so a request only binds values: at
# the sample's size, building and compiling them cost more than running them.


@functools.lru_cache(maxsize=256)
def _makers_statement(
    dialect: str, x_field: str, y_field: str, names: int, shape: FilterShape
) -> Select[Any]:
    """(id, name, vehicles matching the filter, of which plottable) per named maker."""
    conditions = bound_conditions(shape)
    has_both = _has_both(x_field, y_field)
    named = func.lower(Manufacturer.name).in_([bindparam(f"name_{i}") for i in range(names)])
    of_maker = Vehicle.manufacturer_id == Manufacturer.id
    if dialect == "postgresql":
        # One pass over each maker's index range counts both: a LATERAL subquery took
        # 18 ms for a 120,000-vehicle maker where two correlated counts took 45 ms.
        counts = (
            select(
                func.count().label("total"),
                func.count().filter(has_both).label("plottable"),
            )
            .where(of_maker, *conditions)
            .lateral("counts")
        )
        return (
            select(Manufacturer.id, Manufacturer.name, counts.c.total, counts.c.plottable)
            .select_from(Manufacturer)
            .join(counts, true())
            .where(named)
        )

    def vehicle_count(*extra: Any) -> Any:
        return (
            select(func.count())
            .select_from(Vehicle)
            .where(of_maker, *conditions, *extra)
            .scalar_subquery()
        )

    # SQLite has no LATERAL; two index-only counts beat one count(CASE ...) there.
    return select(
        Manufacturer.id, Manufacturer.name, vehicle_count(), vehicle_count(has_both)
    ).where(named)


@functools.lru_cache(maxsize=256)
def _points_statement(
    x_field: str, y_field: str, makers: int, shape: FilterShape, thinned: bool
) -> Select[Any]:
    """(maker id, id, x, y, label[, mpg]) of the plottable matching vehicles, maker by maker."""
    x_column, y_column = AXIS_FIELDS[x_field], AXIS_FIELDS[y_field]
    # Every stride-th vehicle by id: the covering index carries the id, so the database
    # skips the rest without handing them to Python.
    thinning = [Vehicle.id % bindparam("stride") == 0] if thinned else []
    mpg_column = [] if "mpg" in (x_field, y_field) else [Vehicle.mpg]
    return (
        select(Vehicle.manufacturer_id, Vehicle.id, x_column, y_column, hover_label(), *mpg_column)
        .where(
            Vehicle.manufacturer_id.in_([bindparam(f"maker_{i}") for i in range(makers)]),
            *bound_conditions(shape),
            _has_both(x_field, y_field),
            *thinning,
        )
        # Ties broken in the covering index's own order (ix_vehicles_plot), so for the
        # default axes the database reads the points already sorted: a sort on id alone
        # cost SQLite a temporary B-tree and a quarter of the query's time.
        .order_by(
            Vehicle.manufacturer_id, x_column, y_column, Vehicle.year, Vehicle.model, Vehicle.id
        )
    )


def plot_series(
    conn: Connection,
    vehicle_filter: VehicleFilter,
    x_field: str,
    y_field: str,
    budget: int | None = None,
) -> Selection:
    """The filter's vehicles with both axis values, one series per requested manufacturer.

    Series follow the order the manufacturers were asked for; points within a series are
    sorted by x, then y, year, model and id. Raises ``KeyError`` for an axis outside
    ``AXIS_FIELDS``.

    With a ``budget`` and more plottable vehicles than that, the database keeps only those
    whose id is a multiple of a stride: a deterministic sample, the same for every series,
    that keeps each cloud's shape, then an even pick caps it at exactly ``budget``.
    ``Series.available`` then says how many there were.
    """
    if x_field not in AXIS_FIELDS or y_field not in AXIS_FIELDS:
        raise KeyError(x_field if x_field not in AXIS_FIELDS else y_field)
    wanted = _wanted_names(vehicle_filter.manufacturers)
    requested = list(dict.fromkeys(n.strip() for n in vehicle_filter.manufacturers))
    if not wanted:
        return Selection(x_field, y_field, (), tuple(requested))
    # Manufacturers are matched by name here, then by id; the rest of the filter applies
    # as is, in both statements.
    rest = replace(vehicle_filter, manufacturers=())
    shape, parameters = rest.shape(), rest.parameters()
    makers_stmt = _makers_statement(conn.dialect.name, x_field, y_field, len(wanted), shape)
    found_rows = driver_rows(
        conn, makers_stmt, {**parameters, **{f"name_{i}": n for i, n in enumerate(wanted)}}
    )
    found = {
        name.lower(): (maker_id, name, total, plottable)
        for maker_id, name, total, plottable in found_rows
    }
    unknown = tuple(n for n in requested if n.lower() not in found)
    order = list(dict.fromkeys(found[n.lower()] for n in requested if n.lower() in found))
    if not order:
        return Selection(x_field, y_field, (), unknown)

    available = sum(plottable for _id, _name, _total, plottable in order)
    stride = math.ceil(available / budget) if budget and available > budget else 1
    points_stmt = _points_statement(x_field, y_field, len(order), shape, stride > 1)
    maker_ids = {f"maker_{i}": maker_id for i, (maker_id, *_rest) in enumerate(order)}
    rows = driver_rows(
        conn, points_stmt, {**parameters, **maker_ids, **({"stride": stride} if stride > 1 else {})}
    )
    with_mpg = "mpg" not in (x_field, y_field)
    columns = list(zip(*rows, strict=True)) if rows else [()] * (6 if with_mpg else 5)
    maker = np.asarray(columns[0], dtype=np.int64)
    vehicle_ids = np.asarray(columns[1], dtype=np.int64)
    x = np.asarray(columns[2], dtype=np.float32)
    y = np.asarray(columns[3], dtype=np.float32)
    labels = np.asarray(columns[4], dtype=object)  # fixed-width str would pad every label
    if with_mpg:
        mpg = np.asarray([np.nan if v is None else v for v in columns[5]], dtype=np.float32)
    else:
        mpg = x if x_field == "mpg" else y
    if budget and len(maker) > budget:
        # The id stride only approximates the budget (ids need not be spread evenly over a
        # maker); an even pick over the few rows left makes it an exact cap.
        keep = evenly_spaced(len(maker), budget)
        maker, vehicle_ids, x, y, labels = (a[keep] for a in (maker, vehicle_ids, x, y, labels))
        mpg = mpg[keep] if with_mpg else (x if x_field == "mpg" else y)

    series = []
    for manufacturer_id, name, total, plottable in order:
        start, stop = (
            np.searchsorted(maker, manufacturer_id, side="left"),
            np.searchsorted(maker, manufacturer_id, side="right"),
        )
        part = slice(int(start), int(stop))
        series.append(
            Series(
                manufacturer=name,
                ids=vehicle_ids[part],
                x=x[part],
                y=y[part],
                mpg=mpg[part],
                label=labels[part],
                hidden=total - plottable,
                available=plottable,
            )
        )
    return Selection(x_field, y_field, tuple(series), unknown)


def filter_choices(conn: Connection) -> FilterChoices:
    """The year span, origins and cylinder counts present in the store."""
    year_min, year_max = conn.execute(select(func.min(Vehicle.year), func.max(Vehicle.year))).one()
    origins = conn.scalars(
        select(Vehicle.origin)
        .where(Vehicle.origin.is_not(None))
        .distinct()
        .order_by(Vehicle.origin)
    ).all()
    cylinders = conn.scalars(
        select(Vehicle.cylinders)
        .where(Vehicle.cylinders.is_not(None))
        .distinct()
        .order_by(Vehicle.cylinders)
    ).all()
    return FilterChoices(year_min, year_max, tuple(origins), tuple(cylinders))


def _detail_columns() -> list[Any]:
    """The API's vehicle columns, in the order the details panel shows them."""
    by_field = {column.key: column for column in vehicle_columns()}
    return [by_field[name] for name in DETAIL_FIELDS]


def vehicle_details(conn: Connection, vehicle_id: int) -> dict[str, Any] | None:
    """Every field of one vehicle, keyed as ``DETAIL_FIELDS``; None when there is no such id."""
    stmt = select(*_detail_columns()).join(Manufacturer).where(Vehicle.id == vehicle_id)
    row = conn.execute(stmt).first()
    return None if row is None else dict(row._mapping)


def similar_vehicles(
    conn: Connection, vehicle_id: int, count: int = SIMILAR_COUNT
) -> list[dict[str, Any]]:
    """The ``count`` vehicles nearest in horsepower and weight, best mpg first.

    Both dimensions are scaled by their range across the store, so a 10 hp gap and a
    10 lb gap do not weigh the same. Only vehicles with horsepower, weight and mpg count.
    """
    origin = conn.execute(
        select(Vehicle.horsepower, Vehicle.weight).where(Vehicle.id == vehicle_id)
    ).first()
    if origin is None or origin.horsepower is None or origin.weight is None:
        return []
    complete = (
        Vehicle.horsepower.is_not(None) & Vehicle.weight.is_not(None) & Vehicle.mpg.is_not(None)
    )
    hp_low, hp_high, weight_low, weight_high = conn.execute(
        select(
            func.min(Vehicle.horsepower),
            func.max(Vehicle.horsepower),
            func.min(Vehicle.weight),
            func.max(Vehicle.weight),
        ).where(complete)
    ).one()
    hp_span = float(hp_high - hp_low) or 1.0
    weight_span = float(weight_high - weight_low) or 1.0
    hp_gap = (Vehicle.horsepower - origin.horsepower) / hp_span
    weight_gap = (Vehicle.weight - origin.weight) / weight_span
    distance = (hp_gap * hp_gap + weight_gap * weight_gap).label("distance")
    nearest = (
        select(*_detail_columns(), distance)
        .join(Manufacturer)
        .where(complete, Vehicle.id != vehicle_id)
        .order_by(distance, Vehicle.id)
        .limit(count)
        .subquery()
    )
    stmt = select(nearest).order_by(nearest.c.mpg.desc(), nearest.c.distance, nearest.c.id)
    return [dict(row._mapping) for row in conn.execute(stmt)]
