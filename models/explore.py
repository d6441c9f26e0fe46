"""Typed queries behind the exploration dashboard: series to plot, one vehicle, its peers.

``plot_series`` reads any two numeric fields as axes, for several manufacturers at once,
with every other condition from a ``VehicleFilter``: one statement counts each maker's
vehicles, one more reads the points.
"""

import functools
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    Connection,
    Row,
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
    true,
)

from models.api_queries import ROW_FIELDS, vehicle_columns, with_names
from models.filters import FilterShape, VehicleFilter, bound_conditions
from models.queries import MAX_MANUFACTURER_NAME
from models.vehicle import Dataset, Manufacturer, Vehicle

#: Fields the dashboard can put on an axis, with the column behind each.
AXIS_FIELDS: dict[str, Any] = {
    "horsepower": Vehicle.horsepower,
    "weight": Vehicle.weight,
    "displacement": Vehicle.displacement,
    "acceleration": Vehicle.acceleration,
    "year": Vehicle.year,
    "city_mpg": Vehicle.city_mpg,
    "highway_mpg": Vehicle.highway_mpg,
    "combined_mpg": Vehicle.combined_mpg,
}

#: Every field of a vehicle, in the order the details panel shows them.
DETAIL_FIELDS: tuple[str, ...] = ROW_FIELDS

#: How many vehicles a "similar vehicles" list holds.
SIMILAR_COUNT = 5
#: How many more rows than its share of the point budget a series reads before the even
#: pick: enough that an id stride rarely leaves a big maker short.
SAMPLE_MARGIN = 1.1


@dataclass(frozen=True, slots=True)
class Series:
    """One manufacturer's plotted vehicles as columns, plus how many the filter hid.

    ``mpg`` is the combined fuel figure, NaN where a vehicle lacks it (possible when it is
    on neither axis).
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
    #: True for electric vehicles, whose fuel figures are MPGe; empty means none is.
    electric: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))

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


#: Electric vehicles: their fuel figures are miles per gallon equivalent (MPGe).
IS_ELECTRIC = or_(Vehicle.powertrain == "EV", Vehicle.fuel_type == "Electricity")


def is_electric(vehicle: dict[str, Any]) -> bool:
    """``IS_ELECTRIC`` for a vehicle's fields as ``vehicle_details`` gives them."""
    return vehicle.get("powertrain") == "EV" or vehicle.get("fuel_type") == "Electricity"


#: The text fields a view can filter on, each offered with the values its dataset holds.
CHOICE_FIELDS: dict[str, Any] = {
    "origins": Vehicle.origin,
    "cylinders": Vehicle.cylinders,
    "fuel_types": Vehicle.fuel_type,
    "vehicle_classes": Vehicle.vehicle_class,
    "drives": Vehicle.drive,
    "powertrains": Vehicle.powertrain,
}


@dataclass(frozen=True, slots=True)
class DatasetChoices:
    """What the dashboard offers for one dataset: its name, the axes with values in it,
    its default pair, each filter's values, and (name, plottable on the default axes) of
    each manufacturer with vehicles in it."""

    slug: str
    name: str
    vehicles: int
    default_x: str
    default_y: str
    axes: tuple[str, ...]
    values: dict[str, tuple[Any, ...]]
    manufacturers: tuple[tuple[str, int], ...]


#: "model (year)", built by the database so Python makes one string per point.
HOVER_LABEL = (
    Vehicle.model + " (" + func.coalesce(cast(Vehicle.year, String), "year unknown") + ")"
).label("label")


def share_budget(available: list[int], budget: int | None) -> list[int]:
    """How many points each series may plot within ``budget``.

    Every point while the total fits; otherwise the budget split in proportion to each
    series' points, the rounding going to the largest remainders so the shares sum to the
    budget exactly. A series with any points keeps at least one, taken from the largest
    share (so with fewer budget points than series the total can exceed the budget).
    """
    total = sum(available)
    if budget is None or total <= budget:
        return list(available)
    shares = [count * budget // total for count in available]
    by_remainder = sorted(range(len(available)), key=lambda i: -(available[i] * budget % total))
    for i in by_remainder[: budget - sum(shares)]:
        shares[i] += 1
    for i, count in enumerate(available):
        if count and not shares[i]:
            largest = max(range(len(shares)), key=shares.__getitem__)
            shares[largest] -= shares[largest] > 1
            shares[i] = 1
    return shares


def evenly_spaced(count: int, picks: int) -> range | list[int]:
    """Indices of ``picks`` of ``count`` items spread evenly, the first and last included."""
    if picks >= count:
        return range(count)
    if picks == 1:
        return [count // 2]
    return [i * (count - 1) // (picks - 1) for i in range(picks)]


def _wanted_names(names: tuple[str, ...]) -> list[str]:
    return sorted(
        {n.strip().lower() for n in names if n.strip() and len(n) <= MAX_MANUFACTURER_NAME}
    )


def _has_both(x_field: str, y_field: str) -> Any:
    return AXIS_FIELDS[x_field].is_not(None) & AXIS_FIELDS[y_field].is_not(None)


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

    With a ``budget`` and more plottable vehicles than that, each series keeps its share
    of the budget (``share_budget``), picked evenly along its points in plotted order
    (for a big selection, among those an id stride let through): a deterministic sample
    that keeps each cloud's shape. ``Series.available`` says how many there were.
    """
    if x_field not in AXIS_FIELDS or y_field not in AXIS_FIELDS:
        raise KeyError(x_field if x_field not in AXIS_FIELDS else y_field)
    requested = list(dict.fromkeys(n.strip() for n in vehicle_filter.manufacturers))
    wanted = _wanted_names(vehicle_filter.manufacturers)
    if not wanted:
        return Selection(x_field, y_field, (), tuple(requested))
    # Manufacturers are matched by name here, then by id; the rest of the filter applies
    # as is, in both statements.
    rest = replace(vehicle_filter, manufacturers=())
    shape, parameters = rest.shape(), rest.parameters()
    counts = _counts_statement(conn.dialect.name, x_field, y_field, shape)
    found = {row.name.lower(): row for row in conn.execute(counts, {**parameters, "names": wanted})}
    unknown = tuple(n for n in requested if n.lower() not in found)
    makers = list(dict.fromkeys(found[n.lower()] for n in requested if n.lower() in found))
    if not makers:
        return Selection(x_field, y_field, (), unknown)

    def read(maker_ids: list[int], stride: int) -> dict[int, list[Row[Any]]]:
        stmt = _points_statement(x_field, y_field, shape, stride > 1)
        values = {**parameters, "maker_ids": maker_ids, "stride": stride}
        by_maker: dict[int, list[Row[Any]]] = {maker_id: [] for maker_id in maker_ids}
        for row in conn.execute(stmt, values).all():
            by_maker[row[0]].append(row)
        return by_maker

    shares = share_budget([maker.plottable for maker in makers], budget)
    # Every series' share is about the same fraction of its points, so one id stride narrows
    # them all in SQL to a little more than their shares, and Python reads few rows of a big
    # maker. Ids need not be spread evenly, so a series that comes back short is read whole.
    available = sum(maker.plottable for maker in makers)
    stride = int(available / (budget * SAMPLE_MARGIN)) if budget else 1
    points = read([maker.id for maker in makers], stride)
    short = [m.id for m, share in zip(makers, shares, strict=True) if len(points[m.id]) < share]
    if short and stride > 1:
        points.update(read(short, 1))
    series = tuple(
        _series(maker, points[maker.id], share, x_field, y_field)
        for maker, share in zip(makers, shares, strict=True)
    )
    return Selection(x_field, y_field, series, unknown)


# Both statements are built once per shape of view and only bound to its values after:
# building them on every request cost several times what running them did.


@functools.lru_cache(maxsize=256)
def _counts_statement(dialect: str, x_field: str, y_field: str, shape: FilterShape) -> Select[Any]:
    """(id, name, total, plottable) of each maker in ``names``: its vehicles matching the
    filter, and how many of those have both axis values."""
    conditions, has_both = bound_conditions(shape), _has_both(x_field, y_field)
    of_maker = Vehicle.manufacturer_id == Manufacturer.id
    named = func.lower(Manufacturer.name).in_(bindparam("names", expanding=True))
    if dialect == "postgresql":
        # One pass over each maker's index range counts both.
        both = (
            select(func.count().label("total"), func.count().filter(has_both).label("plottable"))
            .where(of_maker, *conditions)
            .lateral("counts")
        )
        return (
            select(Manufacturer.id, Manufacturer.name, both.c.total, both.c.plottable)
            .join(both, true())
            .where(named)
        )

    def vehicle_count(*extra: Any) -> Any:
        return select(func.count()).where(of_maker, *conditions, *extra).scalar_subquery()

    # SQLite has no LATERAL; two counts, each answered from an index alone, beat one pass
    # that tests every vehicle.
    return select(
        Manufacturer.id,
        Manufacturer.name,
        vehicle_count().label("total"),
        vehicle_count(has_both).label("plottable"),
    ).where(named)


@functools.lru_cache(maxsize=256)
def _points_statement(x_field: str, y_field: str, shape: FilterShape, thinned: bool) -> Select[Any]:
    """(maker id, id, x, y, label, electric[, mpg]) of the plottable matching vehicles of the
    makers in ``maker_ids``; ``thinned``, only those whose id is a multiple of ``stride``
    (the covering index carries the id, so the database skips the rest without reading them)."""
    x_column, y_column = AXIS_FIELDS[x_field], AXIS_FIELDS[y_field]
    mpg_column = [] if "combined_mpg" in (x_field, y_field) else [Vehicle.combined_mpg]
    stmt = (
        select(
            Vehicle.manufacturer_id,
            Vehicle.id,
            x_column,
            y_column,
            HOVER_LABEL,
            IS_ELECTRIC,
            *mpg_column,
        )
        .where(
            Vehicle.manufacturer_id.in_(bindparam("maker_ids", expanding=True)),
            *bound_conditions(shape),
            _has_both(x_field, y_field),
        )
        # Ties broken in the covering index's own order (ix_vehicles_plot), so for the
        # default axes the database reads the points already sorted.
        .order_by(
            Vehicle.manufacturer_id, x_column, y_column, Vehicle.year, Vehicle.model, Vehicle.id
        )
    )
    return stmt.where(Vehicle.id % bindparam("stride") == 0) if thinned else stmt


def _series(
    maker: Row[Any], rows: list[Row[Any]], share: int, x_field: str, y_field: str
) -> Series:
    """One maker's series from its rows, ``share`` of them picked evenly."""
    picked = [rows[i] for i in evenly_spaced(len(rows), share)]
    columns = list(zip(*picked, strict=True)) if picked else [()] * 7
    x = np.array(columns[2], dtype=np.float32)
    y = np.array(columns[3], dtype=np.float32)
    if "combined_mpg" in (x_field, y_field):
        mpg = x if x_field == "combined_mpg" else y
    else:
        mpg = np.array(columns[6], dtype=np.float32)  # None, a missing mpg, becomes NaN
    return Series(
        manufacturer=maker.name,
        ids=np.array(columns[1], dtype=np.int64),
        x=x,
        y=y,
        mpg=mpg,
        label=np.array(columns[4], dtype=object),  # fixed-width str would pad every label
        hidden=maker.total - maker.plottable,
        available=maker.plottable,
        electric=np.array([bool(e) for e in columns[5]], dtype=bool),
    )


def year_span(conn: Connection) -> tuple[int | None, int | None]:
    """The first and last model year in the store; None for an empty store."""
    first, last = conn.execute(select(func.min(Vehicle.year), func.max(Vehicle.year))).one()
    return first, last


def dataset_choices(conn: Connection) -> dict[str, DatasetChoices]:
    """Every dataset with vehicles, by slug, with what the dashboard offers for it."""
    axis_counts = [func.count(column) for column in AXIS_FIELDS.values()]
    datasets = conn.execute(
        select(Dataset.id, Dataset.slug, Dataset.name, Dataset.default_x, Dataset.default_y)
        .add_columns(func.count(Vehicle.id), *axis_counts)
        .join(Vehicle, Vehicle.dataset_id == Dataset.id)
        .group_by(Dataset.id)
        .order_by(Dataset.id)
    ).all()
    values: dict[int, dict[str, list[Any]]] = {row.id: {} for row in datasets}
    for name, column in CHOICE_FIELDS.items():
        found = select(Vehicle.dataset_id, column).where(column.is_not(None)).distinct()
        for dataset_id, value in conn.execute(found.order_by(column)):
            values[dataset_id].setdefault(name, []).append(value)
    choices = {}
    for row in datasets:
        x_field = row.default_x if row.default_x in AXIS_FIELDS else "horsepower"
        y_field = row.default_y if row.default_y in AXIS_FIELDS else "combined_mpg"
        plottable = func.count(case((_has_both(x_field, y_field), Vehicle.id)))
        makers = conn.execute(
            select(Manufacturer.name, plottable)
            .join(Vehicle, Vehicle.manufacturer_id == Manufacturer.id)
            .where(Vehicle.dataset_id == row.id)
            .group_by(Manufacturer.id, Manufacturer.name)
            .order_by(Manufacturer.name)
        ).all()
        choices[row.slug] = DatasetChoices(
            slug=row.slug,
            name=row.name,
            vehicles=row[5],
            default_x=x_field,
            default_y=y_field,
            axes=tuple(a for a, count in zip(AXIS_FIELDS, row[6:], strict=True) if count),
            values={name: tuple(values[row.id].get(name, ())) for name in CHOICE_FIELDS},
            manufacturers=tuple((name, count) for name, count in makers),
        )
    return choices


def vehicle_details(conn: Connection, vehicle_id: int) -> dict[str, Any] | None:
    """Every field of one vehicle, keyed as ``DETAIL_FIELDS``; None when there is no such id."""
    stmt = with_names(select(*vehicle_columns())).where(Vehicle.id == vehicle_id)
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
    if origin is None:
        return []
    horsepower, weight = origin
    complete = (
        Vehicle.horsepower.is_not(None)
        & Vehicle.weight.is_not(None)
        & Vehicle.combined_mpg.is_not(None)
    )
    hp_low, hp_high, weight_low, weight_high = conn.execute(
        select(
            func.min(Vehicle.horsepower),
            func.max(Vehicle.horsepower),
            func.min(Vehicle.weight),
            func.max(Vehicle.weight),
        ).where(complete)
    ).one()
    # Nothing to compare with: this vehicle lacks a dimension, or no vehicle has all three.
    if (
        horsepower is None
        or weight is None
        or hp_low is None
        or hp_high is None
        or weight_low is None
        or weight_high is None
    ):
        return []
    hp_span = float(hp_high - hp_low) or 1.0
    weight_span = float(weight_high - weight_low) or 1.0
    hp_gap = (Vehicle.horsepower - horsepower) / hp_span
    weight_gap = (Vehicle.weight - weight) / weight_span
    distance = (hp_gap * hp_gap + weight_gap * weight_gap).label("distance")
    nearest = (
        with_names(select(*vehicle_columns(), distance))
        .where(complete, Vehicle.id != vehicle_id)
        .order_by(distance, Vehicle.id)
        .limit(count)
        .subquery()
    )
    stmt = select(nearest).order_by(nearest.c.combined_mpg.desc(), nearest.c.distance, nearest.c.id)
    return [dict(row._mapping) for row in conn.execute(stmt)]
