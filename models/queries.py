"""Typed read queries over the vehicle store, shared by the dashboard and the API."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, case, func, select

from models.columnar import plot_columns, plottable_condition
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


@dataclass(frozen=True, slots=True)
class PlotPoints:
    """One manufacturer's plottable vehicles as columns, plus how many were left out."""

    manufacturer: str
    horsepower: npt.NDArray[np.float32]
    mpg: npt.NDArray[np.float32]
    label: list[str]
    hidden: int
    #: Plottable vehicles before any point budget; None means every one is plotted.
    available: int | None = None  # [issue-5 point budget]

    @property
    def plotted(self) -> int:
        return len(self.label)

    @property
    def total_plottable(self) -> int:
        """How many vehicles could be plotted; more than ``plotted`` when a budget applied."""
        return self.plotted if self.available is None else self.available


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


def vehicles_for(
    conn: Connection, manufacturer: str, budget: int | None = None
) -> PlotPoints | None:
    """The named manufacturer's plottable points; None when the manufacturer is unknown.

    With a ``budget``, an evenly spread sample of at most that many comes back, and
    ``available`` says how many there were.
    """
    if not manufacturer or len(manufacturer) > MAX_MANUFACTURER_NAME:
        return None
    # [issue-5] prebuilt Core statements, columns straight into NumPy, thinned in the
    # database: models/columnar.py.
    columns = plot_columns(conn, manufacturer, budget)
    if columns is None:
        return None
    return PlotPoints(
        manufacturer=columns.manufacturer,
        horsepower=columns.horsepower,
        mpg=columns.mpg,
        label=columns.label,
        hidden=columns.hidden,
        available=columns.available,
    )


def count_unplottable(conn: Connection) -> tuple[int, int]:
    """(vehicles missing horsepower or mpg, all vehicles) across the whole store."""
    total, plottable = conn.execute(
        select(func.count(Vehicle.id), func.count(case((plottable_condition(), Vehicle.id))))
    ).one()
    return total - plottable, total
