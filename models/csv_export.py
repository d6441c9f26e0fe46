"""Vehicles as CSV, streamed row by row, for the admin list's export.

The header uses the import's column names (``id`` first), so an exported file imports
back as updates. Kept small on purpose: it can be swapped for the API's shared CSV
writer once that exists.
"""

import csv
import io
from collections.abc import Iterator

from sqlalchemy import Connection

from models.filters import VehicleFilter
from models.listing import vehicle_rows
from models.validation import VEHICLE_FIELDS
from models.vehicle import Vehicle

EXPORT_COLUMNS = ("id", *VEHICLE_FIELDS)
ROWS_PER_CHUNK = 1000


def write_vehicles_csv(conn: Connection, vehicle_filter: VehicleFilter) -> Iterator[str]:
    """Chunks of CSV text: the header, then every matching vehicle by id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    result = conn.execution_options(yield_per=ROWS_PER_CHUNK).execute(
        vehicle_rows(vehicle_filter).order_by(Vehicle.id)
    )
    for partition in result.partitions():
        for row in partition:
            writer.writerow(
                ["" if getattr(row, c) is None else getattr(row, c) for c in EXPORT_COLUMNS]
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
