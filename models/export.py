"""CSV export of vehicles: streamed for the API's ``format=csv``, or written to a file by
the export job (``write_vehicles_csv``), which is complete or absent, never cut short."""

import csv
import io
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from sqlalchemy import Connection

from models.api_queries import ROW_FIELDS, Sort, iter_vehicle_rows
from models.compare import L100KM_PER_MPG
from models.filters import VehicleFilter

#: The export's header: the id column is named so that an import of the file knows its
#: ids are fueldash's own (a plain ``id`` is another file's row id).
EXPORT_HEADER: tuple[str, ...] = ("fueldash_id", *ROW_FIELDS[1:])
#: The units an export can give fuel economy in: as stored, or litres per 100 km.
UNITS = ("mpg", "l100km")
#: The fuel-economy columns an export in L/100 km converts, and what it calls them. The
#: importer ignores these names, so importing such a file leaves the stored mpg alone.
L100KM_COLUMNS = {
    "city_mpg": "city_l_per_100km",
    "highway_mpg": "highway_l_per_100km",
    "combined_mpg": "combined_l_per_100km",
}
#: Whether the combined figure was derived: not converted, named after its column.
L100KM_FLAGS = {"combined_mpg_derived": "combined_l_per_100km_derived"}
#: Characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Rows fetched per round trip by a file export (the stream uses the caller's size).
EXPORT_BATCH = 5000


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def export_header(units: str = "mpg") -> tuple[str, ...]:
    """The export's column names, the fuel-economy ones named in ``units``."""
    if units == "mpg":
        return EXPORT_HEADER
    renamed = L100KM_COLUMNS | L100KM_FLAGS
    return tuple(renamed.get(name, name) for name in EXPORT_HEADER)


def l100km(mpg: float | None) -> float | None:
    """Litres per 100 km for miles per US gallon, to 0.01 L; None stays unknown."""
    if mpg is None or mpg <= 0:
        return None
    return round(L100KM_PER_MPG / mpg, 2)


def _converter(units: str) -> Callable[[Sequence[object]], list[object]]:
    """What turns a stored row into the export's cells, in ``units``."""
    if units not in UNITS:
        raise ValueError(f"units must be one of {', '.join(UNITS)}, not {units!r}")
    converted = L100KM_COLUMNS if units == "l100km" else {}
    fuel = {i for i, name in enumerate(EXPORT_HEADER) if name in converted}

    def cells(row: Sequence[object]) -> list[object]:
        return [
            l100km(value) if i in fuel and isinstance(value, int | float) else _cell(value)
            for i, value in enumerate(row)
        ]

    return cells


def _csv_batches(
    conn: Connection,
    vehicle_filter: VehicleFilter | None,
    sort: Sort | None,
    batch_size: int,
    units: str = "mpg",
) -> Iterator[tuple[str, int]]:
    """(CSV text, rows in it): the header line first, then one entry per batch of rows.

    Rows come from a server-side cursor a batch at a time, so memory stays flat however
    many vehicles match. ``units`` "l100km" gives the fuel economy in litres per 100 km,
    in columns named for it.
    """
    cells = _converter(units)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(export_header(units))
    yield buffer.getvalue(), 0
    for batch in iter_vehicle_rows(
        conn, vehicle_filter or VehicleFilter(), sort or Sort(), batch_size
    ):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(cells(row) for row in batch)
        yield buffer.getvalue(), len(batch)


def iter_vehicles_csv(
    conn: Connection,
    vehicle_filter: VehicleFilter | None = None,
    sort: Sort | None = None,
    batch_size: int = 1000,
    units: str = "mpg",
) -> Iterator[str]:
    """The header line, then the filtered vehicles in chunks of CSV text, the fuel economy
    in ``units`` ("mpg" as stored, or "l100km")."""
    for text, _rows in _csv_batches(conn, vehicle_filter, sort, batch_size, units):
        yield text


def partial_path(path: Path) -> Path:
    """The temporary name ``write_vehicles_csv`` writes ``path`` under until it is whole."""
    return path.with_name(path.name + ".part")


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
    partial = partial_path(path)
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
