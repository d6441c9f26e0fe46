"""Writes to the vehicle store, each audited, each bumping the data version and each
keeping the summary (``models.summary``) in step.

The admin forms, the JSON API and the CLI all change data through these functions, in
the caller's transaction, with values already checked by ``models.validation``.
"""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, Insert, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from models import summary
from models.audit import Actor, Change, record_changes, vehicle_snapshots
from models.datasets import DEFAULT_DATASET, UnknownDataset, dataset_id_for
from models.db import db
from models.validation import FieldError, is_stored_id, parse_field
from models.vehicle import Manufacturer, Vehicle, bump_data_version


class EditError(ValueError):
    """A change cannot be made as asked; the message says why."""


class DuplicateSourceId(EditError):
    """Another vehicle of the dataset already has the source id given."""


class StaleVehicle(Exception):
    """The vehicle changed since the writer read it; nothing was written.

    ``version`` and ``current`` are its version and values now, to show the writer.
    """

    def __init__(self, vehicle_id: int, version: int, current: dict[str, Any]) -> None:
        super().__init__(f"vehicle {vehicle_id} is at version {version} now")
        self.vehicle_id = vehicle_id
        self.version = version
        self.current = current


def vehicle_version(conn: Connection, vehicle_id: int, *, lock: bool = False) -> int | None:
    """The vehicle's version (None when there is no such vehicle). ``lock`` holds the row
    until the transaction ends (SQLite's write transaction holds the whole database)."""
    if not is_stored_id(vehicle_id):
        return None  # beyond the id column's range, as no stored id is
    stmt = select(Vehicle.version).where(Vehicle.id == vehicle_id)
    return conn.scalar(stmt.with_for_update() if lock else stmt)


def check_version(conn: Connection, vehicle_id: int, expected: int | None) -> int | None:
    """Lock the vehicle and return its version; raise StaleVehicle when it is not
    ``expected`` (None expects any). None when there is no such vehicle."""
    version = vehicle_version(conn, vehicle_id, lock=True)
    if version is not None and expected is not None and version != expected:
        raise StaleVehicle(vehicle_id, version, vehicle_snapshots(conn, [vehicle_id])[vehicle_id])
    return version


def _named(name: str) -> ColumnElement[bool]:
    """Manufacturers called ``name`` in any case. The exact match is there because SQLite's
    lower() folds ASCII only, and names are stored normalized (``Škoda``)."""
    return or_(Manufacturer.name == name, func.lower(Manufacturer.name) == name.lower())


def _insert_or_ignore(conn: Connection) -> Insert:
    """INSERT INTO manufacturers ... ON CONFLICT DO NOTHING, in this database's dialect."""
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[conn.dialect.name]
    return dialect.insert(Manufacturer).on_conflict_do_nothing()


def manufacturer_id_for(conn: Connection, name: str, cache: dict[str, int] | None = None) -> int:
    """The id of the manufacturer with this (normalized) name, created when missing."""
    key = name.lower()
    if cache is not None and key in cache:
        return cache[key]
    lookup = select(Manufacturer.id).where(_named(name))
    found = conn.scalar(lookup)
    if found is None:
        # Another transaction may be adding the same maker right now: on a clash, wait for
        # it and use its row instead of failing with a unique violation.
        conn.execute(_insert_or_ignore(conn).values(name=name))
        exact = select(Manufacturer.id).where(Manufacturer.name == name)
        found = conn.execute(exact).scalar_one()
    if cache is not None:
        cache[key] = found
    return found


def column_values(
    conn: Connection, values: Mapping[str, Any], makers: dict[str, int] | None = None
) -> dict[str, Any]:
    """Clean field values -> column values (the manufacturer becomes its id, looked up in
    ``makers`` first when given; the dataset's slug becomes its id). Raises EditError for a
    dataset that does not exist."""
    columns = {k: v for k, v in values.items() if k not in ("manufacturer", "dataset")}
    if "manufacturer" in values:
        columns["manufacturer_id"] = manufacturer_id_for(conn, values["manufacturer"], makers)
    if "dataset" in values:
        try:
            columns["dataset_id"] = dataset_id_for(conn, values["dataset"] or DEFAULT_DATASET)
        except UnknownDataset as error:
            raise EditError(str(error)) from None
    return columns


def _refuse_a_taken_source_id(
    conn: Connection, columns: Mapping[str, Any], vehicle_id: int | None = None
) -> None:
    """Raise DuplicateSourceId when the vehicle (new, or ``vehicle_id`` with ``columns``
    applied) would share its source id with another vehicle of its dataset, which the
    database's unique constraint would refuse."""
    if not {"dataset_id", "source_id"} & columns.keys():
        return
    current: dict[str, Any] = {}
    if vehicle_id is not None:
        stmt = select(Vehicle.dataset_id, Vehicle.source_id).where(Vehicle.id == vehicle_id)
        current = dict(conn.execute(stmt).one()._mapping)
    source_id = columns.get("source_id", current.get("source_id"))
    if source_id is None:
        return
    holder = select(Vehicle.id).where(
        Vehicle.dataset_id == columns.get("dataset_id", current.get("dataset_id")),
        Vehicle.source_id == source_id,
    )
    if vehicle_id is not None:
        holder = holder.where(Vehicle.id != vehicle_id)
    if (other := conn.scalar(holder.limit(1))) is not None:
        raise DuplicateSourceId(f"vehicle {other} of the dataset already has this source id")


@contextmanager
def _source_id_kept_unique() -> Iterator[None]:
    """Raise DuplicateSourceId when the database's unique constraint refuses the write: two
    writers that both checked the source id before either wrote it."""
    try:
        yield
    except IntegrityError as error:
        if "source_id" not in str(error.orig):
            raise
        raise DuplicateSourceId("another vehicle of the dataset took this source id") from None


def create_vehicle(conn: Connection, actor: Actor, values: Mapping[str, Any]) -> int:
    """Insert one vehicle from validated values; returns its id. Raises EditError for an
    unknown dataset, DuplicateSourceId for a source id the dataset already holds."""
    columns = column_values(conn, {"dataset": None, **values})
    _refuse_a_taken_source_id(conn, columns)
    with _source_id_kept_unique():
        stmt = insert(Vehicle).values(**columns).returning(Vehicle.id)
        vehicle_id = conn.execute(stmt).scalar_one()
    summary.added(conn, [vehicle_id])
    after = vehicle_snapshots(conn, [vehicle_id])[vehicle_id]
    record_changes(conn, actor, [Change("create", vehicle_id=vehicle_id, after=after)])
    bump_data_version(conn)
    return vehicle_id


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def update_vehicle(
    conn: Connection,
    actor: Actor,
    vehicle_id: int,
    values: Mapping[str, Any],
    expected_version: int | None = None,
) -> bool:
    """Apply validated values to one vehicle; False when there is no such vehicle.

    With ``expected_version``, raises StaleVehicle (and writes nothing) when the vehicle
    has been changed since the caller read that version; DuplicateSourceId as
    ``create_vehicle`` does.
    """
    # The row lock also makes the audit's "before" the values this update replaces.
    if check_version(conn, vehicle_id, expected_version) is None:
        return False
    before = vehicle_snapshots(conn, [vehicle_id])[vehicle_id]
    if _changed(before, values)[1]:  # an unchanged save keeps the version
        columns = column_values(conn, values)
        _refuse_a_taken_source_id(conn, columns, vehicle_id)
        with summary.tracked(conn, [vehicle_id]), _source_id_kept_unique():
            conn.execute(update(Vehicle).where(Vehicle.id == vehicle_id).values(**columns))
    after = vehicle_snapshots(conn, [vehicle_id])[vehicle_id]
    old, new = _changed(before, after)
    if new:
        record_changes(conn, actor, [Change("update", vehicle_id, before=old, after=new)])
        bump_data_version(conn)
    return True


def delete_vehicles(conn: Connection, actor: Actor, ids: Iterable[int]) -> int:
    """Delete these vehicles (unknown ids are ignored); returns how many went."""
    before = vehicle_snapshots(conn, ids)
    if not before:
        return 0
    with summary.tracked(conn, before):
        conn.execute(delete(Vehicle).where(Vehicle.id.in_(sorted(before))))
    record_changes(
        conn, actor, [Change("delete", vehicle_id=i, before=b) for i, b in before.items()]
    )
    bump_data_version(conn)
    return len(before)


def _manufacturer_name(conn: Connection, manufacturer_id: int) -> str:
    name = conn.scalar(select(Manufacturer.name).where(Manufacturer.id == manufacturer_id))
    if name is None:
        raise EditError("there is no such manufacturer")
    return name


def rename_manufacturer(conn: Connection, actor: Actor, manufacturer_id: int, raw: str) -> str:
    """Rename a manufacturer (the name is normalized); returns the name it now has."""
    old = _manufacturer_name(conn, manufacturer_id)
    try:
        new = parse_field("manufacturer", raw)  # the same rules as a vehicle's manufacturer
    except FieldError as error:
        raise EditError(f"the name {error}") from None
    clash = conn.scalar(
        select(Manufacturer.id).where(_named(new), Manufacturer.id != manufacturer_id)
    )
    if clash is not None:
        raise EditError(f"{new} already exists; merge into it instead")
    if new == old:
        return new
    conn.execute(update(Manufacturer).where(Manufacturer.id == manufacturer_id).values(name=new))
    summary.manufacturer_renamed(conn, manufacturer_id)
    record_changes(
        conn,
        actor,
        [
            Change(
                "rename", manufacturer_id=manufacturer_id, before={"name": old}, after={"name": new}
            )
        ],
    )
    bump_data_version(conn)
    return new


def merge_manufacturers(conn: Connection, actor: Actor, source_id: int, target_id: int) -> int:
    """Move every vehicle of ``source_id`` to ``target_id`` and drop the source; returns moved."""
    if source_id == target_id:
        raise EditError("a manufacturer cannot be merged into itself")
    # Wait first for writers adding vehicles of either maker (each holds its row until it
    # commits): this merge then moves their vehicles too, and deletes the source's summary
    # rows only after their commits have written them.
    both = sorted([source_id, target_id])
    conn.execute(
        select(Manufacturer.id)
        .where(Manufacturer.id.in_(both))
        .order_by(Manufacturer.id)
        .with_for_update()
    )
    source = _manufacturer_name(conn, source_id)
    target = _manufacturer_name(conn, target_id)
    ids = conn.scalars(select(Vehicle.id).where(Vehicle.manufacturer_id == source_id)).all()
    conn.execute(
        update(Vehicle)
        .where(Vehicle.manufacturer_id == source_id)
        .values(manufacturer_id=target_id)
    )
    # Locks in the order every writer takes them: vehicles, the data version (which a
    # change of default axes takes first), then summary rows.
    bump_data_version(conn)
    summary.manufacturer_merged(conn, source_id, target_id)
    conn.execute(delete(Manufacturer).where(Manufacturer.id == source_id))
    changes = [
        Change("merge", manufacturer_id=source_id, before={"name": source}, after={"name": target})
    ]
    changes += [
        Change("update", i, before={"manufacturer": source}, after={"manufacturer": target})
        for i in ids
    ]
    record_changes(conn, actor, changes)
    return len(ids)


@contextmanager
def write_transaction() -> Iterator[Connection]:
    """One transaction for a write; on SQLite it takes the write lock up front."""
    with db.engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn
