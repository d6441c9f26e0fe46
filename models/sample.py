"""The 406-car sample that vega_datasets ships, and seeding an empty store with it.

The file is read from the installed package with ``importlib.resources``; nothing is
fetched over the network.
"""

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import Connection, func, insert, select

from models.datasets import dataset_id_for
from models.normalize import split_car_name
from models.vehicle import Manufacturer, Vehicle, bump_data_version

SAMPLE_PACKAGE = "vega_datasets"
SAMPLE_PATH = "_data/cars.json"
SAMPLE_DATASET = "auto-mpg"
SAMPLE_SIZE = 406
LITRES_PER_CUBIC_INCH = 0.016387064

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
        conn.execute(select(func.pg_advisory_xact_lock(SEED_LOCK_KEY)))
    # SQLite: the transaction was opened with BEGIN IMMEDIATE, which holds the write lock.


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
    bump_data_version(conn)
    return len(cars)
