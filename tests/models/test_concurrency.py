"""Concurrent writes on a real database: creators of one new manufacturer all succeed, and
an update made against an old version of a vehicle is refused."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import func, select

from models.audit import Actor, AuditEntry
from models.db import db
from models.editing import (
    StaleVehicle,
    create_vehicle,
    update_vehicle,
    vehicle_version,
    write_transaction,
)
from models.vehicle import Manufacturer, Vehicle

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
