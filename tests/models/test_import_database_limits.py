"""The import's dry run refuses every row the database would refuse at the confirm, so the
confirm never fails with a raw DataError or IntegrityError (issue 16).

Values that pass the field rules can still break a column's limit: a unit conversion can
turn a tiny positive displacement into 0 litres (the "> 0" check constraint), a tiny
consumption in L/100 km into infinite mpg, or a weight past the measurements' bound; and
an update by fueldash id can give a vehicle a source id another vehicle of the dataset
holds (the unique constraint).
"""

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Connection, func, select

from models.audit import Actor, AuditEntry
from models.db import db
from models.editing import write_transaction
from models.importer import (
    ColumnChoice,
    ImportRejected,
    Mapping,
    RowProblem,
    commit_import,
    dry_run,
)
from models.vehicle import Vehicle

SAMPLE = "auto-mpg"
ACTOR = Actor(name="test", source="cli")
#: 5e-324, the smallest positive float, written as a plain decimal (files may not use
#: exponents).
TINY = "0." + "0" * 323 + "5"


def _counts(conn: Connection) -> tuple[int, int]:
    vehicles = conn.scalar(select(func.count()).select_from(Vehicle)) or 0
    return vehicles, conn.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _confirm_refuses(app: Flask, path: Path, mapping: Mapping | None, errors: list[str]) -> None:
    """The confirm refuses the file for exactly the dry run's reasons and writes nothing."""
    with db.engine.connect() as conn:
        before = _counts(conn)
    with pytest.raises(ImportRejected) as refused, write_transaction() as conn:
        commit_import(conn, ACTOR, path, SAMPLE, mapping)
    assert refused.value.report.errors == errors
    with db.engine.connect() as conn:
        assert _counts(conn) == before


def test_values_that_leave_their_range_once_converted(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(
        "make,model,mpg,disp,mass,cons\n"
        f"Ford,tiny engine,20,{TINY},2,\n"
        "Ford,heavy,20,2,1500,\n"
        f"Ford,thirsty,,2,2,{TINY}\n"
        "Ford,fine,20,122,3,\n"
    )
    mapping = {
        "make": ColumnChoice("manufacturer"),
        "model": ColumnChoice("model"),
        "mpg": ColumnChoice("combined_mpg"),
        "disp": ColumnChoice("displacement", "cu in"),
        "mass": ColumnChoice("weight", "1000 lb"),
        "cons": ColumnChoice("city_mpg", "l/100km"),
    }
    problems = [
        RowProblem(
            2, "displacement", TINY, "must be greater than 0 once converted from cu in to l"
        ),
        RowProblem(
            3, "weight", "1500", "must be less than 1,000,000 once converted from 1000 lb to lb"
        ),
        RowProblem(4, "city_mpg", TINY, "not a finite number once converted from l/100km to mpg"),
    ]
    expected = [str(problem) for problem in problems]
    with app.app_context():
        with db.engine.connect() as conn:
            report = dry_run(conn, path, SAMPLE, mapping)
        assert report.errors == expected
        assert (report.new, report.invalid) == (1, 3)
        _confirm_refuses(app, path, mapping, expected)


def test_an_update_may_not_take_another_vehicles_source_id(app: Flask, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text("id,make,model,mpg\nA,Ford,alpha,20\nB,Ford,beta,21\n")
    with app.app_context():
        with write_transaction() as conn:
            assert commit_import(conn, ACTOR, first, SAMPLE).new == 2
        with db.engine.connect() as conn:
            ids = dict(
                conn.execute(
                    select(Vehicle.source_id, Vehicle.id).where(Vehicle.source_id.is_not(None))
                ).all()
            )
        export = tmp_path / "export.csv"
        export.write_text(
            "fueldash_id,source_id,manufacturer,model,combined_mpg\n"
            f"{ids['A']},B,Ford,alpha,20\n"  # B belongs to the other vehicle
            f"{ids['B']},C,Ford,beta,22\n"  # a new one: fine
        )
        expected = [f'row 2, source_id, "B": vehicle {ids["B"]} in {SAMPLE} already has this id']
        with db.engine.connect() as conn:
            report = dry_run(conn, export, SAMPLE)
        assert report.errors == expected
        assert (report.updated, report.invalid) == (1, 1)
        _confirm_refuses(app, export, None, expected)
