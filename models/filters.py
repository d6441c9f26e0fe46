"""One description of "which vehicles", shared by the dashboard, the API and exports.

A ``VehicleFilter`` narrows a SQLAlchemy select over ``Vehicle``; every surface builds one
from its own input (query string, form, callback values) and hands it to the queries, so
filtering always happens in the database and always means the same thing.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from models.vehicle import Manufacturer, Vehicle

#: Fields a filter or sort may name, with the column behind each.
NUMERIC_FIELDS: dict[str, Any] = {
    "year": Vehicle.year,
    "horsepower": Vehicle.horsepower,
    "mpg": Vehicle.mpg,
    "cylinders": Vehicle.cylinders,
    "displacement": Vehicle.displacement,
    "weight": Vehicle.weight,
    "acceleration": Vehicle.acceleration,
}

#: (lower bound, upper bound, field) for each range a filter can take.
RANGES: tuple[tuple[str, str, str], ...] = (
    ("year_min", "year_max", "year"),
    ("hp_min", "hp_max", "horsepower"),
    ("mpg_min", "mpg_max", "mpg"),
)

MAX_TEXT = 200


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class VehicleFilter:
    """Conditions on vehicles; empty fields do not narrow anything.

    Names (manufacturers, origins) match case-insensitively. Ranges are inclusive.
    """

    manufacturers: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    cylinders: tuple[int, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    hp_min: float | None = None
    hp_max: float | None = None
    mpg_min: float | None = None
    mpg_max: float | None = None
    q: str | None = None

    def problems(self) -> dict[str, str]:
        """Field name -> what is wrong with it; empty when the filter is usable."""
        found: dict[str, str] = {}
        for low_name, high_name, _column in RANGES:
            low, high = getattr(self, low_name), getattr(self, high_name)
            if low is not None and high is not None and low > high:
                found[low_name] = f"{low_name} ({low}) is greater than {high_name} ({high})"
        if self.q is not None and len(self.q) > MAX_TEXT:
            found["q"] = f"q is longer than {MAX_TEXT} characters"
        for name in self.manufacturers + self.origins:
            if len(name) > MAX_TEXT:
                found["manufacturer" if name in self.manufacturers else "origin"] = (
                    f"names are at most {MAX_TEXT} characters"
                )
        return found

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses this filter stands for."""
        where: list[ColumnElement[bool]] = []
        if self.manufacturers:
            names = sorted({name.strip().lower() for name in self.manufacturers})
            where.append(
                Vehicle.manufacturer_id.in_(
                    select(Manufacturer.id).where(func.lower(Manufacturer.name).in_(names))
                )
            )
        if self.origins:
            where.append(
                func.lower(Vehicle.origin).in_(sorted({o.strip().lower() for o in self.origins}))
            )
        if self.cylinders:
            where.append(Vehicle.cylinders.in_(sorted(set(self.cylinders))))
        for low_name, high_name, column_name in RANGES:
            column = NUMERIC_FIELDS[column_name]
            if (low := getattr(self, low_name)) is not None:
                where.append(column >= low)
            if (high := getattr(self, high_name)) is not None:
                where.append(column <= high)
        if self.q:
            where.append(Vehicle.model.ilike(f"%{_escape_like(self.q.strip())}%", escape="\\"))
        return where

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """``stmt`` narrowed by this filter."""
        conditions = self.conditions()
        return stmt.where(*conditions) if conditions else stmt
