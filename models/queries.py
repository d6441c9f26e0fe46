"""Typed read queries over the vehicle store, shared by the dashboard and the API; counts
come from the summary (``models.summary``), never from a pass over the vehicles."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from models.datasets import UnknownDataset
from models.summary import VehicleSummary
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
    """Every manufacturer, by name, with its vehicle and plottable counts (horsepower and
    mpg), from the summary (``models.summary``).

    With a dataset slug: the manufacturers with vehicles in that dataset, counting only
    those, plottable on the dataset's default axes. UnknownDataset when no dataset has it.
    """
    if dataset is None:
        stmt = (
            select(
                Manufacturer.id,
                Manufacturer.name,
                func.coalesce(func.sum(VehicleSummary.vehicles), 0),
                func.coalesce(func.sum(VehicleSummary.plottable), 0),
            )
            .outerjoin(VehicleSummary, VehicleSummary.manufacturer_id == Manufacturer.id)
            .group_by(Manufacturer.id, Manufacturer.name)
            .order_by(Manufacturer.name)
        )
        return [ManufacturerSummary(*row) for row in conn.execute(stmt)]
    dataset_id = conn.scalar(select(Dataset.id).where(Dataset.slug == dataset))
    if dataset_id is None:
        raise UnknownDataset(f"no dataset is named {dataset!r}")
    stmt = (
        select(
            Manufacturer.id,
            Manufacturer.name,
            VehicleSummary.vehicles,
            VehicleSummary.default_plottable,
        )
        .join(VehicleSummary, VehicleSummary.manufacturer_id == Manufacturer.id)
        .where(VehicleSummary.dataset_id == dataset_id, VehicleSummary.vehicles > 0)
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
    dataset with that slug; from the summary."""
    stmt = select(
        func.coalesce(func.sum(VehicleSummary.vehicles), 0),
        func.coalesce(func.sum(VehicleSummary.plottable), 0),
    )
    if dataset is not None:
        stmt = stmt.join(Dataset, Dataset.id == VehicleSummary.dataset_id).where(
            Dataset.slug == dataset
        )
    total, plottable = conn.execute(stmt).one()
    return total - plottable, total
