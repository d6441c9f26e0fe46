"""Typed read queries over the vehicle store, shared by the dashboard and the API."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, select

from models.vehicle import Manufacturer, Vehicle

#: Longest manufacturer name a query will look up; anything longer cannot exist.
MAX_MANUFACTURER_NAME = 80


@dataclass(frozen=True, slots=True)
class ManufacturerSummary:
    """A manufacturer with how many vehicles it has and how many of them can be plotted."""

    id: int
    name: str
    vehicles: int
    plottable: int


def plottable_condition() -> Any:
    """Vehicles with both horsepower and mpg: the ones the default chart can place."""
    return Vehicle.horsepower.is_not(None) & Vehicle.combined_mpg.is_not(None)


def manufacturer_summaries(conn: Connection) -> list[ManufacturerSummary]:
    """Every manufacturer, by name, with its vehicle and plottable counts."""
    plottable_count = func.count(case((plottable_condition(), Vehicle.id)))
    stmt = (
        select(Manufacturer.id, Manufacturer.name, func.count(Vehicle.id), plottable_count)
        .outerjoin(Vehicle, Vehicle.manufacturer_id == Manufacturer.id)
        .group_by(Manufacturer.id, Manufacturer.name)
        .order_by(Manufacturer.name)
    )
    return [ManufacturerSummary(*row) for row in conn.execute(stmt)]


def find_manufacturer(conn: Connection, name: str) -> tuple[int, str] | None:
    """Look a manufacturer up by name, ignoring case; None when there is no such maker."""
    if not name or len(name) > MAX_MANUFACTURER_NAME:
        return None
    stmt = select(Manufacturer.id, Manufacturer.name).where(
        func.lower(Manufacturer.name) == name.strip().lower()
    )
    row = conn.execute(stmt).first()
    return None if row is None else (row.id, row.name)


def count_unplottable(conn: Connection) -> tuple[int, int]:
    """(vehicles missing horsepower or mpg, all vehicles) across the whole store."""
    total, plottable = conn.execute(
        select(func.count(Vehicle.id), func.count(case((plottable_condition(), Vehicle.id))))
    ).one()
    return total - plottable, total
