"""The shipped datasets: the 406-car sample that vega_datasets ships, the EPA's list in
``models/data``, and seeding an empty store with both.

Files are read from installed packages with ``importlib.resources``; nothing is fetched
over the network.
"""

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update

from models import summary
from models.audit import Actor
from models.datasets import dataset_id_for
from models.importer import commit_import
from models.normalize import split_car_name
from models.user import utcnow
from models.validation import LITRES_PER_CUBIC_INCH
from models.vehicle import Dataset, Manufacturer, Vehicle, bump_data_version

SAMPLE_PACKAGE = "vega_datasets"
SAMPLE_PATH = "_data/cars.json"
SAMPLE_DATASET = "auto-mpg"
SAMPLE_SIZE = 406
#: The EPA's list, shipped as package data (see models/data/README.md).
EPA_DATASET = "epa-1984-2015"
EPA_FILE = "epa-vehicles-1984-2015.csv.gz"

# Any fixed 64-bit number; only seeding takes this PostgreSQL advisory lock.
SEED_LOCK_KEY = 0x6675656C64617368  # "fueldash"


@dataclass(frozen=True, slots=True)
class SampleCar:
    """One sample row, already normalized."""

    manufacturer: str
    model: str
    year: int | None
    horsepower: float | None
    combined_mpg: float | None
    cylinders: int | None
    displacement: float | None
    weight: float | None
    acceleration: float | None
    origin: str | None


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _litres(cubic_inches: Any) -> float | None:
    # The sample gives engine displacement in cubic inches; fueldash stores litres.
    return None if cubic_inches is None else float(cubic_inches) * LITRES_PER_CUBIC_INCH


def _year(value: Any) -> int | None:
    # The sample writes model years as dates: "1970-01-01".
    return None if not value else int(str(value)[:4])


def load_sample() -> list[SampleCar]:
    """Read and normalize every car in the packaged sample."""
    raw = resources.files(SAMPLE_PACKAGE).joinpath(SAMPLE_PATH).read_text(encoding="utf-8")
    cars = []
    for record in json.loads(raw):
        manufacturer, model = split_car_name(record["Name"])
        cylinders = record.get("Cylinders")
        cars.append(
            SampleCar(
                manufacturer=manufacturer,
                model=model,
                year=_year(record.get("Year")),
                horsepower=_number(record.get("Horsepower")),
                combined_mpg=_number(record.get("Miles_per_Gallon")),
                cylinders=None if cylinders is None else int(cylinders),
                displacement=_litres(record.get("Displacement")),
                weight=_number(record.get("Weight_in_lbs")),
                acceleration=_number(record.get("Acceleration")),
                origin=record.get("Origin") or None,
            )
        )
    return cars


def _lock_for_seeding(conn: Connection) -> None:
    """Serialize concurrent seeders, so that workers starting together insert once."""
    if conn.dialect.name == "postgresql":
        # A seeder waits as long as another one's import takes: the statement timeout is
        # for request paths, not for this one-off wait.
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(select(func.pg_advisory_xact_lock(SEED_LOCK_KEY)))
    # SQLite: the transaction was opened with BEGIN IMMEDIATE, which holds the write lock
    # (the seed command waits for it longer than requests do: server/cli.py).


def seed_sample(conn: Connection) -> int:
    """Fill an empty store with the sample inside the caller's transaction.

    Returns how many vehicles were inserted: 406, or 0 when the store already had any.
    The caller must hold a transaction that began with ``sqlite_begin="IMMEDIATE"`` on
    SQLite; on PostgreSQL an advisory lock is taken here.
    """
    _lock_for_seeding(conn)
    if conn.scalar(select(func.count()).select_from(Vehicle)):
        return 0
    cars = load_sample()
    dataset_id = dataset_id_for(conn, SAMPLE_DATASET)
    names = sorted({car.manufacturer for car in cars})
    existing = dict(conn.execute(select(Manufacturer.name, Manufacturer.id)).all())
    missing = [{"name": name} for name in names if name not in existing]
    if missing:
        conn.execute(insert(Manufacturer), missing)
        existing = dict(conn.execute(select(Manufacturer.name, Manufacturer.id)).all())
    conn.execute(
        insert(Vehicle),
        [
            {
                "dataset_id": dataset_id,
                "manufacturer_id": existing[car.manufacturer],
                "model": car.model,
                "year": car.year,
                "horsepower": car.horsepower,
                "combined_mpg": car.combined_mpg,
                "cylinders": car.cylinders,
                "displacement": car.displacement,
                "weight": car.weight,
                "acceleration": car.acceleration,
                "origin": car.origin,
            }
            for car in cars
        ],
    )
    summary.rebuild(conn)  # the store was empty: this counts the sample's 406 rows
    bump_data_version(conn)
    return len(cars)


def seed_shipped(conn: Connection, actor: Actor) -> dict[str, int]:
    """Fill an empty store with both shipped datasets inside the caller's transaction (set
    up as for ``seed_sample``): the sample, and the EPA's list through the importer.

    Returns dataset slug -> vehicles inserted; empty when the store already had any.
    """
    inserted = seed_sample(conn)
    if not inserted:
        return {}
    conn.execute(
        update(Dataset)
        .where(Dataset.slug == SAMPLE_DATASET)
        .values(imported_at=utcnow(), imported_by=actor.name)
    )
    with resources.as_file(resources.files("models") / "data" / EPA_FILE) as path:
        report = commit_import(conn, actor, path, EPA_DATASET)
    return {SAMPLE_DATASET: inserted, EPA_DATASET: report.new}
