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
    ColumnChoice,
    ImportFileError,
    ImportRejected,
    choose_delimiter,
    commit_import,
    dry_run,
    estimate_rows,
    guess_mapping,
    normalize_header,
    parse_map_option,
    read_columns,
)
from models.vehicle import Manufacturer, Vehicle

SAMPLE = "auto-mpg"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

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
    report = dry_run(conn, path, SAMPLE)
    assert (report.new, report.updated, report.invalid) == (2, 0, 0)


def test_problem_messages(conn: Connection, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "make,model,hp,mpg,year,cylinders,fueldash_id\n"
        "Ford,a,not-a-number,20,1970,4,\n"
        "Ford,b,80,-5,1970,4,\n"
        ",c,80,20,1970,4,\n"
        "Ford,d,80,20,1970,4.5,\n"
        "Ford,e,80,20,1970,4,999999\n"
        "Ford,f,80,20,1970,4,abc\n"
        "Ford,g,80,inf,1970,4,\n"
        "Ford,h,80,20,1970,4,99999999999999999999\n",
    )
    report = dry_run(conn, path, SAMPLE)
    assert (report.new, report.updated, report.invalid) == (0, 0, 8)
    assert [str(p) for p in report.errors] == [
        'row 2, horsepower, "not-a-number": not a number',
        'row 3, combined_mpg, "-5": must be greater than 0',
        'row 4, manufacturer, "": is required',
        'row 5, cylinders, "4.5": not a whole number',
        'row 6, fueldash_id, "999999": no vehicle in auto-mpg has this id',
        'row 7, fueldash_id, "abc": not a vehicle id',
        'row 8, combined_mpg, "inf": not a finite number',
        'row 9, fueldash_id, "99999999999999999999": not a vehicle id',
    ]


def test_semicolon_csv_is_read(conn: Connection, tmp_path: Path) -> None:
    path = _write(tmp_path, "make;model;mpg\nFord;pinto;25\n")
    assert dry_run(conn, path, SAMPLE).new == 1


def test_missing_required_column(conn: Connection, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="missing required column: model"):
        dry_run(conn, _write(tmp_path, "make,hp\nFord,80\n"), SAMPLE)


def test_a_late_invalid_row_undoes_earlier_batches(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    rows = "".join(f"Ford,late {i},80,20\n" for i in range(6)) + "Ford,bad,80,-1\n"
    path = _write(tmp_path, "make,model,hp,mpg\n" + rows)
    with app.app_context():
        with pytest.raises(ImportRejected), write_transaction() as conn:
            commit_import(conn, ACTOR, path, SAMPLE)
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
            report = commit_import(conn, ACTOR, path, SAMPLE, progress=ticks.append)
        assert (report.new, report.invalid) == (10, 0)
        assert sum(ticks) == 10
        assert len(ticks) == 4 and max(ticks) <= 3  # the first chunk also holds the header
        with db.engine.connect() as conn:
            assert _count(conn, Vehicle) == 416
            assert _count(conn, AuditEntry) == 10
            mpgs = conn.scalars(
                select(Vehicle.combined_mpg)
                .join(Manufacturer)
                .where(Manufacturer.name == "Brandnew")
                .order_by(Vehicle.combined_mpg)
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
    dry_run(conn, _write(tmp_path, "make,model\nFord,x\n"), SAMPLE)  # loads pandas first
    tracemalloc.start()
    report = dry_run(conn, path, SAMPLE)
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
            "fueldash_id,make,model,hp,mpg\n"
            f"{first},{before[first]['manufacturer']},{before[first]['model']},111,\n"
            f"{second},{before[second]['manufacturer']},renamed,"
            f"{before[second]['horsepower']},{before[second]['combined_mpg']}\n",
        )
        with write_transaction() as conn:
            assert commit_import(conn, ACTOR, path, SAMPLE).updated == 2
        with db.engine.connect() as conn:
            after = vehicle_snapshots(conn, ids)
            entries = conn.execute(
                select(AuditEntry.vehicle_id, AuditEntry.before, AuditEntry.after).order_by(
                    AuditEntry.vehicle_id
                )
            ).all()
    assert after[first] == {**before[first], "horsepower": 111.0, "combined_mpg": None}
    assert after[second] == {**before[second], "model": "renamed"}
    assert after[first]["weight"] is not None
    assert [tuple(e) for e in entries] == [
        (
            first,
            {
                "horsepower": before[first]["horsepower"],
                "combined_mpg": before[first]["combined_mpg"],
            },
            {"horsepower": 111.0, "combined_mpg": None},
        ),
        (second, {"model": before[second]["model"]}, {"model": "renamed"}),
    ]


def test_an_update_with_an_empty_name_cell_is_invalid(conn: Connection, tmp_path: Path) -> None:
    vehicle_id = conn.scalar(select(func.min(Vehicle.id)))
    report = dry_run(conn, _write(tmp_path, f"fueldash_id,name,mpg\n{vehicle_id},,20\n"), SAMPLE)
    assert [str(p) for p in report.errors] == [
        'row 2, manufacturer, "": is required',
        'row 2, model, "": is required',
    ]


def test_the_full_epa_header_fills_every_mapped_field(app: Flask) -> None:
    path = FIXTURES / "epa-vehicles-full-header.csv"
    assert len(read_columns(path)) == 84
    with app.app_context():
        with db.engine.connect() as conn:
            report = dry_run(conn, path, "epa-1984-2015")
        assert (report.new, report.invalid, report.warnings) == (4, 0, [])
        assert report.plottable == 3  # the Tesla has no displacement
        mapped = {c: choice.field for c, choice in report.columns.items() if choice}
        assert mapped == {
            "city08": "city_mpg",
            "co2TailpipeGpm": "co2_g_per_mile",
            "comb08": "combined_mpg",
            "cylinders": "cylinders",
            "displ": "displacement",
            "drive": "drive",
            "fuelCost08": "annual_fuel_cost_usd",
            "fuelType": "fuel_type",
            "highway08": "highway_mpg",
            "id": "source_id",
            "make": "manufacturer",
            "model": "model",
            "range": "electric_range_miles",
            "trany": "transmission",
            "VClass": "vehicle_class",
            "year": "year",
            "atvType": "powertrain",
        }
        assert len(report.ignored) == 84 - len(mapped)
        with write_transaction() as conn:
            commit_import(conn, ACTOR, path, "epa-1984-2015")
        with db.engine.connect() as conn:
            rows = vehicle_snapshots(
                conn, conn.scalars(select(Vehicle.id).where(Vehicle.source_id.is_not(None)))
            )
    by_source = {row["source_id"]: row for row in rows.values()}
    assert by_source["13309"] == {
        "dataset": "epa-1984-2015",
        "manufacturer": "Acura",
        "model": "2.2CL/3.0CL",
        "year": 1997,
        "vehicle_class": "Subcompact Cars",
        "powertrain": "ICE",
        "fuel_type": "Regular",
        "horsepower": None,
        "city_mpg": 20.0,
        "highway_mpg": 26.0,
        "combined_mpg": 22.0,
        "cylinders": 4,
        "displacement": 2.2,
        "weight": None,
        "acceleration": None,
        "drive": "Front-Wheel Drive",
        "transmission": "Automatic 4-spd",
        "origin": None,
        "co2_g_per_mile": pytest.approx(403.95454545454544),
        "annual_fuel_cost_usd": 2000.0,
        "electric_range_miles": None,  # written as 0
        "source_id": "13309",
    }
    tesla = by_source["34918"]
    assert (tesla["powertrain"], tesla["fuel_type"], tesla["electric_range_miles"]) == (
        "EV",
        "Electricity",
        270.0,
    )
    assert (tesla["displacement"], tesla["cylinders"], tesla["co2_g_per_mile"]) == (None,) * 3
    assert by_source["35231"]["powertrain"] == "hybrid"
    assert by_source["34470"]["powertrain"] == "ICE"  # FFV: a flex-fuel engine


def test_short_names_codes_and_units(conn: Connection, tmp_path: Path) -> None:
    """ggplot2's mpg columns: drive and fuel codes are translated; mtcars' disp and wt are in
    cubic inches and thousands of pounds."""
    path = _write(
        tmp_path,
        "manufacturer,model,displ,year,cyl,trans,drv,cty,hwy,fl,class\n"
        "audi,a4,1.8,1999,4,auto(l5),f,18,29,p,compact\n"
        "ford,f150,4.6,1999,8,auto(l4),4,13,16,r,pickup\n",
    )
    report = dry_run(conn, path, SAMPLE)
    assert report.invalid == 0
    first, second = report.preview
    assert (first["drive"], first["fuel_type"], second["drive"], second["fuel_type"]) == (
        "Front-Wheel Drive",
        "Premium",
        "4-Wheel Drive",
        "Regular",
    )
    assert (first["displacement"], first["city_mpg"], first["transmission"]) == (
        1.8,
        18,
        "auto(l5)",
    )
    assert first["combined_mpg"] == pytest.approx(1 / (0.55 / 18 + 0.45 / 29))
    mtcars = _write(tmp_path, "name,mpg,cyl,disp,hp,wt\nmazda rx4,21,6,160,110,2.62\n")
    (car,) = dry_run(conn, mtcars, SAMPLE).preview
    assert car["displacement"] == pytest.approx(160 * 0.016387064)
    assert car["weight"] == pytest.approx(2620)
    assert (car["manufacturer"], car["model"], car["horsepower"]) == ("Mazda", "rx4", 110)


def test_an_explicit_mapping_converts_units(conn: Connection, tmp_path: Path) -> None:
    path = _write(tmp_path, "Marke;Typ;Verbrauch;Masse;Hubraum\nVW;Golf;5;1200;91.5\n")
    mapping = {
        "Marke": ColumnChoice("manufacturer"),
        "Typ": ColumnChoice("model"),
        "Verbrauch": ColumnChoice("combined_mpg", "l/100km"),
        "Masse": ColumnChoice("weight", "kg"),
        "Hubraum": ColumnChoice("displacement", "cu in"),
    }
    (car,) = dry_run(conn, path, SAMPLE, mapping).preview
    assert car["combined_mpg"] == pytest.approx(47.043, abs=1e-3)  # 5 L/100 km
    assert car["weight"] == pytest.approx(2645.547, abs=1e-3)
    assert car["displacement"] == pytest.approx(1.4994, abs=1e-4)
    km_per_litre = {"Verbrauch": ColumnChoice("combined_mpg", "km/l")}
    (car,) = dry_run(conn, path, SAMPLE, {**mapping, **km_per_litre}).preview
    assert car["combined_mpg"] == pytest.approx(11.7607, abs=1e-4)


def test_map_options_and_bad_mappings(conn: Connection, tmp_path: Path) -> None:
    assert parse_map_option("Hubraum=displacement:cu in") == (
        "Hubraum",
        ColumnChoice("displacement", "cu in"),
    )
    assert parse_map_option("notes=") == ("notes", None)
    with pytest.raises(ImportFileError, match="not COLUMN=FIELD"):
        parse_map_option("displacement")
    path = _write(tmp_path, "make,model,size\nFord,x,5\n")
    for mapping, message in (
        ({"size": ColumnChoice("price")}, "not a field"),
        ({"size": ColumnChoice("displacement", "gallons")}, "cannot be in 'gallons'"),
        ({"nope": ColumnChoice("weight")}, "no column 'nope'"),
        ({"size": ColumnChoice("model")}, "both map to model"),
    ):
        with pytest.raises(ImportFileError, match=message):
            dry_run(conn, path, SAMPLE, mapping)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_chosen_from_a_sample(delimiter: str) -> None:
    sample = delimiter.join(["make", "model", "note"]) + "\n"
    sample += delimiter.join(["Ford", "pinto", '"1,2;3"']) + "\n"
    assert choose_delimiter(sample) == delimiter


def test_no_fuel_figure_is_warned_about(conn: Connection, tmp_path: Path) -> None:
    report = dry_run(conn, _write(tmp_path, "make,model,hp\nFord,x,80\n"), SAMPLE)
    assert report.new == 1
    assert report.plottable == 0
    assert report.warnings == [
        "no column is mapped to a fuel figure (city_mpg, highway_mpg or combined_mpg), "
        "so no vehicle would be plotted"
    ]


def test_an_xlsx_file_imports(app: Flask, tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["make", "model", "year", "hp", "mpg", "id"])
    sheet.append(["Ford", "Pinto", 1974, 80, 25.5, 7])
    sheet.append(["Saab", 99, 1976, 110, 23, 8])
    path = tmp_path / "cars.xlsx"
    workbook.save(path)
    with app.app_context(), write_transaction() as conn:
        report = commit_import(conn, ACTOR, path, SAMPLE)
        assert (report.new, report.invalid) == (2, 0)
        rows = conn.execute(
            select(Vehicle.model, Vehicle.year, Vehicle.combined_mpg, Vehicle.source_id)
            .where(Vehicle.source_id.is_not(None))
            .order_by(Vehicle.source_id)
        ).all()
    assert rows == [("Pinto", 1974, 25.5, "7"), ("99", 1976, 23.0, "8")]


def test_other_files_ids_never_become_fueldash_ids(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        with db.engine.connect() as conn:
            first_id = conn.scalar(select(func.min(Vehicle.id)))
        path = _write(tmp_path, f"id,make,model,mpg\n{first_id},Ford,x,20\n{first_id},Ford,y,21\n")
        with db.engine.connect() as conn:
            twice = dry_run(conn, path, SAMPLE)
        assert twice.errors == [f'row 3, source_id, "{first_id}": row 2 has the same id']
        path = _write(tmp_path, f"id,make,model,mpg\n{first_id},Ford,x,20\n")
        for expected in ((1, 0), (0, 1)):
            with write_transaction() as conn:
                report = commit_import(conn, ACTOR, path, SAMPLE)
            assert (report.new, report.updated) == expected
        with db.engine.connect() as conn:
            assert _count(conn, Vehicle) == 407
            assert conn.scalar(select(Vehicle.model).where(Vehicle.id == first_id)) != "x"


def test_guess_mapping_prefers_the_trusted_name() -> None:
    mapping = guess_mapping(["fuelType1", "fuelType", "Name", "Displacement", "Weight_in_lbs"])
    assert mapping == {
        "fuelType1": None,
        "fuelType": ColumnChoice("fuel_type"),
        "Name": ColumnChoice("name"),
        "Displacement": ColumnChoice("displacement", "cu in"),  # the auto-mpg sample's unit
        "Weight_in_lbs": ColumnChoice("weight", "lb"),
    }


def test_cli_import_with_map_and_clear_errors(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    path = _write(tmp_path, "Marke,Typ,Verbrauch\nVW,Golf,5\n")
    base = ["vehicles", "import", str(path), "--map", "Marke=manufacturer", "--map", "Typ=model"]
    bad_map = runner.invoke(args=[*base, "--dataset", SAMPLE, "--map", "Verbrauch"])
    assert bad_map.exit_code == 1 and bad_map.exception is not None
    assert "'Verbrauch' is not COLUMN=FIELD[:UNIT]" in bad_map.output
    unknown = runner.invoke(args=[*base, "--dataset", "nope"])
    assert unknown.exit_code == 1
    assert "no dataset is named 'nope'" in unknown.output
    done = runner.invoke(
        args=[*base, "--dataset", SAMPLE, "--map", "Verbrauch=combined_mpg:l/100km"]
    )
    assert done.exit_code == 0, done.output
    assert "Imported 1 new and 0 updated vehicles." in done.output
    with app.app_context(), db.engine.connect() as conn:
        golf = conn.scalar(select(Vehicle.combined_mpg).where(Vehicle.model == "Golf"))
    assert golf == pytest.approx(47.043, abs=1e-3)
