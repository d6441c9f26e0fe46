"""Typed read queries over the vehicle store, shared by the dashboard and the API."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, select

from models.datasets import UnknownDataset
from models.vehicle import Dataset, Manufacturer, Vehicle

#: Longest manufacturer name a query will look up; anything longer cannot exist.
MAX_MANUFACTURER_NAME = 80


@dataclass(frozen=True, slots=True)
class ManufacturerSummary:
    """A manufacturer with how many vehicles it has and how many of them can be plotted."""

    id: int
    name: str
    vehicles: int
    plottable: int


def plottable_condition(x: str = "horsepower", y: str = "combined_mpg") -> Any:
    """Vehicles with values for both fields: the ones a chart of ``x`` and ``y`` can place;
    by default horsepower and mpg, the default chart's."""
    return getattr(Vehicle, x).is_not(None) & getattr(Vehicle, y).is_not(None)


def manufacturer_summaries(
    conn: Connection, dataset: str | None = None
) -> list[ManufacturerSummary]:
    """Every manufacturer, by name, with its vehicle and plottable counts.

    With a dataset slug: the manufacturers with vehicles in that dataset, counting only
    those, plottable on the dataset's default axes. UnknownDataset when no dataset has it.
    """
    vehicles = Vehicle.manufacturer_id == Manufacturer.id
    plottable = plottable_condition()
    if dataset is not None:
        found = conn.execute(
            select(Dataset.id, Dataset.default_x, Dataset.default_y).where(Dataset.slug == dataset)
        ).first()
        if found is None:
            raise UnknownDataset(f"no dataset is named {dataset!r}")
        vehicles &= Vehicle.dataset_id == found.id
        plottable = plottable_condition(found.default_x, found.default_y)
    stmt = (
        select(
            Manufacturer.id,
            Manufacturer.name,
            func.count(Vehicle.id),
            func.count(case((plottable, Vehicle.id))),
        )
        .join(Vehicle, vehicles, isouter=dataset is None)
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


def count_unplottable(conn: Connection, dataset: str | None = None) -> tuple[int, int]:
    """(vehicles missing horsepower or mpg, all vehicles) across the whole store, or in the
    dataset with that slug."""
    stmt = select(func.count(Vehicle.id), func.count(case((plottable_condition(), Vehicle.id))))
    if dataset is not None:
        stmt = stmt.join(Dataset, Dataset.id == Vehicle.dataset_id).where(Dataset.slug == dataset)
    total, plottable = conn.execute(stmt).one()
    return total - plottable, total
