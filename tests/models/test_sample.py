"""Reading the packaged sample and seeding the store with it."""

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from models import Manufacturer, Vehicle, current_data_version, load_sample, seed_sample
from models.db import db

REPO = Path(__file__).resolve().parents[2]


def test_sample_has_every_car_normalized() -> None:
    cars = load_sample()
    assert len(cars) == 406
    assert sum(car.horsepower is None for car in cars) == 6
    assert sum(car.combined_mpg is None for car in cars) == 8
    assert sum(car.horsepower is not None and car.combined_mpg is not None for car in cars) == 392
    makers = Counter(car.manufacturer for car in cars)
    assert makers["Chevrolet"] == 48
    assert makers["Volkswagen"] == 23
    assert makers["Toyota"] == 26
    assert makers["Ford"] == 54
    assert not {"chevy", "Chevy", "Vw", "Toyouta", "Maxda", "Mercedes", "Hi"} & set(makers)
    assert {car.year for car in cars} == set(range(1970, 1983)) - {1981}


def test_seed_stores_all_rows_with_nulls_for_unknowns(app: Flask) -> None:
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vehicle)) == 406
        missing_hp = db.session.scalar(
            select(func.count()).select_from(Vehicle).where(Vehicle.horsepower.is_(None))
        )
        assert missing_hp == 6
        sentinel = db.session.scalar(
            select(func.count())
            .select_from(Vehicle)
            .where((Vehicle.horsepower <= 0) | (Vehicle.combined_mpg <= 0))
        )
        assert sentinel == 0
        assert db.session.scalar(select(func.count()).select_from(Manufacturer)) == 30


def test_seed_is_idempotent(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as conn:
        version = current_data_version(conn)
        assert seed_sample(conn) == 0
        assert conn.scalar(select(func.count()).select_from(Vehicle)) == 406
        assert current_data_version(conn) == version


def test_seed_command_reports_what_it_did(empty_app: Flask) -> None:
    runner = empty_app.test_cli_runner()
    first = runner.invoke(args=["vehicles", "seed"])
    assert first.exit_code == 0, first.output
    assert "Seeded 406 vehicles into auto-mpg and 33442 vehicles into epa-1984-2015" in first.output
    second = runner.invoke(args=["vehicles", "seed"])
    assert second.exit_code == 0
    assert "nothing seeded" in second.output


def test_concurrent_seeders_insert_the_sample_once(empty_app: Flask) -> None:
    """Four processes seeding at the same moment, as gunicorn workers starting together."""
    env = {**os.environ, "DATABASE_URL": empty_app.config["SQLALCHEMY_DATABASE_URI"]}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "vehicles", "seed"]
    seeders = [
        subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [seeder.communicate(timeout=120)[0] for seeder in seeders]
    assert [seeder.returncode for seeder in seeders] == [0, 0, 0, 0]
    assert sum("Seeded 406" in out for out in outputs) == 1
    with empty_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vehicle)) == 406 + 33_442
