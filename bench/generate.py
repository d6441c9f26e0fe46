"""Seeded benchmark stores: 406, 50,000 or 1,000,000 vehicles in SQLite or PostgreSQL,
and the store ``make run`` seeds, with both shipped datasets.

The 406-row store is the sample itself. Larger stores are drawn from the sample's
distributions: each row copies a random sample car (so missing horsepower or mpg keeps the
sample's rate) with a little noise on the measurements, and is assigned to a manufacturer
from a Zipf-like skew where a few makers hold most rows and the largest holds about 12%.
Every generated vehicle belongs to the auto-mpg dataset.

Loading takes the documented fast path into the real, migrated schema:
- SQLite: one transaction, ``executemany`` of plain tuples in batches of 50,000;
- PostgreSQL: ``COPY ... FROM STDIN`` through psycopg.
The shipped store is filled by ``flask vehicles seed``: the sample and the EPA's list.

Stores are cached: SQLite files under ``bench/data/`` and a marker file per PostgreSQL
database, so a rerun with the same size, seed and ``STORE_FORMAT`` reuses them.

    python -m bench.generate --size 50000 [--postgres URL]
    python -m bench.generate --shipped [--postgres URL]
"""

import argparse
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy import create_engine, insert, text

from models import summary
from models.datasets import SHIPPED
from models.sample import SAMPLE_DATASET, load_sample
from models.vehicle import Dataset

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "bench" / "data"
SIZES = (406, 50_000, 1_000_000)
SEED = 20261124
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: Bumped whenever the stored rows change shape, so that no cached store of an older
#: schema is reused.
STORE_FORMAT = 2
#: Every generated vehicle joins the sample's dataset, the first one in the store.
DATASET_ID = 1
#: Manufacturers in a generated store: the sample's makers, then a long tail of marques.
MAKERS = 100
LARGEST_SHARE = 0.12
BATCH = 50_000
COLUMNS = (
    "dataset_id",
    "manufacturer_id",
    "model",
    "year",
    "horsepower",
    "combined_mpg",
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
                DATASET_ID,
                maker_id,
                car.model,
                car.year,
                None if car.horsepower is None else round(car.horsepower * factor, 1),
                None if car.combined_mpg is None else round(car.combined_mpg / factor, 1),
                car.cylinders,
                car.displacement,
                car.weight,
                car.acceleration,
                car.origin,
            )
        )
    return out


def _flask(url: str, *args: str) -> None:
    """Run ``flask --app wsgi ARGS`` on the store at ``url``."""
    env = {**os.environ, "DATABASE_URL": url, "FUELDASH_ENV": "development"}
    flask = REPO / ".venv" / "bin" / "flask"
    command = [str(flask) if flask.exists() else "flask", "--app", "wsgi", *args]
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)


def migrate(url: str) -> None:
    """Create the real schema with the project's migrations."""
    _flask(url, "db", "upgrade")


def _analyze(url: str) -> None:
    # Statistics for the planner, and (PostgreSQL) the visibility map that lets the covering
    # index answer without visiting the table, as autovacuum would set it in production.
    engine = create_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")
    engine.dispose()


def _load(url: str, store: Store) -> None:
    engine = create_engine(url)
    data = rows(store)
    mark = "?" if url.startswith("sqlite") else "%s"
    placeholders = ", ".join(mark for _ in COLUMNS)
    with engine.begin() as conn:
        conn.execute(insert(Dataset), {"id": DATASET_ID, **asdict(SHIPPED[SAMPLE_DATASET])})
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
                # Ids given explicitly above: move the sequences past them.
                for table, last_id in (
                    ("manufacturers", len(store.makers)),
                    ("datasets", DATASET_ID),
                ):
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (table, last_id)
                    )
        else:
            sql = f"INSERT INTO vehicles ({', '.join(COLUMNS)}) VALUES ({placeholders})"
            for start in range(0, len(data), BATCH):
                conn.exec_driver_sql(sql, data[start : start + BATCH])
        summary.rebuild(conn)  # rows loaded around fueldash's writers: count them in
        conn.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
    engine.dispose()
    _analyze(url)


def seed_shipped(url: str) -> None:
    """Fill a migrated, empty store with both shipped datasets, as ``make run`` does."""
    _flask(url, "vehicles", "seed")
    _analyze(url)


def _sqlite_cached(name: str, fill: Callable[[str], None]) -> Path:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"{name}-v{STORE_FORMAT}.sqlite3"
    if path.exists():
        migrate(f"sqlite:///{path}")  # a cached store picks up newer migrations
        return path
    partial = path.with_suffix(".partial")
    for leftover in DATA_DIR.glob(partial.name + "*"):
        leftover.unlink()
    url = f"sqlite:///{partial}"
    migrate(url)
    fill(url)
    # One self-contained file: fold the write-ahead log back in before publishing it.
    with closing(sqlite3.connect(partial)) as raw:
        raw.execute("PRAGMA journal_mode=DELETE")
    partial.rename(path)
    return path


def _postgres_cached(admin_url: str, name: str, fill: Callable[[str], None]) -> str:
    name = f"{name}_v{STORE_FORMAT}"
    base = admin_url.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    marker = DATA_DIR / f"pg-{name}.done"
    if marker.exists():
        migrate(url)  # a cached store picks up newer migrations
        return url
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    migrate(url)
    fill(url)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{name}\n")
    return url


def sqlite_store(size: int, seed: int = SEED) -> Path:
    """The cached SQLite store of ``size`` vehicles, built on first use."""
    return _sqlite_cached(f"store-{size}-{seed}", lambda url: _load(url, generate(size, seed)))


def postgres_store(admin_url: str, size: int, seed: int = SEED) -> str:
    """A cached PostgreSQL database holding the store of ``size`` vehicles; returns its URL."""
    return _postgres_cached(
        admin_url, f"bench_{size}_{seed}", lambda url: _load(url, generate(size, seed))
    )


def sqlite_shipped_store() -> Path:
    """The cached SQLite store with both shipped datasets, seeded on first use."""
    return _sqlite_cached("store-shipped", seed_shipped)


def postgres_shipped_store(admin_url: str) -> str:
    """A cached PostgreSQL database with both shipped datasets; returns its URL."""
    return _postgres_cached(admin_url, "bench_shipped", seed_shipped)


#: The scale benchmark's store: ten million generated vehicles, built in the database.
SCALE_SIZE = 10_000_000
#: Slots of the maker lookup array: shares of the Zipf-like skew, to 1 in 10,000.
MAKER_SLOTS = 10_000


def _fill_in_sql(url: str, size: int, seed: int = SEED) -> None:
    """Fill a migrated PostgreSQL store with ``size`` generated vehicles in one INSERT ...
    SELECT over ``generate_series``: Python hands over only the sample's 406 cars and the
    maker shares, so ten million rows take minutes, not hours.

    The rows follow ``generate``'s recipe (a random sample car, noise on horsepower and
    mpg, a maker from the Zipf-like skew) with PostgreSQL's seeded ``random()``, so they
    are not the same rows as ``generate``'s. The vehicles' secondary indexes are dropped
    for the load and built again after it, which is several times faster than keeping them
    up to date row by row.
    """
    cars = load_sample()
    sample_makers = sorted({car.manufacturer for car in cars})
    by_size = sorted(sample_makers, key=lambda m: -sum(c.manufacturer == m for c in cars))
    makers = by_size + [f"Marque {n:03d}" for n in range(len(by_size) + 1, MAKERS + 1)]
    slots = np.repeat(
        np.arange(1, len(makers) + 1),
        np.round(zipf_shares(len(makers), LARGEST_SHARE) * MAKER_SLOTS).astype(np.int64),
    ).tolist()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Dataset), {"id": DATASET_ID, **asdict(SHIPPED[SAMPLE_DATASET])})
        conn.exec_driver_sql(
            "INSERT INTO manufacturers (id, name) VALUES (%s, %s)",
            list(enumerate(makers, start=1)),
        )
        for table, last_id in (("manufacturers", len(makers)), ("datasets", DATASET_ID)):
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (table, last_id)
            )
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE sample_cars (n integer PRIMARY KEY, model text, "
            "year integer, horsepower float8, combined_mpg float8, cylinders integer, "
            "displacement float8, weight float8, acceleration float8, origin text)"
        )
        conn.exec_driver_sql(
            "INSERT INTO sample_cars VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    n,
                    car.model,
                    car.year,
                    car.horsepower,
                    car.combined_mpg,
                    car.cylinders,
                    car.displacement,
                    car.weight,
                    car.acceleration,
                    car.origin,
                )
                for n, car in enumerate(cars)
            ],
        )
        indexes = conn.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'vehicles' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).all()
        for name, _definition in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        conn.exec_driver_sql("SELECT setseed(%s)", (seed % 1000 / 1000,))
        conn.exec_driver_sql(
            f"""
            INSERT INTO vehicles ({", ".join(COLUMNS)})
            SELECT {DATASET_ID}, (%(slots)s::integer[])[1 + floor(random() * %(count)s)::int],
                   c.model, c.year,
                   round((c.horsepower * g.factor)::numeric, 1)::float8,
                   round((c.combined_mpg / g.factor)::numeric, 1)::float8,
                   c.cylinders, c.displacement, c.weight, c.acceleration, c.origin
            FROM (
                SELECT floor(random() * {len(cars)})::int AS n,
                       0.9 + random() * 0.2 AS factor
                FROM generate_series(1, %(size)s)
            ) AS g
            JOIN sample_cars AS c USING (n)
            """,
            {"slots": slots, "count": len(slots), "size": size},
        )
        for _name, definition in indexes:
            conn.exec_driver_sql(definition)
        summary.rebuild(conn)
        conn.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
    engine.dispose()
    _analyze(url)


def postgres_scale_store(admin_url: str, size: int = SCALE_SIZE, seed: int = SEED) -> str:
    """A cached PostgreSQL database of ``size`` (ten million) vehicles; returns its URL."""
    return _postgres_cached(
        admin_url, f"bench_scale_{size}_{seed}", lambda url: _fill_in_sql(url, size, seed)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--size", type=int, choices=SIZES)
    which.add_argument("--shipped", action="store_true", help="both shipped datasets")
    which.add_argument("--scale", action="store_true", help="ten million vehicles (PostgreSQL)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--postgres", help="a PostgreSQL URL on the server to use")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    where: Path | str
    if args.scale:
        where = postgres_scale_store(args.postgres or PG_ADMIN_URL)
    elif args.shipped:
        where = postgres_shipped_store(args.postgres) if args.postgres else sqlite_shipped_store()
    elif args.postgres:
        where = postgres_store(args.postgres, args.size, args.seed)
    else:
        where = sqlite_store(args.size, args.seed)
    print(f"store in {where} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
