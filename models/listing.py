"""Paged, sorted, filtered vehicle lists for the admin pages (filtering is ``VehicleFilter``)."""

from typing import Any

from sqlalchemy import Connection, Row, select

from models.api_queries import count_vehicles, select_vehicles
from models.filters import VehicleFilter
from models.paging import Page
from models.summary import FilterValue
from models.vehicle import Dataset, Manufacturer, Vehicle

MAX_PER_PAGE = 100

#: Sort keys the list accepts, with the column each sorts by.
SORTS: dict[str, Any] = {
    "id": Vehicle.id,
    "dataset": Dataset.slug,
    "manufacturer": Manufacturer.name,
    "model": Vehicle.model,
    "year": Vehicle.year,
    "horsepower": Vehicle.horsepower,
    "combined_mpg": Vehicle.combined_mpg,
    "cylinders": Vehicle.cylinders,
    "weight": Vehicle.weight,
    "origin": Vehicle.origin,
}


VehiclePage = Page[Row[Any]]


def vehicle_page(
    conn: Connection,
    vehicle_filter: VehicleFilter,
    *,
    sort: str = "id",
    descending: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> VehiclePage:
    """The requested page of matching vehicles; unknown sorts fall back to id."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    column = SORTS.get(sort, Vehicle.id)
    order = column.desc() if descending else column.asc()
    total = count_vehicles(conn, vehicle_filter)
    stmt = (
        select_vehicles(vehicle_filter)
        .order_by(order.nulls_last(), Vehicle.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return Page(list(conn.execute(stmt)), total, page, per_page)


def origins(conn: Connection) -> list[str]:
    """Every origin in the store, for the filter's choices (from the summary)."""
    stmt = (
        select(FilterValue.value)
        .where(FilterValue.field == "origins", FilterValue.vehicles > 0)
        .distinct()
        .order_by(FilterValue.value)
    )
    return list(conn.scalars(stmt))


def manufacturer_names(conn: Connection) -> list[tuple[int, str]]:
    """(id, name) of every manufacturer, by name."""
    return [
        (r.id, r.name)
        for r in conn.execute(
            select(Manufacturer.id, Manufacturer.name).order_by(Manufacturer.name)
        )
    ]
