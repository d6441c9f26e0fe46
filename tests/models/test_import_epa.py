"""The shipped EPA file imported end to end, once per run: counts, a known row's derived
combined figure, and a second import that changes nothing."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, func, select

from models.audit import Actor
from models.db import db
from models.editing import write_transaction
from models.importer import ImportReport, commit_import, dry_run
from models.sample import EPA_DATASET
from models.validation import combined_mpg
from models.vehicle import Dataset, Manufacturer, Vehicle
from server import create_app
from tests.conftest import _test_config, reset_store

EPA_FILE = Path(__file__).resolve().parents[2] / "models/data/epa-vehicles-1984-2015.csv.gz"
ACTOR = Actor(name="test", source="cli")


@pytest.fixture(scope="module")
def epa_app(database_url: str) -> Iterator[tuple[Flask, list[ImportReport]]]:
    """A store holding only the EPA file, imported twice; and the four reports (dry run and
    commit, twice), as the web import makes them."""
    app = create_app(_test_config(database_url))
    reports = []
    with app.app_context():
        with db.engine.begin() as conn:
            reset_store(conn)
        for _ in range(2):
            with db.engine.connect() as conn:
                reports.append(dry_run(conn, EPA_FILE, EPA_DATASET))
            with write_transaction() as conn:
                reports.append(commit_import(conn, ACTOR, EPA_FILE, EPA_DATASET))
        yield app, reports
        with db.engine.begin() as conn:
            reset_store(conn)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def epa(epa_app: tuple[Flask, list[ImportReport]]) -> Iterator[Connection]:
    with epa_app[0].app_context(), db.engine.connect() as conn:
        yield conn


def _count(conn: Connection, *where: Any) -> int:
    return conn.scalar(select(func.count()).select_from(Vehicle).join(Manufacturer).where(*where))


def test_every_row_is_imported(epa: Connection, epa_app: Any) -> None:
    first_dry, first, _, _ = epa_app[1]
    assert (first_dry.new, first_dry.updated, first_dry.invalid) == (33_442, 0, 0)
    assert (first.new, first.updated, first.invalid) == (33_442, 0, 0)
    assert first_dry.warnings == []
    assert first_dry.plottable == 33_442 - 60  # 57 empty displacements, 3 written as 0
    assert _count(epa) == 33_442
    assert _count(epa, Manufacturer.name == "Chevrolet") == 3_461
    imported_by = epa.scalar(select(Dataset.imported_by).where(Dataset.slug == EPA_DATASET))
    assert imported_by == "test"


def test_fuel_type_counts_match_the_data_readme(epa: Connection) -> None:
    rows = epa.execute(select(Vehicle.fuel_type, func.count()).group_by(Vehicle.fuel_type))
    counts = {fuel: count for fuel, count in rows}
    assert counts == {
        "Regular": 22_622,
        "Premium": 8_617,
        "Gasoline or E85": 1_043,
        "Diesel": 874,
        "Premium or E85": 88,
        "CNG": 58,
        "Electricity": 55,
        "Midgrade": 43,
        "Gasoline or natural gas": 18,
        "Regular Gas and Electricity": 8,
        "Gasoline or propane": 8,
        "Premium Gas or Electricity": 7,
        "Premium and Electricity": 1,
    }
    electric = select(func.count()).where(Vehicle.powertrain == "EV")
    assert epa.scalar(electric) == 55


def test_a_known_row_has_the_epa_combined_figure(epa: Connection) -> None:
    row = epa.execute(
        select(Vehicle, Manufacturer.name.label("maker"))
        .join(Manufacturer)
        .where(Vehicle.source_id == "13309")
    ).one()
    assert (row.maker, row.model, row.year, row.city_mpg, row.highway_mpg) == (
        "Acura",
        "2.2CL/3.0CL",
        1997,
        20.0,
        26.0,
    )
    assert row.combined_mpg == pytest.approx(1 / (0.55 / 20 + 0.45 / 26), abs=1e-9)
    assert row.combined_mpg == pytest.approx(combined_mpg(20, 26), abs=1e-12)
    assert round(row.combined_mpg, 2) == 22.32
    assert row.combined_mpg_derived is True
    assert (row.displacement, row.cylinders, row.vehicle_class) == (2.2, 4, "Subcompact Cars")


def test_importing_again_adds_nothing(epa: Connection, epa_app: Any) -> None:
    _, _, again_dry, again = epa_app[1]
    assert (again_dry.new, again_dry.updated, again_dry.invalid) == (0, 33_442, 0)
    assert (again.new, again.updated, again.invalid) == (0, 33_442, 0)
    assert _count(epa) == 33_442
    distinct = select(func.count(func.distinct(Vehicle.source_id)))
    assert epa.scalar(distinct) == 33_442
