"""The import engine on a real database: mapping, validation messages, all-or-nothing."""

import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, func, select

from models import importer
from models.audit import Actor, AuditEntry, vehicle_snapshots
from models.db import db
from models.editing import write_transaction
from models.importer import (
    ImportFileError,
    ImportRejected,
    commit_import,
    dry_run,
    estimate_rows,
    normalize_header,
)
from models.vehicle import Manufacturer, Vehicle

ACTOR = Actor(name="test", source="cli")


def _count(conn: Connection, model: Any) -> int:
    return conn.scalar(select(func.count()).select_from(model)) or 0


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cars.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Miles_per_Gallon", "miles per gallon"), ("  HP ", "hp"), ("weight-in-lbs", "weight in lbs")],
)
def test_headers_are_normalized(header: str, expected: str) -> None:
    assert normalize_header(header) == expected


def test_synonyms_and_name_column(conn: Connection, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Name,Miles_per_Gallon,Horsepower,Weight_in_lbs,Year\n"
        "chevroelt chevelle,18,130,3504,1970\n"
        "vw rabbit,29,70,1937,1976\n",
    )
    report = dry_run(conn, path)
    assert (report.new, report.updated, report.invalid) == (2, 0, 0)


def test_problem_messages(conn: Connection, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "make,model,hp,mpg,year,cylinders,id\n"
        "Ford,a,not-a-number,20,1970,4,\n"
        "Ford,b,80,-5,1970,4,\n"
        ",c,80,20,1970,4,\n"
        "Ford,d,80,20,1970,4.5,\n"
        "Ford,e,80,20,1970,4,999999\n"
        "Ford,f,80,20,1970,4,abc\n"
        "Ford,g,80,inf,1970,4,\n"
        "Ford,h,80,20,1970,4,99999999999999999999\n",
    )
    report = dry_run(conn, path)
    assert (report.new, report.updated, report.invalid) == (0, 0, 8)
    assert [str(p) for p in report.problems] == [
        'row 2, horsepower, "not-a-number": not a number',
        'row 3, mpg, "-5": must be greater than 0',
        'row 4, manufacturer, "": is required',
        'row 5, cylinders, "4.5": not a whole number',
        'row 6, id, "999999": no vehicle has this id',
        'row 7, id, "abc": not a vehicle id',
        'row 8, mpg, "inf": not a finite number',
        'row 9, id, "99999999999999999999": not a vehicle id',
    ]


def test_semicolon_csv_is_read(conn: Connection, tmp_path: Path) -> None:
    path = _write(tmp_path, "make;model;mpg\nFord;pinto;25\n")
    assert dry_run(conn, path).new == 1


def test_missing_required_column(conn: Connection, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="missing required column: model"):
        dry_run(conn, _write(tmp_path, "make,hp\nFord,80\n"))


def test_a_late_invalid_row_undoes_earlier_batches(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    rows = "".join(f"Ford,late {i},80,20\n" for i in range(6)) + "Ford,bad,80,-1\n"
    path = _write(tmp_path, "make,model,hp,mpg\n" + rows)
    with app.app_context():
        with pytest.raises(ImportRejected), write_transaction() as conn:
            commit_import(conn, ACTOR, path)
        with db.engine.connect() as conn:
            assert _count(conn, Vehicle) == 406
            assert _count(conn, AuditEntry) == 0


def test_commit_writes_in_batches_in_one_transaction(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_SIZE", 3)
    rows = "".join(f"Brandnew,model {i},{60 + i},{20 + i / 10}\n" for i in range(10))
    path = _write(tmp_path, "make,model,hp,mpg\n" + rows)
    ticks: list[int] = []
    with app.app_context():
        with write_transaction() as conn:
            report = commit_import(conn, ACTOR, path, progress=ticks.append)
        assert (report.new, report.invalid) == (10, 0)
        assert ticks == [3, 3, 3, 1]
        with db.engine.connect() as conn:
            assert _count(conn, Vehicle) == 416
            assert _count(conn, AuditEntry) == 10
            mpgs = conn.scalars(
                select(Vehicle.mpg)
                .join(Manufacturer)
                .where(Manufacturer.name == "Brandnew")
                .order_by(Vehicle.mpg)
            ).all()
            assert mpgs == pytest.approx([20 + i / 10 for i in range(10)])


def test_estimate_rows(tmp_path: Path) -> None:
    assert estimate_rows(_write(tmp_path, "make,model\n" + "Ford,x\n" * 42)) == 42


def test_dry_run_streams(conn: Connection, tmp_path: Path) -> None:
    """Memory does not grow with the file: 40k rows peak far below the file's size x 10."""
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("make,model,hp,mpg,year\n")
        for i in range(40_000):
            out.write(f"Ford,model number {i},{50 + i % 100},{10 + i % 30},{1970 + i % 12}\n")
    tracemalloc.start()
    report = dry_run(conn, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.new == 40_000
    assert peak < 5 * 1024 * 1024, peak  # the file is about 1.3 MB; a list of rows is ~40 MB


def test_an_update_leaves_the_columns_the_file_lacks_as_they_are(
    app: Flask, tmp_path: Path
) -> None:
    with app.app_context():
        with db.engine.connect() as conn:
            ids = conn.scalars(
                select(Vehicle.id).where(Vehicle.weight.is_not(None)).order_by(Vehicle.id).limit(2)
            ).all()
            before = vehicle_snapshots(conn, ids)
        first, second = ids
        # No weight column at all; an empty mpg cell in a column that is present.
        path = _write(
            tmp_path,
            "id,make,model,hp,mpg\n"
            f"{first},{before[first]['manufacturer']},{before[first]['model']},111,\n"
            f"{second},{before[second]['manufacturer']},renamed,"
            f"{before[second]['horsepower']},{before[second]['mpg']}\n",
        )
        with write_transaction() as conn:
            assert commit_import(conn, ACTOR, path).updated == 2
        with db.engine.connect() as conn:
            after = vehicle_snapshots(conn, ids)
            entries = conn.execute(
                select(AuditEntry.vehicle_id, AuditEntry.before, AuditEntry.after).order_by(
                    AuditEntry.vehicle_id
                )
            ).all()
    assert after[first] == {**before[first], "horsepower": 111.0, "mpg": None}
    assert after[second] == {**before[second], "model": "renamed"}
    assert after[first]["weight"] is not None
    assert [tuple(e) for e in entries] == [
        (
            first,
            {"horsepower": before[first]["horsepower"], "mpg": before[first]["mpg"]},
            {"horsepower": 111.0, "mpg": None},
        ),
        (second, {"model": before[second]["model"]}, {"model": "renamed"}),
    ]


def test_an_update_with_an_empty_name_cell_is_invalid(conn: Connection, tmp_path: Path) -> None:
    vehicle_id = conn.scalar(select(func.min(Vehicle.id)))
    report = dry_run(conn, _write(tmp_path, f"id,name,mpg\n{vehicle_id},,20\n"))
    assert [str(p) for p in report.problems] == [
        'row 2, manufacturer, "": is required',
        'row 2, model, "": is required',
    ]
