"""Typed read queries over the vehicle store, shared by the dashboard and the API."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, String, case, cast, func, select

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

    @property
    def plotted(self) -> int:
        return len(self.label)


def _plottable() -> object:
    return Vehicle.horsepower.is_not(None) & Vehicle.mpg.is_not(None)


def _hover_label() -> object:
    """ "model (year)", built by the database so Python makes one string per point."""
    year = func.coalesce(cast(Vehicle.year, String), "year unknown")
    return (Vehicle.model + " (" + year + ")").label("label")


def manufacturer_summaries(conn: Connection) -> list[ManufacturerSummary]:
    """Every manufacturer, by name, with its vehicle and plottable counts."""
    plottable_count = func.count(case((_plottable(), Vehicle.id)))
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


def vehicles_for(conn: Connection, manufacturer: str) -> PlotPoints | None:
    """The named manufacturer's plottable points; None when the manufacturer is unknown."""
    found = find_manufacturer(conn, manufacturer)
    if found is None:
        return None
    manufacturer_id, name = found
    stmt = (
        select(Vehicle.horsepower, Vehicle.mpg, _hover_label())
        .where(Vehicle.manufacturer_id == manufacturer_id, _plottable())
        .order_by(Vehicle.horsepower, Vehicle.mpg)
    )
    rows = conn.execute(stmt).all()
    hidden = conn.scalar(
        select(func.count())
        .select_from(Vehicle)
        .where(Vehicle.manufacturer_id == manufacturer_id, ~_plottable())
    )
    columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
    return PlotPoints(
        manufacturer=name,
        horsepower=np.asarray(columns[0], dtype=np.float32),
        mpg=np.asarray(columns[1], dtype=np.float32),
        label=list(columns[2]),
        hidden=hidden or 0,
    )


def count_unplottable(conn: Connection) -> tuple[int, int]:
    """(vehicles missing horsepower or mpg, all vehicles) across the whole store."""
    total, plottable = conn.execute(
        select(func.count(Vehicle.id), func.count(case((_plottable(), Vehicle.id))))
    ).one()
    return total - plottable, total
