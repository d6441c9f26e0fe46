"""Counts the pages, the dashboard and the API show, kept up to date as writes happen.

``vehicle_summary`` holds one row per (dataset, manufacturer): how many vehicles, how many
have each axis field, how many are plottable on the default chart (horsepower and mpg) and
on the dataset's default axes, and the sums behind mean mpg and horsepower. Its ``version``
goes up with every write that touches the pair, so a cached figure can be keyed by the
versions of exactly the vehicles it shows. ``vehicle_filter_values`` counts each dataset's
vehicles per filter value (origin, cylinders, fuel type, ...), so the filters offer only
values some vehicle has, without a DISTINCT over the whole table.

Why a table kept by the writers, rather than values cached per data version: a summary
row changes in the transaction that changes the vehicles, so readers never see a count
that disagrees with the rows, on any worker, and no request ever recomputes anything over
the whole table (a cache miss after an import would).

How the writers keep it: a delta is counted from the rows themselves, in SQL: a write
locks the vehicles it changes, counts them out, changes them and counts them back in
(``tracked``; ``added`` counts new ones in), so the delta is exactly what the write did.
The deltas are gathered in memory per connection and transaction, summed per key, and
written once, at the end of the transaction, just before COMMIT: ``count = count + delta``
rows in key order, in one statement per table, which both databases apply atomically under
concurrent writers (PostgreSQL's ``ON CONFLICT DO UPDATE`` takes the row lock and reads
the latest committed count; SQLite has one writer at a time).

Why at commit, not as each batch is written: a summary row's lock is held from the moment
it is written until the transaction ends. Written batch by batch, a long import of one
maker held that maker's rows for the whole import, so every edit of the maker waited (and
answered 503 after the statement timeout), and two large writes reaching several makers in
different orders deadlocked. Written at commit, the rows are held for the commit only, and
every writer takes them in the same (key) order.

The hook is SQLAlchemy's ``ConnectionEvents.commit``, which runs on the connection inside
its transaction, before the DBAPI COMMIT, for Core transactions (``engine.begin()``,
``connection.begin()``) and for the ORM alike: a ``Session`` commits through its
connection, after its last flush. (``SessionEvents.before_commit`` runs before that last
flush, and never for Core.) A failure there fails the commit; SQLAlchemy has by then
marked the transaction ended and would issue no ROLLBACK, so the hook invalidates the
connection, whose closing ends the transaction. Counts for a maker or dataset the
transaction deleted are dropped (their rows went with them). A rollback drops the
deltas, a savepoint keeps a copy that its rollback restores, and they belong to the
``Connection`` object, which no later checkout of the pooled DBAPI connection shares. A
reader that wants its own transaction's counts calls ``flush`` first; no request path
reads the summary inside a write.

Every write path in ``models`` calls in here: editing, dataset editing, the importer and
seeding; ORM flushes of vehicles are counted by session hooks. A write made outside them
(raw SQL, an older release during a rolling deploy) leaves the summary behind;
``rebuild`` recomputes it from the vehicles.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    BigInteger,
    Connection,
    Float,
    ForeignKey,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.db import Model
from models.validation import MAX_LABEL_LENGTH
from models.vehicle import Dataset, Manufacturer, Vehicle

#: Fields the dashboard can put on an axis; the summary counts the vehicles with each.
AXES: tuple[str, ...] = (
    "horsepower",
    "weight",
    "displacement",
    "acceleration",
    "year",
    "city_mpg",
    "highway_mpg",
    "combined_mpg",
)

#: The filters whose values the dashboard offers, each with the column it counts.
FILTER_COLUMNS: dict[str, Any] = {
    "origins": Vehicle.origin,
    "cylinders": Vehicle.cylinders,
    "fuel_types": Vehicle.fuel_type,
    "vehicle_classes": Vehicle.vehicle_class,
    "drives": Vehicle.drive,
    "powertrains": Vehicle.powertrain,
}

#: Vehicle ids per statement when counting a write's rows (PostgreSQL binds at most 65,535).
ID_CHUNK = 5000


class VehicleSummary(Model):
    """What one manufacturer's vehicles in one dataset add up to."""

    __tablename__ = "vehicle_summary"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    manufacturer_id: Mapped[int] = mapped_column(
        ForeignKey("manufacturers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    vehicles: Mapped[int] = mapped_column(Integer, default=0)
    #: With horsepower and combined mpg: plottable on the default chart.
    plottable: Mapped[int] = mapped_column(Integer, default=0)
    #: With both of the dataset's default axes.
    default_plottable: Mapped[int] = mapped_column(Integer, default=0)
    has_horsepower: Mapped[int] = mapped_column(Integer, default=0)
    has_weight: Mapped[int] = mapped_column(Integer, default=0)
    has_displacement: Mapped[int] = mapped_column(Integer, default=0)
    has_acceleration: Mapped[int] = mapped_column(Integer, default=0)
    has_year: Mapped[int] = mapped_column(Integer, default=0)
    has_city_mpg: Mapped[int] = mapped_column(Integer, default=0)
    has_highway_mpg: Mapped[int] = mapped_column(Integer, default=0)
    has_combined_mpg: Mapped[int] = mapped_column(Integer, default=0)
    horsepower_sum: Mapped[float] = mapped_column(Float, default=0.0)
    combined_mpg_sum: Mapped[float] = mapped_column(Float, default=0.0)
    #: One more with every write that touches these vehicles or renames their maker.
    version: Mapped[int] = mapped_column(BigInteger, default=1)


class FilterValue(Model):
    """How many of a dataset's vehicles have one value of one filter field."""

    __tablename__ = "vehicle_filter_values"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    #: A key of ``FILTER_COLUMNS``.
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: The value as text (cylinders too).
    value: Mapped[str] = mapped_column(String(MAX_LABEL_LENGTH), primary_key=True)
    vehicles: Mapped[int] = mapped_column(Integer, default=0)


#: The summary's counted columns, in the order ``_summary_select`` produces them.
COUNTED: tuple[str, ...] = (
    "vehicles",
    "plottable",
    "default_plottable",
    *(f"has_{axis}" for axis in AXES),
    "horsepower_sum",
    "combined_mpg_sum",
)


def _default_axis(which: Any, fallback: Any) -> Any:
    """A vehicle's value on its dataset's default axis ``which`` (a Dataset column);
    ``fallback``'s for an axis the dashboard does not know (as it falls back)."""
    return case(*((which == axis, getattr(Vehicle, axis)) for axis in AXES), else_=fallback)


def _summary_select(where: Any, sign: int) -> Select[Any]:
    """(dataset, manufacturer, counts...) of the vehicles ``where`` selects, times ``sign``."""

    def counted(condition: Any) -> Any:
        return sign * func.count(case((condition, Vehicle.id)))

    both_defaults = and_(
        _default_axis(Dataset.default_x, Vehicle.horsepower).is_not(None),
        _default_axis(Dataset.default_y, Vehicle.combined_mpg).is_not(None),
    )
    return (
        select(
            Vehicle.dataset_id,
            Vehicle.manufacturer_id,
            sign * func.count(Vehicle.id),
            counted(Vehicle.horsepower.is_not(None) & Vehicle.combined_mpg.is_not(None)),
            counted(both_defaults),
            *(sign * func.count(getattr(Vehicle, axis)) for axis in AXES),
            sign * func.coalesce(func.sum(Vehicle.horsepower), 0.0),
            sign * func.coalesce(func.sum(Vehicle.combined_mpg), 0.0),
        )
        .join(Dataset, Dataset.id == Vehicle.dataset_id)
        .where(where)
        .group_by(Vehicle.dataset_id, Vehicle.manufacturer_id)
        # Rows are written in key order, so concurrent writers lock them in one order.
        .order_by(Vehicle.dataset_id, Vehicle.manufacturer_id)
    )


def _values_select(where: Any, sign: int) -> Any:
    """(dataset, field, value, count times ``sign``) of the vehicles ``where`` selects."""
    return union_all(
        *(
            select(
                Vehicle.dataset_id,
                literal(name, String(32)),
                cast(column, String(MAX_LABEL_LENGTH)),
                sign * func.count(),
            )
            .where(where, column.is_not(None))
            .group_by(Vehicle.dataset_id, column)
            for name, column in FILTER_COLUMNS.items()
        )
    )


def _insert(conn: Connection, table: Any) -> Any:
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[conn.dialect.name]
    return dialect.insert(table)


def _upsert_rows(conn: Connection, rows: Select[Any] | None = None) -> Any:
    """Add counts to the summary (``rows`` of (dataset, manufacturer, counts...), else the
    parameters), creating rows as needed; every row touched gets a new version."""
    stmt = _insert(conn, VehicleSummary)
    if rows is not None:
        stmt = stmt.from_select(["dataset_id", "manufacturer_id", *COUNTED], rows)
    table = VehicleSummary.__table__.c
    return stmt.on_conflict_do_update(
        index_elements=["dataset_id", "manufacturer_id"],
        set_={
            **{name: table[name] + stmt.excluded[name] for name in COUNTED},
            "version": table.version + 1,
        },
    )


def _upsert_values(conn: Connection, rows: Any = None) -> Any:
    """Add counts to the filter values (``rows`` of (dataset, field, value, count), else
    the parameters)."""
    stmt = _insert(conn, FilterValue)
    if rows is not None:
        ordered = rows.subquery()
        stmt = stmt.from_select(
            ["dataset_id", "field", "value", "vehicles"],
            select(ordered).order_by(*ordered.c),  # key order, as in _summary_select
        )
    return stmt.on_conflict_do_update(
        index_elements=["dataset_id", "field", "value"],
        set_={"vehicles": FilterValue.__table__.c.vehicles + stmt.excluded.vehicles},
    )


@dataclass(slots=True)
class _Deltas:
    """Summary changes a transaction has made and not yet written."""

    #: (dataset, maker) -> counts in ``COUNTED`` order; a key with none changed still
    #: gets a new version.
    rows: dict[tuple[int, int], list[float]] = field(default_factory=dict)
    #: (dataset, field, value) -> vehicles.
    values: dict[tuple[int, str, str], int] = field(default_factory=dict)
    #: Makers renamed: each of their rows gets a new version.
    renamed: set[int] = field(default_factory=set)

    def copy(self) -> "_Deltas":
        return _Deltas(
            {key: list(counts) for key, counts in self.rows.items()},
            dict(self.values),
            set(self.renamed),
        )

    def add_row(self, key: tuple[int, int], counts: Sequence[float]) -> None:
        held = self.rows.setdefault(key, [0] * len(COUNTED))
        for i, count in enumerate(counts):
            held[i] += count


@dataclass(slots=True)
class _Pending:
    """One connection's deltas, and a copy of them at each savepoint still open."""

    deltas: _Deltas = field(default_factory=_Deltas)
    savepoints: list[_Deltas] = field(default_factory=list)


#: Per Connection object, not per pooled DBAPI connection (``Connection.info``): a checkout
#: never sees what an earlier one left.
_PENDING: "WeakKeyDictionary[Connection, _Pending]" = WeakKeyDictionary()


def _pending(conn: Connection) -> _Pending:
    pending = _PENDING.get(conn)
    if pending is None:
        pending = _PENDING[conn] = _Pending()
    return pending


def _gather_rows(conn: Connection, where: Any, sign: int) -> None:
    """Count the vehicles ``where`` selects into the connection's per-maker deltas."""
    deltas = _pending(conn).deltas
    for dataset_id, manufacturer_id, *counts in conn.execute(_summary_select(where, sign)):
        deltas.add_row((dataset_id, manufacturer_id), counts)


def _gather(conn: Connection, where: Any, sign: int) -> None:
    """Count the vehicles ``where`` selects into the connection's deltas (times ``sign``)."""
    _gather_rows(conn, where, sign)
    deltas = _pending(conn).deltas
    for dataset_id, name, value, count in conn.execute(_values_select(where, sign)):
        key = (dataset_id, name, value)
        deltas.values[key] = deltas.values.get(key, 0) + count


def _count(conn: Connection, ids: Sequence[int], sign: int) -> None:
    """Count the vehicles ``ids`` (those that exist) in, or out."""
    for start in range(0, len(ids), ID_CHUNK):
        _gather(conn, Vehicle.id.in_(ids[start : start + ID_CHUNK]), sign)


def _lock(conn: Connection, ids: Sequence[int]) -> None:
    """Lock the vehicles ``ids`` until the transaction ends, so no other writer changes
    them between their counting out and back in."""
    if conn.dialect.name != "postgresql":  # SQLite's write transaction holds every row
        return
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        conn.execute(
            select(Vehicle.id).where(Vehicle.id.in_(chunk)).order_by(Vehicle.id).with_for_update()
        )


def added(conn: Connection, ids: Iterable[int]) -> None:
    """Count vehicles just inserted into the summary (at commit)."""
    _count(conn, sorted(ids), +1)


@contextmanager
def tracked(conn: Connection, ids: Iterable[int]) -> Iterator[None]:
    """Around a change to the vehicles ``ids``: locks them, counts them out of the summary,
    and after the change counts what is left of them back in (written at commit)."""
    ordered = sorted(ids)
    _lock(conn, ordered)
    _count(conn, ordered, -1)
    yield
    _count(conn, ordered, +1)


@event.listens_for(Session, "before_flush")
def _count_out_orm_changes(session: Session, _context: object, _instances: object) -> None:
    """ORM changes to vehicles (the write paths use Core; tests and shells may not): the
    changed and deleted ones are locked and counted out before the flush, and in after it."""
    changed = sorted(
        obj.id
        for obj in (*session.dirty, *session.deleted)
        if isinstance(obj, Vehicle) and obj.id is not None
    )
    if changed:
        conn = session.connection()
        _lock(conn, changed)
        _count(conn, changed, -1)
    session.info["summary_changed"] = changed


@event.listens_for(Session, "after_flush")
def _count_in_orm_changes(session: Session, _context: object) -> None:
    ids = session.info.pop("summary_changed", [])
    ids += [obj.id for obj in session.new if isinstance(obj, Vehicle)]
    if ids:
        _count(session.connection(), sorted(ids), +1)


def _existing(conn: Connection, column: Any, ids: set[int]) -> set[int]:
    """Those of ``ids`` that ``column`` (a primary key) still holds."""
    if not ids:
        return set()
    return set(conn.scalars(select(column).where(column.in_(sorted(ids)))))


def flush(conn: Connection) -> None:
    """Write the deltas this connection's transaction has gathered, now, in key order (the
    order every writer takes the rows' locks in). Every commit does this; a reader of the
    summary inside a write transaction calls it first."""
    pending = _PENDING.get(conn)
    if pending is None:
        return
    deltas, pending.deltas = pending.deltas, _Deltas()
    rows = deltas.rows
    if deltas.renamed:
        of_renamed = VehicleSummary.manufacturer_id.in_(sorted(deltas.renamed))
        keys = select(VehicleSummary.dataset_id, VehicleSummary.manufacturer_id).where(of_renamed)
        for dataset_id, manufacturer_id in conn.execute(keys):
            rows.setdefault((dataset_id, manufacturer_id), [0] * len(COUNTED))
    # A maker or dataset this transaction deleted took its summary rows with it (ON DELETE
    # CASCADE): its vehicles' counts have nothing left to go to, and writing them would
    # break the foreign key.
    makers = _existing(conn, Manufacturer.id, {key[1] for key in rows})
    datasets = _existing(
        conn, Dataset.id, {key[0] for key in rows} | {key[0] for key in deltas.values}
    )
    rows = {key: counts for key, counts in rows.items() if key[0] in datasets and key[1] in makers}
    if rows:
        conn.execute(
            _upsert_rows(conn),
            [
                {
                    "dataset_id": key[0],
                    "manufacturer_id": key[1],
                    **dict(zip(COUNTED, counts, strict=True)),
                }
                for key, counts in sorted(rows.items())
            ],
        )
    values = [
        {"dataset_id": key[0], "field": key[1], "value": key[2], "vehicles": count}
        for key, count in sorted(deltas.values.items())
        if count and key[0] in datasets
    ]
    if values:
        conn.execute(_upsert_values(conn), values)


@event.listens_for(Engine, "commit")
def _write_at_commit(conn: Connection) -> None:
    """Just before COMMIT, inside the transaction (Core and Session commits alike)."""
    try:
        flush(conn)
    except BaseException:
        # SQLAlchemy has already marked the transaction ended, so no ROLLBACK would follow
        # and the pool would take the connection back still inside it (SQLite holding its
        # write lock, PostgreSQL an aborted transaction and its row locks). Invalidating
        # closes the DBAPI connection, which ends the transaction; the pool opens another.
        conn.invalidate()
        raise
    finally:
        _PENDING.pop(conn, None)


@event.listens_for(Engine, "begin")
@event.listens_for(Engine, "rollback")
def _drop_pending(conn: Connection) -> None:
    _PENDING.pop(conn, None)


@event.listens_for(Engine, "savepoint")
def _keep_at_savepoint(conn: Connection, _name: str | None) -> None:
    pending = _pending(conn)
    pending.savepoints.append(pending.deltas.copy())


@event.listens_for(Engine, "rollback_savepoint")
def _restore_at_savepoint(conn: Connection, _name: str, _context: None) -> None:
    """Savepoints nest, as ``begin_nested`` makes them: this is the latest one."""
    if (pending := _PENDING.get(conn)) is not None and pending.savepoints:
        pending.deltas = pending.savepoints.pop()


@event.listens_for(Engine, "release_savepoint")
def _forget_savepoint(conn: Connection, _name: str, _context: None) -> None:
    if (pending := _PENDING.get(conn)) is not None and pending.savepoints:
        pending.savepoints.pop()


def manufacturer_merged(conn: Connection, source_id: int, target_id: int) -> None:
    """After every vehicle of ``source_id`` became ``target_id``'s: move its counts over,
    the stored ones and this transaction's (the source's rows are deleted now, as deleting
    the maker would; the target's are written at commit)."""
    deltas = _pending(conn).deltas
    table = VehicleSummary.__table__.c
    stored = conn.execute(
        delete(VehicleSummary)
        .where(VehicleSummary.manufacturer_id == source_id)
        .returning(VehicleSummary.dataset_id, *(table[name] for name in COUNTED))
    ).all()
    moved = [(dataset_id, counts) for dataset_id, *counts in stored]
    for key in [key for key in deltas.rows if key[1] == source_id]:
        moved.append((key[0], deltas.rows.pop(key)))
    for dataset_id, counts in moved:
        deltas.add_row((dataset_id, target_id), counts)


def manufacturer_renamed(conn: Connection, manufacturer_id: int) -> None:
    """A new version (at commit) for every summary row of a renamed maker: its figures
    show the name."""
    _pending(conn).deltas.renamed.add(manufacturer_id)


@contextmanager
def dataset_axes_changing(conn: Connection, dataset_id: int) -> Iterator[None]:
    """Around a change to a dataset's default axes: counts its vehicles out of the summary
    and back in on the new axes (written at commit, as every write's counts are). An
    admin's rare change, which reads the dataset twice. The caller holds the data
    version's row first, so every writer that bumped it has committed and no other
    commits until this change does: no count falls between the two passes. A write still
    open that has not bumped it yet has counted its vehicles on the old axes, which
    ``rebuild`` repairs."""
    of_dataset = Vehicle.dataset_id == dataset_id
    _gather_rows(conn, of_dataset, -1)  # filter values do not depend on the axes
    yield
    _gather_rows(conn, of_dataset, +1)


def rebuild(conn: Connection) -> None:
    """Recompute the whole summary from the vehicles (after writes made around fueldash).
    Versions only ever go up, so no figure cached before is served again. The counts
    include this transaction's writes, so the deltas it gathered are dropped."""
    _pending(conn).deltas = _Deltas()
    conn.execute(
        update(VehicleSummary).values(
            {**{name: 0 for name in COUNTED}, "version": VehicleSummary.version + 1}
        )
    )
    conn.execute(delete(FilterValue))
    everything = Vehicle.id.is_not(None)
    conn.execute(_upsert_rows(conn, _summary_select(everything, +1)))
    conn.execute(_upsert_values(conn, _values_select(everything, +1)))


def _versions_statement(in_datasets: bool) -> Select[int, int, int]:
    joined = VehicleSummary.manufacturer_id == Manufacturer.id
    if in_datasets:
        named = select(Dataset.id).where(Dataset.slug.in_(bindparam("slugs", expanding=True)))
        joined &= VehicleSummary.dataset_id.in_(named)
    return (
        select(Manufacturer.id, VehicleSummary.dataset_id, VehicleSummary.version)
        .outerjoin(VehicleSummary, joined)
        .where(func.lower(Manufacturer.name).in_(bindparam("names", expanding=True)))
        .order_by(Manufacturer.id, VehicleSummary.dataset_id)
    )


#: Built once: every cached figure reads its versions, and building the statement cost
#: more than running it.
VERSIONS_IN_DATASETS = _versions_statement(in_datasets=True)
VERSIONS_ANYWHERE = _versions_statement(in_datasets=False)


def versions(
    conn: Connection, manufacturers: Iterable[str], datasets: Iterable[str] = ()
) -> tuple[tuple[Any, ...], ...]:
    """(maker id, dataset id, version) of every summary row of the makers named (any case)
    in the datasets named (any, when none is): what a figure of those makers depends on.

    A maker with no vehicles there gives (id, None, None); a name no maker has, nothing.
    Any write to the vehicles behind a figure, and a rename of its maker, changes these,
    and no other write does.
    """
    names = sorted({name.strip().lower() for name in manufacturers})
    if not names:
        return ()
    if slugs := sorted({slug.strip() for slug in datasets}):
        rows = conn.execute(VERSIONS_IN_DATASETS, {"names": names, "slugs": slugs})
    else:
        rows = conn.execute(VERSIONS_ANYWHERE, {"names": names})
    return tuple(tuple(row) for row in rows)
