"""CSV export of vehicles, streamed: the API's ``format=csv`` and the admin export share it."""

import csv
import io
from collections.abc import Iterator

from sqlalchemy import Connection

from models.api_queries import ROW_FIELDS, Sort, iter_vehicle_rows
from models.filters import VehicleFilter

#: The export's header: the id column is named so that an import of the file knows its
#: ids are fueldash's own (a plain ``id`` is another file's row id).
EXPORT_HEADER: tuple[str, ...] = ("fueldash_id", *ROW_FIELDS[1:])
#: Characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def iter_vehicles_csv(
    conn: Connection,
    vehicle_filter: VehicleFilter | None = None,
    sort: Sort | None = None,
    batch_size: int = 1000,
) -> Iterator[str]:
    """The header line, then the filtered vehicles in chunks of CSV text.

    Rows come from a server-side cursor a batch at a time, so memory stays flat however
    many vehicles match.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    yield buffer.getvalue()
    for batch in iter_vehicle_rows(
        conn, vehicle_filter or VehicleFilter(), sort or Sort(), batch_size
    ):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_cell(value) for value in row] for row in batch)
        yield buffer.getvalue()
