"""Typed queries behind the exploration dashboard: series to plot, one vehicle, its peers.

``plot_series`` reads any two numeric fields as axes, for several manufacturers at once,
with every other condition from a ``VehicleFilter``: one statement counts each maker's
vehicles, one more reads the points.
"""

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    BigInteger,
    Connection,
    Row,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from models.api_queries import ROW_FIELDS, vehicle_columns, with_names
from models.filters import FilterShape, VehicleFilter, bound_conditions
from models.queries import MAX_MANUFACTURER_NAME
from models.summary import FilterValue, VehicleSummary
from models.vehicle import SAMPLE_KEYS, SAMPLE_MULTIPLIER, Dataset, Manufacturer, Vehicle

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
    of the budget (``share_budget``): that many of its points, the first in a fixed
    pseudo-random order of ids (``SAMPLE_ORDER``), so the sample is the same on every
    request and keeps each cloud's shape. ``Series.available`` says how many there were.

    When the filter names one dataset and nothing else, and the axes are the default
    chart's or the dataset's own, the counts come from the summary (``models.summary``).
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
    counted = _summary_counts(conn, rest, x_field, y_field, wanted)
    if counted is None:
        counts = _counts_statement(conn.dialect.name, x_field, y_field, shape)
        counted = list(conn.execute(counts, {**parameters, "names": wanted}))
    found = {row.name.lower(): row for row in counted}
    unknown = tuple(n for n in requested if n.lower() not in found)
    makers = list(dict.fromkeys(found[n.lower()] for n in requested if n.lower() in found))
    if not makers:
        return Selection(x_field, y_field, (), unknown)

    shares = share_budget([maker.plottable for maker in makers], budget)
    points: dict[int, list[Row[Any]]] = {maker.id: [] for maker in makers}
    whole = [m.id for m, share in zip(makers, shares, strict=True) if share >= m.plottable]
    if whole:  # every point of these fits in the budget
        stmt = _points_statement(x_field, y_field, shape)
        for row in conn.execute(stmt, {**parameters, "maker_ids": whole}).all():
            points[row[0]].append(row)
    for maker, share in zip(makers, shares, strict=True):
        if share < maker.plottable:
            values = {**parameters, "maker_id": maker.id, "share": share}
            points[maker.id] = list(_sample(conn, x_field, y_field, shape, values, maker.plottable))
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


def _summary_counts_statement(default_chart: bool) -> Select[Any]:
    """(id, name, total, plottable) of the makers ``names`` in the dataset ``slug``; on
    other axes than the default chart's, plottable is NULL unless ``x_field`` and
    ``y_field`` are the dataset's default axes."""
    if default_chart:
        plottable: Any = func.coalesce(VehicleSummary.plottable, 0)
    else:
        defaults = (Dataset.default_x == bindparam("x_field")) & (
            Dataset.default_y == bindparam("y_field")
        )
        plottable = case((defaults, func.coalesce(VehicleSummary.default_plottable, 0)))
    of_dataset = and_(
        VehicleSummary.manufacturer_id == Manufacturer.id,
        VehicleSummary.dataset_id == Dataset.id,
    )
    return (
        select(
            Manufacturer.id,
            Manufacturer.name,
            func.coalesce(VehicleSummary.vehicles, 0).label("total"),
            plottable.label("plottable"),
        )
        .select_from(Manufacturer)
        .join(Dataset, Dataset.slug == bindparam("slug"))
        .outerjoin(VehicleSummary, of_dataset)
        .where(func.lower(Manufacturer.name).in_(bindparam("names", expanding=True)))
    )


#: Built once, for the default chart's axes and for any other: every uncached figure of a
#: dataset's default view runs one, and building it cost more than running it.
SUMMARY_COUNTS = {default: _summary_counts_statement(default) for default in (True, False)}


def _summary_counts(
    conn: Connection, rest: VehicleFilter, x_field: str, y_field: str, wanted: list[str]
) -> list[Row[Any]] | None:
    """(id, name, total, plottable) of each maker in ``wanted`` from the summary, in one
    statement, when it holds them: ``rest`` names one dataset and nothing more, and the
    axes are the default chart's or that dataset's defaults. None otherwise."""
    if rest != VehicleFilter(datasets=rest.datasets) or len(set(rest.datasets)) != 1:
        return None
    default_chart = (x_field, y_field) == ("horsepower", "combined_mpg")
    params = {"slug": rest.datasets[0].strip(), "names": list(wanted)}
    if not default_chart:
        params.update(x_field=x_field, y_field=y_field)
    rows = list(conn.execute(SUMMARY_COUNTS[default_chart], params))
    if not rows or any(row.plottable is None for row in rows):
        return None
    return rows


def _point_columns(x_field: str, y_field: str) -> list[Any]:
    """(maker id, id, x, y, label, electric[, mpg]): a point as ``_series`` reads it."""
    x_column, y_column = AXIS_FIELDS[x_field], AXIS_FIELDS[y_field]
    mpg_column = [] if "combined_mpg" in (x_field, y_field) else [Vehicle.combined_mpg]
    return [
        Vehicle.manufacturer_id,
        Vehicle.id,
        x_column.label("x"),
        y_column.label("y"),
        HOVER_LABEL,
        IS_ELECTRIC.label("electric"),
        *(column.label("mpg") for column in mpg_column),
    ]


@functools.lru_cache(maxsize=256)
def _points_statement(x_field: str, y_field: str, shape: FilterShape) -> Select[Any]:
    """Every plottable matching vehicle of the makers in ``maker_ids``, as points."""
    x_column, y_column = AXIS_FIELDS[x_field], AXIS_FIELDS[y_field]
    return (
        select(*_point_columns(x_field, y_field))
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


class SampleKey(FunctionElement[int]):
    """A vehicle's place in ``SAMPLE_ORDER``: ``mod(id * 2654435761, 4294967296)``."""

    type = BigInteger()
    inherit_cache = True
    name = "sample_key"


@compiles(SampleKey)
def _sample_key(element: SampleKey, compiler: SQLCompiler, **kw: Any) -> str:
    # Spelled as ix_vehicles_sample spells it, for PostgreSQL to read the order off it.
    return f"mod({compiler.process(element.clauses, **kw)} * {SAMPLE_MULTIPLIER}, {SAMPLE_KEYS})"


@compiles(SampleKey, "sqlite")
def _sample_key_sqlite(element: SampleKey, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's mod() is a floating-point math function that not every build has: slower,
    # and inexact once id * 2654435761 passes 2**53. Its integer % is exact here.
    return f"({compiler.process(element.clauses, **kw)} * {SAMPLE_MULTIPLIER}) % {SAMPLE_KEYS}"


SAMPLE_KEY = SampleKey(Vehicle.id)
#: On SQLite the sample reads only the vehicles whose key falls below a bound expected to
#: let about this many times the share through, plus ``SAMPLE_SLACK``; the first ``share``
#: of them in key order are the first of all the maker's, so SQLite sorts a few thousand
#: keys instead of every vehicle a big maker has. (PostgreSQL walks ix_vehicles_sample,
#: where such a bound made its planner scan ix_vehicles_plot instead.)
SAMPLE_OVERSHOOT = 1.1
SAMPLE_SLACK = 64


def sample_bound(share: int, available: int) -> int:
    """The key below which ``share`` of ``available`` vehicles are expected to fall, with
    room to spare (``SAMPLE_OVERSHOOT``)."""
    expected = share * SAMPLE_OVERSHOOT + SAMPLE_SLACK
    return min(SAMPLE_KEYS, math.ceil(SAMPLE_KEYS * expected / max(available, 1)))


def _sample(
    conn: Connection,
    x_field: str,
    y_field: str,
    shape: FilterShape,
    values: dict[str, Any],
    available: int,
) -> Sequence[Row[Any]]:
    """The first ``values["share"]`` of the ``available`` points of maker
    ``values["maker_id"]`` in ``SAMPLE_ORDER``.

    PostgreSQL reads them off ix_vehicles_sample: a sample that costs its size, however
    many vehicles the maker has. SQLite has no such index; it reads ix_vehicles_plot and
    sorts only the keys below ``sample_bound``, and reads again without the bound when too
    few fall below it.
    """
    if conn.dialect.name == "postgresql":
        return conn.execute(_sample_statement(x_field, y_field, shape, bounded=False), values).all()
    stmt = _sample_statement(x_field, y_field, shape, bounded=True)
    below = sample_bound(values["share"], available)
    rows = conn.execute(stmt, {**values, "below": below}).all()
    if len(rows) < values["share"] and below < SAMPLE_KEYS:
        rows = conn.execute(stmt, {**values, "below": SAMPLE_KEYS}).all()
    return rows


@functools.lru_cache(maxsize=256)
def _sample_statement(
    x_field: str, y_field: str, shape: FilterShape, *, bounded: bool
) -> Select[Any]:
    """The first ``share`` plottable matching vehicles of maker ``maker_id`` in
    ``SAMPLE_ORDER`` (``bounded``: among those whose key is below ``below``), as points in
    plotted order."""
    below = [bindparam("below", type_=BigInteger()) > SAMPLE_KEY] if bounded else []
    sample = (
        select(*_point_columns(x_field, y_field), Vehicle.year, Vehicle.model)
        .where(
            Vehicle.manufacturer_id == bindparam("maker_id"),
            *below,
            *bound_conditions(shape),
            _has_both(x_field, y_field),
        )
        .order_by(SAMPLE_KEY)
        .limit(bindparam("share"))
        .subquery("sample")
    )
    columns = [c for c in sample.c if c.key not in ("year", "model")]
    c = sample.c
    return select(*columns).order_by(c.x, c.y, c.year, c.model, c.id)


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
    """Every dataset with vehicles, by slug, with what the dashboard offers for it.

    Three statements over the summary tables (``models.summary``), none over the vehicles.
    """
    summed = [func.sum(getattr(VehicleSummary, f"has_{axis}")) for axis in AXIS_FIELDS]
    datasets = conn.execute(
        select(Dataset.id, Dataset.slug, Dataset.name, Dataset.default_x, Dataset.default_y)
        .add_columns(func.sum(VehicleSummary.vehicles), *summed)
        .join(VehicleSummary, VehicleSummary.dataset_id == Dataset.id)
        .group_by(Dataset.id)
        .having(func.sum(VehicleSummary.vehicles) > 0)
        .order_by(Dataset.id)
    ).all()
    values: dict[int, dict[str, list[Any]]] = {row.id: {} for row in datasets}
    found = select(FilterValue.dataset_id, FilterValue.field, FilterValue.value).where(
        FilterValue.vehicles > 0
    )
    for dataset_id, name, value in conn.execute(found):
        if dataset_id in values and name in CHOICE_FIELDS:
            values[dataset_id].setdefault(name, []).append(
                int(value) if name == "cylinders" else value
            )
    makers: dict[int, list[tuple[str, int]]] = {row.id: [] for row in datasets}
    stmt = (
        select(VehicleSummary.dataset_id, Manufacturer.name, VehicleSummary.default_plottable)
        .join(Manufacturer, Manufacturer.id == VehicleSummary.manufacturer_id)
        .where(VehicleSummary.vehicles > 0)
        .order_by(VehicleSummary.dataset_id, Manufacturer.name)
    )
    for dataset_id, name, plottable in conn.execute(stmt):
        if dataset_id in makers:
            makers[dataset_id].append((name, plottable))
    choices = {}
    for row in datasets:
        choices[row.slug] = DatasetChoices(
            slug=row.slug,
            name=row.name,
            vehicles=row[5],
            default_x=row.default_x if row.default_x in AXIS_FIELDS else "horsepower",
            default_y=row.default_y if row.default_y in AXIS_FIELDS else "combined_mpg",
            axes=tuple(a for a, count in zip(AXIS_FIELDS, row[6:], strict=True) if count),
            values={name: tuple(sorted(values[row.id].get(name, ()))) for name in CHOICE_FIELDS},
            manufacturers=tuple(makers[row.id]),
        )
    return choices


def unplottable_manufacturers(conn: Connection, dataset: str) -> set[str]:
    """The dataset's manufacturers with nothing plottable on its default axes, in lower
    case: those the dashboard offers disabled (``dataset_choices``). One statement over
    the summary."""
    stmt = (
        select(Manufacturer.name)
        .join(VehicleSummary, VehicleSummary.manufacturer_id == Manufacturer.id)
        .join(Dataset, Dataset.id == VehicleSummary.dataset_id)
        .where(
            Dataset.slug == dataset,
            VehicleSummary.vehicles > 0,
            func.coalesce(VehicleSummary.default_plottable, 0) == 0,
        )
    )
    return {name.lower() for name in conn.scalars(stmt)}


def vehicle_details(conn: Connection, vehicle_id: int) -> dict[str, Any] | None:
    """Every field of one vehicle, keyed as ``DETAIL_FIELDS``; None when there is no such id."""
    stmt = with_names(select(*vehicle_columns())).where(Vehicle.id == vehicle_id)
    row = conn.execute(stmt).first()
    return None if row is None else dict(row._mapping)


#: Neighbours by horsepower read on each side at first; the window widens until it
#: provably holds the nearest vehicles.
SIMILAR_WINDOW = 1000


def similar_vehicles(
    conn: Connection, vehicle_id: int, count: int = SIMILAR_COUNT
) -> list[dict[str, Any]]:
    """The ``count`` vehicles nearest in horsepower and weight, best mpg first.

    Both dimensions are scaled by their range across the store, so a 10 hp gap and a
    10 lb gap do not weigh the same. Only vehicles with horsepower, weight and mpg count.

    Reads a bounded window, not the store: the spans come from the ends of the horsepower
    and weight indexes, and the candidates are the ``SIMILAR_WINDOW`` vehicles nearest in
    horsepower on each side (off ix_vehicles_sort_horsepower). A vehicle outside that
    window is further in horsepower alone than the window's edge, so once the edge is
    further than the ``count``-th candidate, no outsider can be nearer; until then the
    window grows fourfold.
    """
    origin = conn.execute(
        select(Vehicle.horsepower, Vehicle.weight).where(Vehicle.id == vehicle_id)
    ).first()
    if origin is None or origin.horsepower is None or origin.weight is None:
        return []
    horsepower, weight = float(origin.horsepower), float(origin.weight)
    complete = (
        Vehicle.horsepower.is_not(None)
        & Vehicle.weight.is_not(None)
        & Vehicle.combined_mpg.is_not(None)
    )
    # One statement per end, so each is a single index probe on PostgreSQL and SQLite.
    ends = [
        conn.scalar(select(aggregate(column)).where(complete))
        for column in (Vehicle.horsepower, Vehicle.weight)
        for aggregate in (func.min, func.max)
    ]
    hp_low, hp_high, weight_low, weight_high = ends
    if hp_low is None or hp_high is None or weight_low is None or weight_high is None:
        return []  # no vehicle has all three
    hp_span = float(hp_high - hp_low) or 1.0
    weight_span = float(weight_high - weight_low) or 1.0
    # Candidates as (id, horsepower, weight, mpg): on PostgreSQL the horsepower index
    # carries all four, so a window is read from the index alone. The database ranks them,
    # so Python sees ``count`` rows a window, not the window.
    neighbours = select(Vehicle.id, Vehicle.horsepower, Vehicle.weight, Vehicle.combined_mpg)
    neighbours = neighbours.where(complete, Vehicle.id != vehicle_id)
    window = SIMILAR_WINDOW
    while True:
        below = (
            neighbours.where(Vehicle.horsepower <= horsepower)
            .order_by(Vehicle.horsepower.desc(), Vehicle.id.desc())
            .limit(window)
            .subquery()
        )
        above = (
            neighbours.where(Vehicle.horsepower > horsepower)
            .order_by(Vehicle.horsepower, Vehicle.id)
            .limit(window)
            .subquery()
        )
        both = union_all(select(below), select(above)).subquery()
        hp_gap = (both.c.horsepower - horsepower) / hp_span
        weight_gap = (both.c.weight - weight) / weight_span
        distance = (hp_gap * hp_gap + weight_gap * weight_gap).label("distance")
        nearest = conn.execute(
            select(distance, both.c.id, both.c.combined_mpg)
            .order_by(distance, both.c.id)
            .limit(count)
        ).all()
        edges = conn.execute(
            select(
                select(func.count()).select_from(below).scalar_subquery(),
                select(func.min(below.c.horsepower)).scalar_subquery(),
                select(func.count()).select_from(above).scalar_subquery(),
                select(func.max(above.c.horsepower)).scalar_subquery(),
            )
        ).one()
        # How far, in scaled horsepower alone, the nearest vehicle left out could be.
        reach = min(
            (horsepower - edges[1]) / hp_span if edges[0] == window else math.inf,
            (edges[3] - horsepower) / hp_span if edges[2] == window else math.inf,
        )
        if len(nearest) < count and reach == math.inf:
            break  # fewer candidates than asked for in the whole store
        if len(nearest) == count and reach * reach > nearest[-1].distance:
            break
        window *= 4
    picked = sorted(nearest, key=lambda item: (-item.combined_mpg, item.distance, item.id))
    rows = {
        row.id: row
        for row in conn.execute(
            with_names(select(*vehicle_columns())).where(
                Vehicle.id.in_([item.id for item in picked])
            )
        )
    }
    return [dict(rows[item.id]._mapping) | {"distance": item.distance} for item in picked]
