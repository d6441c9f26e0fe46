"""An XLSX import is read as a stream: openpyxl's read-only reader hands over the sheet a
chunk of at most ``BATCH_SIZE`` rows at a time, and the dry run reports progress per chunk,
so a worker never holds the whole sheet's rows (bench.import_memory measures the RSS)."""

from pathlib import Path

import openpyxl
from sqlalchemy import Connection

from models.importer import BATCH_SIZE, dry_run, read_chunks

ROWS = 2 * BATCH_SIZE + 500


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["make", "model", "mpg", "hp"])
    for n in range(ROWS):
        sheet.append(["Ford", f"model {n}", 20 + n % 10, 80 + n % 50])
    book.save(path)
    return path


def test_an_xlsx_is_read_a_bounded_chunk_at_a_time(conn: Connection, tmp_path: Path) -> None:
    path = _workbook(tmp_path / "cars.xlsx")
    chunks = read_chunks(path)
    first = next(chunks)
    assert first[0] == ["make", "model", "mpg", "hp"]
    assert first[1] == ["Ford", "model 0", "20", "80"]
    sizes = [len(first), *(len(chunk) for chunk in chunks)]
    assert sizes == [BATCH_SIZE, BATCH_SIZE, 501]  # the header is in the first chunk
    ticks: list[int] = []
    report = dry_run(conn, path, "auto-mpg", progress=ticks.append)
    assert (report.new, report.invalid) == (ROWS, 0)
    assert ticks == [BATCH_SIZE - 1, BATCH_SIZE, 501]
