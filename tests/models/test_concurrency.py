"""Concurrent writes on a real database: creators of one new manufacturer all succeed (API
writes and imports alike), an update made against an old version of a vehicle is refused,
and writers of one maker's vehicles neither wait for each other's summary rows nor
deadlock on them (the summary is written at commit, models/summary.py)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, func, select, text

from models.audit import Actor, AuditEntry
from models.dataset_editing import describe_dataset
from models.datasets import SHIPPED
from models.db import db
from models.editing import (
    DuplicateSourceId,
    StaleVehicle,
    create_vehicle,
    merge_manufacturers,
    update_vehicle,
    vehicle_version,
    write_transaction,
)
from models.importer import BATCH_SIZE, commit_import
from models.queries import manufacturer_summaries
from models.vehicle import Dataset, Manufacturer, Vehicle, bump_data_version
from tests.models.test_summary import assert_summary_is_a_recount, maker_id, vehicle_ids

ACTOR = Actor(name="test", source="cli")
THREADS = 10


def _create_in_parallel(app: Flask, maker: str) -> list[int]:
    start = threading.Barrier(THREADS)

    def create(n: int) -> int:
        with app.app_context():
            start.wait(timeout=10)  # every thread starts its transaction at once
            with write_transaction() as conn:
                return create_vehicle(conn, ACTOR, {"manufacturer": maker, "model": f"m{n}"})

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(create, range(THREADS)))


def test_parallel_creators_of_one_new_manufacturer_all_succeed(app: Flask) -> None:
    # Select-then-insert let two transactions both miss the maker and both insert it: the
    # second failed with a unique violation (a 500 from the API).
    for round_ in range(5):
        maker = f"Racing Motors {round_}"
        ids = _create_in_parallel(app, maker)
        assert len(set(ids)) == THREADS
        with app.app_context():
            makers = db.session.scalars(
                select(Manufacturer.id).where(Manufacturer.name == maker)
            ).all()
            assert len(makers) == 1
            of_maker = Vehicle.manufacturer_id == makers[0]
            count = db.session.scalar(select(func.count()).select_from(Vehicle).where(of_maker))
            assert count == THREADS


def _first_id(app: Flask) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.min(Vehicle.id)))
        assert found is not None
        return found


def test_every_update_bumps_the_version(app: Flask) -> None:
    vehicle_id = _first_id(app)
    with app.app_context(), write_transaction() as conn:
        first = vehicle_version(conn, vehicle_id)
        assert first is not None
        update_vehicle(conn, ACTOR, vehicle_id, {"horsepower": 123})
        assert vehicle_version(conn, vehicle_id) == first + 1
    with app.app_context(), write_transaction() as conn:
        assert vehicle_version(conn, 10**9) is None
        assert vehicle_version(conn, 2**31) is None  # out of int4 range on PostgreSQL


def test_an_update_against_an_old_version_is_refused_and_changes_nothing(app: Flask) -> None:
    vehicle_id = _first_id(app)
    with app.app_context(), write_transaction() as conn:
        seen = vehicle_version(conn, vehicle_id)
        assert seen is not None
        update_vehicle(conn, ACTOR, vehicle_id, {"combined_mpg": 33}, expected_version=seen)
    with app.app_context():
        audited = db.session.scalar(select(func.count()).select_from(AuditEntry))
    # B opened the vehicle before A's save, and now saves horsepower.
    with pytest.raises(StaleVehicle) as refused, app.app_context(), write_transaction() as conn:
        update_vehicle(conn, ACTOR, vehicle_id, {"horsepower": 140}, expected_version=seen)
    assert refused.value.version == seen + 1
    assert refused.value.current["combined_mpg"] == 33
    with app.app_context():
        row = db.session.get(Vehicle, vehicle_id)
        assert row is not None
        assert (row.combined_mpg, row.version) == (33, seen + 1)
        assert row.horsepower != 140
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audited


def _wait_for_a_blocked_writer(conn: Connection) -> None:
    """Return once another transaction waits on a lock this one holds (PostgreSQL)."""
    for _ in range(600):
        # pg_locks is read live (pg_stat_activity is a snapshot for the whole transaction).
        blocked = text(
            "SELECT count(*) FROM pg_locks"
            " WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
        if conn.scalar(blocked):
            return
        time.sleep(0.05)
    raise AssertionError("the second import never waited for the first one's new maker")


def test_two_imports_adding_one_new_manufacturer_both_succeed(app: Flask, tmp_path: Path) -> None:
    """Import B starts while import A has added the maker but not committed. On PostgreSQL
    B's insert of the maker waits for A, then finds A's row (it used to fail with a unique
    violation, rolling B back); on SQLite B waits for A's write lock."""
    maker = "Concurrent Motors"
    files = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.csv"
        path.write_text("make,model,mpg\n" + "".join(f"{maker},{name}{i},30\n" for i in range(5)))
        files.append(path)
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    a_added_the_maker = threading.Event()

    def import_a() -> int:
        with app.app_context(), write_transaction() as conn:
            report = commit_import(conn, ACTOR, files[0], "auto-mpg")
            a_added_the_maker.set()
            if postgres:
                _wait_for_a_blocked_writer(conn)
            return report.new

    def import_b() -> int:
        assert a_added_the_maker.wait(timeout=30)
        with app.app_context(), write_transaction() as conn:
            return commit_import(conn, ACTOR, files[1], "auto-mpg").new

    with ThreadPoolExecutor(2) as pool:
        imported = [pool.submit(import_a), pool.submit(import_b)]
        assert [future.result(timeout=60) for future in imported] == [5, 5]
    with app.app_context():
        makers = db.session.scalars(select(Manufacturer.id).where(Manufacturer.name == maker)).all()
        assert len(makers) == 1
        models = db.session.scalars(
            select(Vehicle.model)
            .where(Vehicle.manufacturer_id == makers[0])
            .order_by(Vehicle.model)
        ).all()
        assert models == [f"{name}{i}" for name in ("a", "b") for i in range(5)]


def test_parallel_creators_of_one_source_id_one_wins_the_rest_are_told(app: Flask) -> None:
    # Each writer checks the source id before inserting, without a lock: all may pass the
    # check, and the unique constraint refuses all but one (a 500 before, now a 409).
    start = threading.Barrier(THREADS)

    def create(n: int) -> str:
        with app.app_context():
            start.wait(timeout=10)
            try:
                with write_transaction() as conn:
                    values = {"manufacturer": "Ford", "model": f"m{n}", "source_id": "S-1"}
                    create_vehicle(conn, ACTOR, values)
            except DuplicateSourceId:
                return "refused"
            return "created"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(create, range(THREADS)))
    assert sorted(outcomes) == ["created"] + ["refused"] * (THREADS - 1)
    with app.app_context():
        held = select(func.count()).select_from(Vehicle).where(Vehicle.source_id == "S-1")
        assert db.session.scalar(held) == 1


def _needs_postgres(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer at a time: a second one always waits")


def _makers_file(path: Path, *makers: str) -> Path:
    """A CSV with more than a batch of new vehicles of each maker, one maker after another,
    so the importer writes the makers in that order, in separate batches."""
    lines = ["make,model,mpg,hp"]
    for maker in makers:
        lines += [f"{maker},{path.stem}-{i},25,90" for i in range(BATCH_SIZE + 10)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context(), db.engine.connect() as conn:
        return {s.name: s.vehicles for s in manufacturer_summaries(conn, "auto-mpg")}


def test_an_edit_does_not_wait_for_an_import_of_its_maker(app: Flask, tmp_path: Path) -> None:
    """While an import has written (not committed) a batch of Toyotas, an edit of another
    Toyota commits at once. When the import counted its rows into Toyota's summary row as
    it wrote them, the edit waited on that row until the import committed (a 503 after the
    statement timeout); the lock timeout turns that wait into an error here."""
    _needs_postgres(app)
    path = _makers_file(tmp_path / "toyotas.csv", "Toyota")
    before = _counts(app)
    with app.app_context(), db.engine.connect() as conn:
        toyota = vehicle_ids(conn, "Toyota", 1)[0]
    edited: list[int] = []

    def edit_while_importing(_rows: int) -> None:
        if edited:
            return
        with write_transaction() as other:
            other.execute(text("SET LOCAL lock_timeout = '1s'"))
            assert update_vehicle(other, ACTOR, toyota, {"horsepower": 123.0})
        edited.append(toyota)

    with app.app_context(), write_transaction() as conn:
        report = commit_import(conn, ACTOR, path, "auto-mpg", progress=edit_while_importing)
    assert edited == [toyota] and report.new == BATCH_SIZE + 10
    assert _counts(app)["Toyota"] == before["Toyota"] + report.new
    assert_summary_is_a_recount(app)


def test_two_imports_of_two_makers_in_opposite_orders_both_commit(
    app: Flask, tmp_path: Path
) -> None:
    """Import A writes a batch of Fords, then Toyotas; import B Toyotas, then Fords; each
    writes its second batch only once both have written their first. Counting each batch
    into the summary as it was written locked Ford's row for A and Toyota's for B until
    commit, so the second batches deadlocked and PostgreSQL aborted one import."""
    _needs_postgres(app)
    files = {
        "a": _makers_file(tmp_path / "a.csv", "Ford", "Toyota"),
        "b": _makers_file(tmp_path / "b.csv", "Toyota", "Ford"),
    }
    before = _counts(app)
    first_batch_written = threading.Barrier(2)

    def run(name: str) -> int:
        waited = False

        def progress(_rows: int) -> None:
            nonlocal waited
            if not waited:  # after the first batch only
                waited = True
                first_batch_written.wait(timeout=30)

        with app.app_context(), write_transaction() as conn:
            return commit_import(conn, ACTOR, files[name], "auto-mpg", progress=progress).new

    with ThreadPoolExecutor(2) as pool:
        imports = [pool.submit(run, name) for name in files]
        assert [future.result(timeout=120) for future in imports] == [2 * (BATCH_SIZE + 10)] * 2
    after = _counts(app)
    for maker in ("Ford", "Toyota"):
        assert after[maker] == before[maker] + 2 * (BATCH_SIZE + 10)
    assert_summary_is_a_recount(app)


def _wait_until_a_transaction_waits_for_a_lock(app: Flask, transactions: int = 1) -> None:
    """Return once ``transactions`` sessions of this database wait for locks (PostgreSQL)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with app.app_context(), db.engine.connect() as conn:
        for _ in range(600):
            if conn.scalar(waiting) >= transactions:
                return
            conn.rollback()  # a fresh snapshot of pg_stat_activity
            time.sleep(0.05)
    raise AssertionError("no transaction ever waited for a lock")


def _while_a_toyota_is_created(app: Flask, maker: str, other_write: Any) -> Any:
    """Run ``other_write(conn)`` in its own transaction while another one has created a
    vehicle of ``maker`` and not committed; that one commits once the other write waits
    for a lock. Returns what ``other_write`` returned."""
    created = threading.Event()
    release = threading.Event()

    def create() -> int:
        with app.app_context(), write_transaction() as conn:
            new = create_vehicle(conn, ACTOR, {"manufacturer": maker, "model": "meanwhile"})
            created.set()
            assert release.wait(timeout=60)
            return new

    def other() -> Any:
        assert created.wait(timeout=60)
        with app.app_context(), write_transaction() as conn:
            return other_write(conn)

    with ThreadPoolExecutor(2) as pool:
        creating, writing = pool.submit(create), pool.submit(other)
        try:
            _wait_until_a_transaction_waits_for_a_lock(app)
        finally:
            release.set()
        creating.result(timeout=60)
        return writing.result(timeout=60)


def test_a_change_of_default_axes_waits_for_a_writer_of_the_dataset(app: Flask) -> None:
    """The change counted the dataset's vehicles out and in at once, locking every one of
    its summary rows, then waited for the writer's data version row; the writer's commit
    wrote Toyota's summary row, which the change held: PostgreSQL found a deadlock."""
    _needs_postgres(app)
    before = _counts(app)
    with app.app_context(), db.engine.connect() as conn:
        dataset = conn.execute(select(Dataset.id).where(Dataset.slug == "auto-mpg")).scalar_one()
    axes = replace(SHIPPED["auto-mpg"], default_x="acceleration")
    _while_a_toyota_is_created(
        app, "Toyota", lambda conn: describe_dataset(conn, ACTOR, dataset, axes)
    )
    assert _counts(app)["Toyota"] == before["Toyota"] + 1
    assert_summary_is_a_recount(app)


def test_a_merge_waits_for_a_writer_of_its_source_and_merges_its_vehicle(app: Flask) -> None:
    """The merge deleted the source's summary rows, then waited (deleting the maker) for
    the writer's new vehicle of it; the writer's commit wrote the source's summary row,
    which the merge had deleted: PostgreSQL found a deadlock."""
    _needs_postgres(app)
    before = _counts(app)
    with app.app_context(), db.engine.connect() as conn:
        bmw, ford = maker_id(conn, "BMW"), maker_id(conn, "Ford")
    moved = _while_a_toyota_is_created(
        app, "BMW", lambda conn: merge_manufacturers(conn, ACTOR, bmw, ford)
    )
    assert moved == before["BMW"] + 1  # the writer's vehicle too
    after = _counts(app)
    assert "BMW" not in after and after["Ford"] == before["Ford"] + before["BMW"] + 1
    with app.app_context(), db.engine.connect() as conn:
        meanwhile = select(Vehicle.manufacturer_id).where(Vehicle.model == "meanwhile")
        assert conn.scalars(meanwhile).all() == [ford]
    assert_summary_is_a_recount(app)


@pytest.mark.parametrize("axes_first", [True, False])
def test_a_merge_and_a_change_of_default_axes_wait_for_each_other(
    app: Flask, axes_first: bool
) -> None:
    """A change of axes and a merge, both waiting for a writer that holds the data
    version. When the change took the data version first and then wrote the dataset's
    summary rows at once (and the merge deleted the source's rows before taking the data
    version), each waited for a lock the other held."""
    _needs_postgres(app)
    before = _counts(app)
    with app.app_context(), db.engine.connect() as conn:
        dataset = conn.execute(select(Dataset.id).where(Dataset.slug == "auto-mpg")).scalar_one()
        bmw, ford = maker_id(conn, "BMW"), maker_id(conn, "Ford")
    axes = replace(SHIPPED["auto-mpg"], default_x="acceleration")
    holding = threading.Event()
    release = threading.Event()

    def hold_the_data_version() -> None:
        with app.app_context(), write_transaction() as conn:
            bump_data_version(conn)
            holding.set()
            assert release.wait(timeout=60)

    def change_axes() -> int:
        with app.app_context(), write_transaction() as conn:
            describe_dataset(conn, ACTOR, dataset, axes)
            return 0

    def merge() -> int:
        with app.app_context(), write_transaction() as conn:
            return merge_manufacturers(conn, ACTOR, bmw, ford)

    with ThreadPoolExecutor(3) as pool:
        held = pool.submit(hold_the_data_version)
        try:
            assert holding.wait(timeout=60)
            first, second = (change_axes, merge) if axes_first else (merge, change_axes)
            started = [pool.submit(first)]
            _wait_until_a_transaction_waits_for_a_lock(app, 1)
            started.append(pool.submit(second))
            _wait_until_a_transaction_waits_for_a_lock(app, 2)
        finally:
            release.set()
        held.result(timeout=60)
        results = [future.result(timeout=60) for future in started]
    assert results[1 if axes_first else 0] == before["BMW"]
    after = _counts(app)
    assert "BMW" not in after and after["Ford"] == before["Ford"] + before["BMW"]
    assert_summary_is_a_recount(app)
