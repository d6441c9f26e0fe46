"""Seeded benchmark stores: 406, 50,000 or 1,000,000 vehicles in SQLite or PostgreSQL.

The 406-row store is the sample itself. Larger stores are drawn from the sample's
distributions: each row copies a random sample car (so missing horsepower or mpg keeps the
sample's rate) with a little noise on the measurements, and is assigned to a manufacturer
from a Zipf-like skew where a few makers hold most rows and the largest holds about 12%.

Loading takes the documented fast path into the real, migrated schema:
- SQLite: one transaction, ``executemany`` of plain tuples in batches of 50,000;
- PostgreSQL: ``COPY ... FROM STDIN`` through psycopg.

Stores are cached: SQLite files under ``bench/data/`` and a marker file per PostgreSQL
database, so a rerun with the same size and seed reuses them.

    python -m bench.generate --size 50000 [--postgres URL]
"""

import argparse
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy import create_engine, text

from models.sample import load_sample

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "bench" / "data"
SIZES = (406, 50_000, 1_000_000)
SEED = 20261124
#: Manufacturers in a generated store: the sample's makers, then a long tail of marques.
MAKERS = 100
LARGEST_SHARE = 0.12
BATCH = 50_000
COLUMNS = (
    "manufacturer_id",
    "model",
    "year",
    "horsepower",
    "mpg",
    "cylinders",
    "displacement",
    "weight",
    "acceleration",
    "origin",
)


@dataclass(frozen=True, slots=True)
class Store:
    """Generated rows, column by column, and the manufacturer names by id (1-based)."""

    makers: list[str]
    manufacturer_id: npt.NDArray[np.int64]
    sample_index: npt.NDArray[np.int64]
    noise: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.manufacturer_id)


def zipf_shares(count: int, largest: float) -> npt.NDArray[np.float64]:
    """Shares ∝ 1/rank**s, with s chosen so that the first share is ``largest``."""
    ranks = np.arange(1, count + 1, dtype=np.float64)
    low, high = 0.0, 5.0
    for _ in range(60):
        s = (low + high) / 2
        weights = ranks**-s
        if weights[0] / weights.sum() < largest:
            low = s
        else:
            high = s
    weights = ranks ** -((low + high) / 2)
    return weights / weights.sum()


def generate(size: int, seed: int = SEED) -> Store:
    """Rows for a store of ``size`` vehicles; 406 gives the sample unchanged."""
    cars = load_sample()
    sample_makers = sorted({car.manufacturer for car in cars})
    if size == len(cars):
        makers = sample_makers
        ids = np.array([makers.index(car.manufacturer) + 1 for car in cars], dtype=np.int64)
        return Store(makers, ids, np.arange(size, dtype=np.int64), np.ones(size))
    rng = np.random.default_rng(seed)
    by_size = sorted(sample_makers, key=lambda m: -sum(c.manufacturer == m for c in cars))
    makers = by_size + [f"Marque {n:03d}" for n in range(len(by_size) + 1, MAKERS + 1)]
    ids = rng.choice(len(makers), size=size, p=zipf_shares(len(makers), LARGEST_SHARE)) + 1
    sample_index = rng.integers(0, len(cars), size=size)
    noise = rng.normal(1.0, 0.05, size=size).clip(0.8, 1.2)
    return Store(makers, ids.astype(np.int64), sample_index, noise)


def rows(store: Store) -> list[tuple[object, ...]]:
    """The store's vehicles as tuples in ``COLUMNS`` order."""
    cars = load_sample()
    out: list[tuple[object, ...]] = []
    for maker_id, index, factor in zip(
        store.manufacturer_id.tolist(),
        store.sample_index.tolist(),
        store.noise.tolist(),
        strict=True,
    ):
        car = cars[index]
        out.append(
            (
                maker_id,
                car.model,
                car.year,
                None if car.horsepower is None else round(car.horsepower * factor, 1),
                None if car.mpg is None else round(car.mpg / factor, 1),
                car.cylinders,
                car.displacement,
                car.weight,
                car.acceleration,
                car.origin,
            )
        )
    return out


def migrate(url: str) -> None:
    """Create the real schema with the project's migrations."""
    env = {**os.environ, "DATABASE_URL": url, "FUELDASH_ENV": "development"}
    flask = REPO / ".venv" / "bin" / "flask"
    command = [str(flask) if flask.exists() else "flask", "--app", "wsgi", "db", "upgrade"]
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)


def _load(url: str, store: Store) -> None:
    engine = create_engine(url)
    data = rows(store)
    mark = "?" if url.startswith("sqlite") else "%s"
    placeholders = ", ".join(mark for _ in COLUMNS)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO manufacturers (id, name) VALUES ({mark}, {mark})",
            list(enumerate(store.makers, start=1)),
        )
        if conn.dialect.name == "postgresql":
            raw = conn.connection.driver_connection
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY vehicles ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in data:
                        copy.write_row(row)
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('manufacturers', 'id'), %s)",
                    (len(store.makers),),
                )
        else:
            sql = f"INSERT INTO vehicles ({', '.join(COLUMNS)}) VALUES ({placeholders})"
            for start in range(0, len(data), BATCH):
                conn.exec_driver_sql(sql, data[start : start + BATCH])
        conn.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
    # Statistics for the planner, and (PostgreSQL) the visibility map that lets the covering
    # index answer without visiting the table, as autovacuum would set it in production.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")
    engine.dispose()


def sqlite_store(size: int, seed: int = SEED) -> Path:
    """The cached SQLite store of ``size`` vehicles, built on first use."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"store-{size}-{seed}.sqlite3"
    if path.exists():
        migrate(f"sqlite:///{path}")  # a cached store picks up newer migrations
        return path
    partial = path.with_suffix(".partial")
    for leftover in DATA_DIR.glob(partial.name + "*"):
        leftover.unlink()
    url = f"sqlite:///{partial}"
    migrate(url)
    _load(url, generate(size, seed))
    # One self-contained file: fold the write-ahead log back in before publishing it.
    with closing(sqlite3.connect(partial)) as raw:
        raw.execute("PRAGMA journal_mode=DELETE")
    partial.rename(path)
    return path


def postgres_store(admin_url: str, size: int, seed: int = SEED) -> str:
    """A cached PostgreSQL database ``bench_<size>`` holding the store; returns its URL."""
    name = f"bench_{size}"
    base = admin_url.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    marker = DATA_DIR / f"pg-{name}-{seed}.done"
    if marker.exists():
        migrate(url)  # a cached store picks up newer migrations
        return url
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    migrate(url)
    _load(url, generate(size, seed))
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{size} {seed}\n")
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, choices=SIZES, required=True)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--postgres", help="a PostgreSQL URL on the server to use")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    where = (
        postgres_store(args.postgres, args.size, args.seed)
        if args.postgres
        else sqlite_store(args.size, args.seed)
    )
    print(f"{args.size} vehicles in {where} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
