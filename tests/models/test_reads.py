"""The dashboard's long-lived read connection: reused, never stale, and replaced when broken."""

import gc
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, event, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from models import Manufacturer, Vehicle, reads
from models.db import db
from models.reads import read_with, release_read_connection


@pytest.fixture(autouse=True)
def fresh_connection() -> Iterator[None]:
    release_read_connection()
    yield
    release_read_connection()


def vehicle_count(conn: Connection) -> int:
    return conn.scalar(select(func.count()).select_from(Vehicle)) or 0


def driver_connection(conn: Connection) -> object:
    return conn.connection.driver_connection


def test_the_same_connection_serves_every_read_in_a_thread(app: Flask) -> None:
    with app.app_context():
        first = read_with(db.engine, driver_connection)
        assert read_with(db.engine, driver_connection) is first
        assert read_with(db.engine, vehicle_count) == 406


def test_a_write_elsewhere_is_seen_by_the_next_read(app: Flask) -> None:
    with app.app_context():
        assert read_with(db.engine, vehicle_count) == 406
        with db.engine.begin() as writer:
            maker = writer.scalar(select(Manufacturer.id).where(Manufacturer.name == "Honda"))
            writer.execute(insert(Vehicle).values(manufacturer_id=maker, model="insight"))
        assert read_with(db.engine, vehicle_count) == 407


def test_reads_leave_no_transaction_open(app: Flask) -> None:
    with app.app_context():
        read_with(db.engine, vehicle_count)
        conn = read_with(db.engine, lambda conn: conn)
        assert not conn.in_transaction()
        if db.engine.dialect.name == "postgresql":
            pid = read_with(db.engine, lambda c: c.scalar(text("SELECT pg_backend_pid()")))
            with db.engine.connect() as other:
                state = other.scalar(
                    text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                )
            assert state == "idle"  # not "idle in transaction"


def kill(conn: Connection) -> None:
    """End the connection's session from the server side, as a database restart would."""
    if conn.dialect.name == "postgresql":
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
        with conn.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    else:
        conn.connection.driver_connection.close()  # type: ignore[union-attr]


def test_a_connection_the_server_closed_is_replaced(app: Flask) -> None:
    with app.app_context():
        before = read_with(db.engine, driver_connection)
        read_with(db.engine, kill)
        assert read_with(db.engine, vehicle_count) == 406
        assert read_with(db.engine, driver_connection) is not before


def test_a_real_error_is_raised_at_once_and_the_next_read_works(app: Flask) -> None:
    attempts: list[int] = []

    def broken(conn: Connection) -> None:
        attempts.append(1)
        conn.execute(text("SELECT no_such_column FROM vehicles"))

    with app.app_context():
        read_with(db.engine, vehicle_count)  # a reused connection, as in a busy worker
        with pytest.raises(DBAPIError):
            read_with(db.engine, broken)
        assert len(attempts) == 1
        assert read_with(db.engine, vehicle_count) == 406


def test_an_unreachable_database_is_tried_once_per_read(make_app: Any, tmp_path: Path) -> None:
    broken = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    connects: list[int] = []
    with broken.app_context():
        event.listen(db.engine, "do_connect", lambda *args: connects.append(1))
        with pytest.raises(DBAPIError):
            read_with(db.engine, vehicle_count)
    assert len(connects) == 1


def test_a_held_connection_is_handed_back_once_it_is_old(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reads, "MAX_AGE_S", 0.0)
    with app.app_context():
        first = read_with(db.engine, driver_connection)
        second = read_with(db.engine, driver_connection)
        pool = db.engine.pool
        assert pool.checkedout() == 1  # type: ignore[attr-defined]
        if db.engine.dialect.name == "sqlite":
            # The pool hands the same SQLite connection out again, as it was given back.
            assert second is first
        # Connections given back keep the driver's own settings (SQLite: autocommit).
        release_read_connection()
        raw = db.engine.raw_connection()
        try:
            if db.engine.dialect.name == "sqlite":
                assert raw.driver_connection.isolation_level is None  # type: ignore[union-attr]
            else:
                assert raw.driver_connection.autocommit is False  # type: ignore[union-attr]
        finally:
            raw.close()


def test_another_engine_gets_its_own_connection_and_the_old_one_goes_back(
    app: Flask, make_app: object
) -> None:
    other = make_app()  # type: ignore[operator]
    with app.app_context():
        read_with(db.engine, vehicle_count)
        first_pool = db.engine.pool
        assert first_pool.checkedout() == 1  # type: ignore[attr-defined]
    with other.app_context():
        assert read_with(db.engine, vehicle_count) == 406
        assert first_pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_finished_thread_gives_its_connection_back(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        worker = threading.Thread(target=lambda: read_with(engine, vehicle_count))
        worker.start()
        worker.join()
        gc.collect()
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
