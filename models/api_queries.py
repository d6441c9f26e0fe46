"""Typed queries behind the JSON API: sorted keyset pages, single vehicles, grouped stats.

Every query takes a ``VehicleFilter``, so the API filters exactly as the dashboard and the
exports do. Sorting puts NULLs last on every dialect and breaks ties on ``id``; the keyset
cursor continues after the last row seen, so a walk visits every row once even while rows
are being added.
"""

import base64
import binascii
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    func,
    or_,
    select,
)

from models.filters import NUMERIC_FIELDS, VehicleFilter, with_manufacturer_ids
from models.summary import VehicleSummary
from models.validation import MAX_ID, VEHICLE_FIELDS, is_storable_text, is_stored_id
from models.vehicle import Dataset, Manufacturer, Vehicle

#: The fields every vehicle row carries, in the order the API and CSV show them: the id,
#: the fields a vehicle is written with, and whether its combined figure was derived.
ROW_FIELDS: tuple[str, ...] = ("id", *VEHICLE_FIELDS, "combined_mpg_derived")

#: Text fields, sorted byte-wise so SQLite and PostgreSQL agree whatever the locale.
TEXT_SORT_FIELDS: dict[str, Any] = {
    "dataset": Dataset.slug,
    "manufacturer": Manufacturer.name,
    "model": Vehicle.model,
    "vehicle_class": Vehicle.vehicle_class,
    "powertrain": Vehicle.powertrain,
    "fuel_type": Vehicle.fuel_type,
    "drive": Vehicle.drive,
    "transmission": Vehicle.transmission,
    "origin": Vehicle.origin,
    "source_id": Vehicle.source_id,
}

SORT_FIELDS: tuple[str, ...] = ("id", *TEXT_SORT_FIELDS, *NUMERIC_FIELDS)
#: Every value ``sort`` accepts: a field, or ``-field`` for descending.
SORT_CHOICES: tuple[str, ...] = tuple(
    choice for field in SORT_FIELDS for choice in (field, f"-{field}")
)

GROUP_FIELDS: dict[str, Any] = {
    "dataset": Dataset.slug,
    "manufacturer": Manufacturer.name,
    "origin": Vehicle.origin,
    "fuel_type": Vehicle.fuel_type,
    "vehicle_class": Vehicle.vehicle_class,
    "year": Vehicle.year,
    "cylinders": Vehicle.cylinders,
}
GroupBy = Literal[
    "dataset", "manufacturer", "origin", "fuel_type", "vehicle_class", "year", "cylinders"
]

#: Means are rounded to this many decimals, so both dialects print the same numbers.
MEAN_DECIMALS = 2


class BadCursor(ValueError):
    """A cursor that this API did not issue, or that was issued for another sort."""


@dataclass(frozen=True, slots=True)
class Sort:
    """A sort field and direction; ties always break on ascending ``id``."""

    field: str = "id"
    descending: bool = False

    @classmethod
    def parse(cls, text: str | None) -> "Sort":
        """``"year"`` or ``"-year"`` as a Sort; raises ValueError for an unknown field."""
        if not text:
            return cls()
        descending = text.startswith("-")
        field = text.removeprefix("-")
        if field not in SORT_FIELDS:
            raise ValueError(f"unknown sort field {field!r}; use one of {', '.join(SORT_FIELDS)}")
        return cls(field, descending)

    def __str__(self) -> str:
        return f"-{self.field}" if self.descending else self.field


#: Fields stored in other tables, by the column that names them.
NAMED_BY: dict[str, Any] = {"manufacturer": Manufacturer.name, "dataset": Dataset.slug}


def vehicle_columns() -> list[Any]:
    """Every field of a vehicle as select columns, in ``ROW_FIELDS`` order."""
    return [
        NAMED_BY[name].label(name) if name in NAMED_BY else getattr(Vehicle, name)
        for name in ROW_FIELDS
    ]


def with_names(stmt: Select[Any]) -> Select[Any]:
    """``stmt`` joined to the tables that hold the vehicle's manufacturer and dataset."""
    return stmt.join(Manufacturer, Manufacturer.id == Vehicle.manufacturer_id).join(
        Dataset, Dataset.id == Vehicle.dataset_id
    )


def select_vehicles(vehicle_filter: VehicleFilter) -> Select[Any]:
    """Every matching vehicle with its manufacturer's name, unordered."""
    return vehicle_filter.apply(with_names(select(*vehicle_columns())))


def _byte_order(conn: Connection, column: Any) -> Any:
    # PostgreSQL sorts text by the database locale; "C" is byte order, like SQLite.
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def _sort_column(conn: Connection, sort: Sort) -> Any:
    if sort.field == "id":
        return Vehicle.id
    if sort.field in TEXT_SORT_FIELDS:
        return _byte_order(conn, TEXT_SORT_FIELDS[sort.field])
    return NUMERIC_FIELDS[sort.field]


def _order_by(conn: Connection, sort: Sort) -> list[Any]:
    column = _sort_column(conn, sort)
    if sort.field == "id":
        return [column.desc() if sort.descending else column.asc()]
    direction = column.desc() if sort.descending else column.asc()
    # NULLs last in both directions, spelled out because the dialects' defaults differ; in
    # the words of the sort indexes (ix_vehicles_sort_*), so PostgreSQL reads a page of a
    # sort on an indexed field straight off its index.
    return [direction.nulls_last(), Vehicle.id.asc()]


def _after(
    conn: Connection, sort: Sort, value: Any, last_id: int
) -> tuple[ColumnElement[bool], ColumnElement[bool] | None]:
    """Rows that come strictly after (value, last_id) in ``sort`` order, as (the rows up to
    the NULLs, the NULLs after them or None).

    Two conditions, not one with an OR: each is a range of a sort index, so a page deep
    into the list starts where the cursor points instead of skipping every row before.
    """
    column = _sort_column(conn, sort)
    if sort.field == "id":
        return (Vehicle.id < last_id if sort.descending else Vehicle.id > last_id), None
    if value is None:
        return and_(column.is_(None), Vehicle.id > last_id), None
    # ``column <= value`` (or >=) repeats the OR's bound so that the index can seek to it.
    reached = column <= value if sort.descending else column >= value
    return and_(reached, or_(column != value, Vehicle.id > last_id)), column.is_(None)


def encode_cursor(sort: Sort, row: Any) -> str:
    """An opaque token naming the sort and the last row a page held."""
    value = row.id if sort.field == "id" else getattr(row, sort.field)
    raw = json.dumps([str(sort), value, row.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, sort: Sort) -> tuple[Any, int]:
    """(sort value, id) from a cursor; BadCursor when it is not one of ours for ``sort``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        sort_text, value, last_id = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as error:
        raise BadCursor("cursor is not one this API issued") from error
    if sort_text != str(sort):
        raise BadCursor(f"cursor was issued for sort={sort_text}, not sort={sort}")
    if not _is_id(last_id) or not (value is None or _fits(sort, value)):
        raise BadCursor("cursor is not one this API issued")
    return value, last_id


def _is_id(value: Any) -> bool:
    # Ids are 32-bit: PostgreSQL refuses to compare an int4 column with a larger parameter.
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


def _fits(sort: Sort, value: Any) -> bool:
    """Whether ``value`` is a value the sort's column could hold (and the database bind)."""
    if sort.field == "id":
        return _is_id(value)
    if sort.field in TEXT_SORT_FIELDS:
        return isinstance(value, str) and is_storable_text(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return abs(value) <= MAX_ID
    return math.isfinite(value)  # json.loads takes NaN and Infinity


#: A ``q=`` search counts at most this many matches for its total: counting every match of
#: a substring visits every matching row, which no index makes cheap at millions of rows.
SEARCH_COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class VehiclePage:
    """One page of vehicles, the filtered total, and the cursor for the next page.

    ``total_capped`` says that the count stopped at the search's cap, so ``total`` is a
    lower bound (the cap) rather than the exact number of matches.
    """

    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    total_capped: bool = False


def summary_rows(vehicle_filter: VehicleFilter) -> Select[Any] | None:
    """The summary rows (``models.summary``) that add up to the filter's vehicles, when the
    filter names no more than manufacturers (as ids) and datasets; None otherwise."""
    names_only = VehicleFilter(
        datasets=vehicle_filter.datasets, manufacturer_ids=vehicle_filter.manufacturer_ids
    )
    if vehicle_filter != names_only:
        return None
    rows = select(VehicleSummary).where(VehicleSummary.vehicles > 0)
    if vehicle_filter.manufacturer_ids is not None:
        rows = rows.where(VehicleSummary.manufacturer_id.in_(vehicle_filter.manufacturer_ids))
    if vehicle_filter.datasets:
        slugs = {slug.strip() for slug in vehicle_filter.datasets}
        rows = rows.where(
            VehicleSummary.dataset_id.in_(select(Dataset.id).where(Dataset.slug.in_(slugs)))
        )
    return rows


def count_vehicles(conn: Connection, vehicle_filter: VehicleFilter) -> int:
    """How many vehicles the filter lets through: from the summary when it can say."""
    vehicle_filter = with_manufacturer_ids(conn, vehicle_filter)
    rows = summary_rows(vehicle_filter)
    if rows is not None:
        summed = select(func.coalesce(func.sum(rows.subquery().c.vehicles), 0))
        return conn.scalar(summed) or 0
    return conn.scalar(vehicle_filter.apply(select(func.count()).select_from(Vehicle))) or 0


def count_vehicles_upto(
    conn: Connection, vehicle_filter: VehicleFilter, cap: int
) -> tuple[int, bool]:
    """(how many vehicles the filter lets through, whether that count was cut at ``cap``).

    A filter with ``q`` counts at most ``cap`` + 1 matching rows (a LIMITed subquery), so
    the count stops early however many rows match; when it is cut, the total given is
    ``cap`` and the second value is True. Every other filter is counted exactly.
    """
    if not vehicle_filter.q:
        return count_vehicles(conn, vehicle_filter), False
    vehicle_filter = with_manufacturer_ids(conn, vehicle_filter)
    matches = vehicle_filter.apply(select(Vehicle.id)).limit(cap + 1).subquery()
    counted = conn.scalar(select(func.count()).select_from(matches)) or 0
    return min(counted, cap), counted > cap


def vehicle_page(
    conn: Connection,
    vehicle_filter: VehicleFilter,
    sort: Sort,
    limit: int,
    cursor: str | None = None,
    count_cap: int = SEARCH_COUNT_CAP,
) -> VehiclePage:
    """Up to ``limit`` vehicles after ``cursor`` in ``sort`` order: two statements, a third
    to look the manufacturers up when the filter names some, and one more for the rows
    without a value when a page reaches them. A ``q=`` search's total counts at most
    ``count_cap`` matches (``count_vehicles_upto``)."""
    vehicle_filter = with_manufacturer_ids(conn, vehicle_filter)
    ordered = select_vehicles(vehicle_filter).order_by(*_order_by(conn, sort))
    stmt, nulls = ordered, None
    if cursor:
        value, last_id = decode_cursor(cursor, sort)
        values, nulls = _after(conn, sort, value, last_id)
        stmt = ordered.where(values)
    rows = list(conn.execute(stmt.limit(limit + 1)).all())
    if nulls is not None and len(rows) <= limit:
        rows += conn.execute(ordered.where(nulls).limit(limit + 1 - len(rows))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    total, capped = count_vehicles_upto(conn, vehicle_filter, count_cap)
    return VehiclePage(
        items=[row._asdict() for row in rows],
        total=total,
        next_cursor=encode_cursor(sort, rows[-1]) if more else None,
        total_capped=capped,
    )


def get_vehicle(conn: Connection, vehicle_id: int) -> dict[str, Any] | None:
    """One vehicle by id, or None."""
    if not is_stored_id(vehicle_id):
        return None
    stmt = select_vehicles(VehicleFilter()).where(Vehicle.id == vehicle_id)
    row = conn.execute(stmt).first()
    return None if row is None else row._asdict()


def iter_vehicle_rows(
    conn: Connection,
    vehicle_filter: VehicleFilter,
    sort: Sort,
    batch_size: int = 1000,
) -> Iterator[list[tuple[Any, ...]]]:
    """Every filtered vehicle in ``sort`` order, in batches, over a server-side cursor.

    Only one batch is in memory at a time, however many rows match.
    """
    stmt = select_vehicles(with_manufacturer_ids(conn, vehicle_filter)).order_by(
        *_order_by(conn, sort)
    )
    result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(stmt)
    for partition in result.partitions():
        yield [tuple(row) for row in partition]


@dataclass(frozen=True, slots=True)
class GroupStats:
    """Count plus mean/min/max of mpg and horsepower for one group of vehicles."""

    key: str | int | None
    count: int
    mpg_mean: float | None
    mpg_min: float | None
    mpg_max: float | None
    horsepower_mean: float | None
    horsepower_min: float | None
    horsepower_max: float | None


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), MEAN_DECIMALS)


def _plain(value: Any) -> float | None:
    return None if value is None else float(value)


def _group_stats(row: Any) -> GroupStats:
    return GroupStats(
        key=row[0],
        count=row[1],
        mpg_mean=_rounded(row[2]),
        mpg_min=_plain(row[3]),
        mpg_max=_plain(row[4]),
        horsepower_mean=_rounded(row[5]),
        horsepower_min=_plain(row[6]),
        horsepower_max=_plain(row[7]),
    )


def _summary_stats(conn: Connection, rows: Select[Any], group_by: GroupBy) -> list[GroupStats]:
    """``vehicle_stats`` by manufacturer or dataset from the summary ``rows``: counts and
    sums from the rows, each (dataset, maker)'s extremes from the ends of its indexes."""

    def end(aggregate: Any, column: Any) -> Any:
        of_pair = (Vehicle.dataset_id == VehicleSummary.dataset_id) & (
            Vehicle.manufacturer_id == VehicleSummary.manufacturer_id
        )
        return select(aggregate(column)).where(of_pair).scalar_subquery()

    pairs = (
        rows.with_only_columns(
            VehicleSummary.dataset_id,
            VehicleSummary.manufacturer_id,
            VehicleSummary.vehicles,
            VehicleSummary.has_combined_mpg,
            VehicleSummary.combined_mpg_sum,
            VehicleSummary.has_horsepower,
            VehicleSummary.horsepower_sum,
            end(func.min, Vehicle.combined_mpg).label("mpg_min"),
            end(func.max, Vehicle.combined_mpg).label("mpg_max"),
            end(func.min, Vehicle.horsepower).label("hp_min"),
            end(func.max, Vehicle.horsepower).label("hp_max"),
        )
    ).subquery()
    key = GROUP_FIELDS[group_by]
    owner = (
        (Manufacturer, Manufacturer.id == pairs.c.manufacturer_id)
        if group_by == "manufacturer"
        else (Dataset, Dataset.id == pairs.c.dataset_id)
    )
    stmt = (
        select(
            key,
            func.sum(pairs.c.vehicles),
            func.sum(pairs.c.combined_mpg_sum) / func.nullif(func.sum(pairs.c.has_combined_mpg), 0),
            func.min(pairs.c.mpg_min),
            func.max(pairs.c.mpg_max),
            func.sum(pairs.c.horsepower_sum) / func.nullif(func.sum(pairs.c.has_horsepower), 0),
            func.min(pairs.c.hp_min),
            func.max(pairs.c.hp_max),
        )
        .select_from(pairs)
        .join(*owner)
        .group_by(key)
        .order_by(_byte_order(conn, key))
    )
    return [_group_stats(row) for row in conn.execute(stmt)]


def vehicle_stats(
    conn: Connection, vehicle_filter: VehicleFilter, group_by: GroupBy
) -> list[GroupStats]:
    """Per-group statistics of the filtered vehicles, groups in key order, NULL key last.

    By manufacturer or dataset, over vehicles filtered by no more than those, they come
    from the summary and reads of each maker's extremes off its indexes.
    """
    if group_by in ("manufacturer", "dataset"):
        rows = summary_rows(with_manufacturer_ids(conn, vehicle_filter))
        if rows is not None:
            return _summary_stats(conn, rows, group_by)
    key = GROUP_FIELDS[group_by]
    stmt = with_names(
        select(
            key.label("key"),
            func.count(Vehicle.id),
            func.avg(Vehicle.combined_mpg),
            func.min(Vehicle.combined_mpg),
            func.max(Vehicle.combined_mpg),
            func.avg(Vehicle.horsepower),
            func.min(Vehicle.horsepower),
            func.max(Vehicle.horsepower),
        )
    ).group_by(key)
    order_key = key if group_by in ("year", "cylinders") else _byte_order(conn, key)
    stmt = vehicle_filter.apply(stmt).order_by(key.is_(None).asc(), order_key.asc())
    return [_group_stats(row) for row in conn.execute(stmt)]


__all__ = [
    "GROUP_FIELDS",
    "ROW_FIELDS",
    "SEARCH_COUNT_CAP",
    "SORT_CHOICES",
    "SORT_FIELDS",
    "BadCursor",
    "GroupStats",
    "Sort",
    "VehiclePage",
    "count_vehicles",
    "count_vehicles_upto",
    "decode_cursor",
    "encode_cursor",
    "get_vehicle",
    "iter_vehicle_rows",
    "select_vehicles",
    "vehicle_columns",
    "vehicle_page",
    "vehicle_stats",
]
