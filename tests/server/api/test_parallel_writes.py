"""Ten parallel API POSTs that all name the same new manufacturer: every one is a 201."""

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy import select

from models.db import db
from models.vehicle import Manufacturer
from tests.server.api.helpers import API, NEW_VEHICLE, bearer

THREADS = 10


def test_parallel_posts_creating_one_new_manufacturer_all_succeed(app: Flask, token: str) -> None:
    for round_ in range(3):
        maker = f"Parallel Motors {round_}"
        start = threading.Barrier(THREADS)

        def post(n: int, maker: str = maker, start: threading.Barrier = start) -> int:
            client = app.test_client()
            body = {**NEW_VEHICLE, "manufacturer": maker, "model": f"p{n}"}
            start.wait(timeout=10)
            return client.post(f"{API}/vehicles", json=body, headers=bearer(token)).status_code

        with ThreadPoolExecutor(THREADS) as pool:
            assert list(pool.map(post, range(THREADS))) == [201] * THREADS
        with app.app_context():
            names = db.session.scalars(select(Manufacturer.name).where(Manufacturer.name == maker))
            assert names.all() == [maker]
