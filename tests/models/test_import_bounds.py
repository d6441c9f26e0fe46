"""Imports are bounded: a giant row, a too-wide row and an XLSX zip bomb are refused before
parsing; fueldash's own formula escaping round-trips."""

import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select

from models import importer
from models.audit import Actor
from models.importer import ImportFileError, commit_import, dry_run, estimate_rows, read_columns
from models.vehicle import Vehicle

ACTOR = Actor(name="test", source="cli")
HEADER = "manufacturer,model,year,horsepower,combined_mpg\n"


def _write(tmp_path: Path, text: str, name: str = "cars.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_giant_row_is_refused_before_parsing(conn: Connection, tmp_path: Path) -> None:
    long_model = "x" * (importer.MAX_ROW_BYTES + 10)
    path = _write(tmp_path, HEADER + "Ford,Pinto,1971,75,25\n" + f"Ford,{long_model},1971,75,25\n")
    with pytest.raises(ImportFileError, match=r"row 3 is longer than 65536 bytes"):
        dry_run(conn, path, "auto-mpg")


def test_a_giant_quoted_multiline_cell_is_refused(conn: Connection, tmp_path: Path) -> None:
    lines = "\n".join(["y" * 1000] * 100)  # many short lines inside one quoted cell
    path = _write(tmp_path, HEADER + f'Ford,"{lines}",1971,75,25\n')
    with pytest.raises(ImportFileError, match=r"row 2 is longer"):
        dry_run(conn, path, "auto-mpg")


def test_a_giant_row_in_gzip_is_refused(conn: Connection, tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "cars.csv.gz"
    path.write_bytes(gzip.compress((HEADER + "Ford," + "x" * 200_000 + ",1971,75,25\n").encode()))
    with pytest.raises(ImportFileError, match=r"row 2 is longer"):
        dry_run(conn, path, "auto-mpg")


def test_too_many_cells_are_refused(conn: Connection, tmp_path: Path) -> None:
    wide = ",".join(f"c{i}" for i in range(importer.MAX_ROW_CELLS + 1))
    path = _write(tmp_path, f"manufacturer,model,{wide}\nFord,Pinto," + "," * 200 + "\n")
    with pytest.raises(ImportFileError, match=r"row 1 has 203 cells; at most 200"):
        read_columns(path)


def test_a_row_longer_than_the_header_is_refused(conn: Connection, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "Ford,Pinto,1971,75,25" + ",1" * 500 + "\n")
    with pytest.raises(ImportFileError):
        dry_run(conn, path, "auto-mpg")


def test_rows_within_bounds_import(conn: Connection, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + 'Ford,"Pinto\nRunabout",1971,75,25\n')
    assert dry_run(conn, path, "auto-mpg").new == 1


def _xlsx_bomb(path: Path, size: int) -> Path:
    """A workbook whose sheet is ``size`` bytes of highly compressible XML."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", " " * size)
    return path


def test_an_xlsx_zip_bomb_is_refused(conn: Connection, tmp_path: Path) -> None:
    path = _xlsx_bomb(tmp_path / "bomb.xlsx", 20 * 1024 * 1024)
    assert path.stat().st_size < 100_000
    with pytest.raises(ImportFileError, match="compressed"):
        dry_run(conn, path, "auto-mpg")
    with pytest.raises(ImportFileError, match="compressed"):
        estimate_rows(path)


def test_an_xlsx_too_large_uncompressed_is_refused(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_XLSX_UNCOMPRESSED", 1000)
    monkeypatch.setattr(importer, "MAX_XLSX_RATIO", 10**9)
    path = _xlsx_bomb(tmp_path / "big.xlsx", 5000)
    with pytest.raises(ImportFileError, match="uncompressed"):
        dry_run(conn, path, "auto-mpg")


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_row_estimate_reads_the_dimension(tmp_path: Path) -> None:
    rows: list[list[object]] = [["manufacturer", "model", "year"]]
    rows += [["Ford", f"M{i}", 1970] for i in range(30)]
    path = _xlsx(tmp_path / "cars.xlsx", rows)
    assert estimate_rows(path) == 30


def test_formula_escaping_of_a_fueldash_export_is_undone(conn: Connection, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "fueldash_id,manufacturer,model,year\n,Zedmotor,'=1+1,1971\n,Zedmotor,'-x,1972\n,Zedmotor,'plain,1973\n",
    )
    commit_import(conn, ACTOR, path, "auto-mpg")
    written = ["=1+1", "-x", "'plain", "'=1+1", "'-x", "plain"]
    models = set(conn.scalars(select(Vehicle.model).where(Vehicle.model.in_(written))))
    assert models == {"=1+1", "-x", "'plain"}


def test_other_files_keep_their_apostrophes(conn: Connection, tmp_path: Path) -> None:
    path = _write(tmp_path, "manufacturer,model,year\nZedmotor,'=1+1,1971\n")
    commit_import(conn, ACTOR, path, "auto-mpg")
    assert set(conn.scalars(select(Vehicle.model).where(Vehicle.model.like("%1+1")))) == {"'=1+1"}


def test_an_xlsx_row_with_too_many_cells_is_refused(conn: Connection, tmp_path: Path) -> None:
    rows: list[list[object]] = [["manufacturer", "model", "year"], ["Ford", "Pinto", 1971]]
    rows.append(["Ford", "Wide", 1971, *range(importer.MAX_ROW_CELLS)])
    path = _xlsx(tmp_path / "wide.xlsx", rows)
    with pytest.raises(ImportFileError, match=r"row 3 has 203 cells; at most 200"):
        dry_run(conn, path, "auto-mpg")


def test_an_xlsx_row_too_long_is_refused(conn: Connection, tmp_path: Path) -> None:
    rows: list[list[object]] = [["manufacturer", "model", "year"]]
    rows.append(["Ford", "x" * 30_000, 1971])
    rows.append(["Ford", "y" * 40_000, "z" * 40_000])
    path = _xlsx(tmp_path / "long.xlsx", rows)
    with pytest.raises(ImportFileError, match=r"row 3 is longer than 65536 bytes"):
        dry_run(conn, path, "auto-mpg")


def test_an_xlsx_with_a_forged_dimension_reads_only_its_rows(
    conn: Connection, tmp_path: Path
) -> None:
    """A sheet claiming A1:XFD1048576 must not be padded to 16,384 columns a row."""
    path = _xlsx(
        tmp_path / "forged.xlsx",
        [["manufacturer", "model", "year", "mpg"], ["Zedmotor", "Forged", 1971, 25.5]],
    )
    forged = tmp_path / "forged2.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(forged, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:D2" />', b'<dimension ref="A1:XFD2" />')
                assert b"XFD2" in data
            target.writestr(member, data)
    report = dry_run(conn, forged, "auto-mpg")
    assert report.new == 1 and report.invalid == 0
    assert report.preview[0]["combined_mpg"] == 25.5


def test_refusing_a_giant_row_takes_little_memory(conn: Connection, tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "giant.csv"
    path.write_bytes((HEADER + "Ford," + "x" * 20_000_000 + ",1971,75,25\n").encode())
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError, match="row 2 is longer"):
            dry_run(conn, path, "auto-mpg")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024


def test_the_admin_upload_refuses_a_giant_row_and_a_zip_bomb(
    app: Any, client: Any, auth: Any, tmp_path: Path
) -> None:
    from sqlalchemy import func

    from models.db import db
    from tests.server.admin.test_import import upload

    auth.login()
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Vehicle))
    response = upload(client, HEADER + "Ford," + "x" * 100_000 + ",1971,75,25\n")
    assert response.status_code == 400
    assert "row 2 is longer than 65536 bytes" in response.get_data(as_text=True)
    bomb = _xlsx_bomb(tmp_path / "bomb.xlsx", 20 * 1024 * 1024).read_bytes()
    response = upload(client, bomb, "bomb.xlsx")
    assert response.status_code == 400
    assert "zip bomb" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vehicle)) == before


def test_an_export_imported_again_changes_nothing(conn: Connection, tmp_path: Path) -> None:
    from models.export import iter_vehicles_csv
    from models.filters import VehicleFilter

    path = _write(tmp_path, "manufacturer,model,year\nZedmotor,=1+1,1971\nZedmotor,@cmd,1972\n")
    commit_import(conn, ACTOR, path, "auto-mpg")
    conn.commit()
    # The export streams from a server-side cursor, on a connection of its own as in the app.
    with conn.engine.connect() as reader:
        exported = "".join(iter_vehicles_csv(reader, VehicleFilter(manufacturers=("Zedmotor",))))
    assert "'=1+1" in exported and "'@cmd" in exported
    again = _write(tmp_path, exported, "export.csv")
    report = commit_import(conn, ACTOR, again, "auto-mpg")
    assert report.updated == 2 and report.new == 0
    models = set(conn.scalars(select(Vehicle.model).where(Vehicle.year.in_([1971, 1972]))))
    assert {"=1+1", "@cmd"} <= models
    assert not any(model.startswith("'=") or model.startswith("'@") for model in models)


def test_the_bounds_are_settings(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, HEADER + "Ford,Pinto,1971,75,25\n")
    monkeypatch.setenv("IMPORT_MAX_ROW_BYTES", "30")
    with pytest.raises(ImportFileError, match="row 1 is longer than 30 bytes"):
        dry_run(conn, path, "auto-mpg")
    monkeypatch.setenv("IMPORT_MAX_ROW_BYTES", "not a number")  # the default holds
    monkeypatch.setenv("IMPORT_MAX_ROW_CELLS", "4")
    with pytest.raises(ImportFileError, match="row 1 has 5 cells; at most 4"):
        dry_run(conn, path, "auto-mpg")
