"""CSV export of vehicles: streamed for the API's ``format=csv``, or written to a file by
the export job (``write_vehicles_csv``), which is complete or absent, never cut short."""

import csv
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Connection

from models.api_queries import ROW_FIELDS, Sort, iter_vehicle_rows
from models.filters import VehicleFilter

#: The export's header: the id column is named so that an import of the file knows its
#: ids are fueldash's own (a plain ``id`` is another file's row id).
EXPORT_HEADER: tuple[str, ...] = ("fueldash_id", *ROW_FIELDS[1:])
#: Characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Rows fetched per round trip by a file export (the stream uses the caller's size).
EXPORT_BATCH = 5000


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_batches(
    conn: Connection, vehicle_filter: VehicleFilter | None, sort: Sort | None, batch_size: int
) -> Iterator[tuple[str, int]]:
    """(CSV text, rows in it): the header line first, then one entry per batch of rows.

    Rows come from a server-side cursor a batch at a time, so memory stays flat however
    many vehicles match.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    yield buffer.getvalue(), 0
    for batch in iter_vehicle_rows(
        conn, vehicle_filter or VehicleFilter(), sort or Sort(), batch_size
    ):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_cell(value) for value in row] for row in batch)
        yield buffer.getvalue(), len(batch)


def iter_vehicles_csv(
    conn: Connection,
    vehicle_filter: VehicleFilter | None = None,
    sort: Sort | None = None,
    batch_size: int = 1000,
) -> Iterator[str]:
    """The header line, then the filtered vehicles in chunks of CSV text."""
    for text, _rows in _csv_batches(conn, vehicle_filter, sort, batch_size):
        yield text


def write_vehicles_csv(
    conn: Connection,
    path: Path,
    vehicle_filter: VehicleFilter | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the filtered vehicles as CSV to ``path``; returns how many rows were written.

    The rows go to a temporary name beside ``path``, which is renamed to ``path`` only once
    every row is on disk, so ``path`` is either the whole export or absent: an export that
    fails half-way never leaves a file that looks finished. ``progress`` is told the number
    of rows written so far after each batch.
    """
    partial = path.with_name(path.name + ".part")
    written = 0
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            for text, rows in _csv_batches(conn, vehicle_filter, None, EXPORT_BATCH):
                out.write(text)
                written += rows
                if progress and rows:
                    progress(written)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return written
