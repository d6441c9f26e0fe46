"""One description of "which vehicles", shared by the dashboard, the API and exports.

A ``VehicleFilter`` narrows a SQLAlchemy select over ``Vehicle``; every surface builds one
from its own input (query string, form, callback values) and hands it to the queries, so
filtering always happens in the database and always means the same thing.
"""

import functools
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, bindparam, false, func, select

from models.validation import MAX_TEXT
from models.vehicle import Dataset, Manufacturer, Vehicle

#: Fields a filter or sort may name, with the column behind each.
NUMERIC_FIELDS: dict[str, Any] = {
    "year": Vehicle.year,
    "horsepower": Vehicle.horsepower,
    "city_mpg": Vehicle.city_mpg,
    "highway_mpg": Vehicle.highway_mpg,
    "combined_mpg": Vehicle.combined_mpg,
    "co2_g_per_mile": Vehicle.co2_g_per_mile,
    "annual_fuel_cost_usd": Vehicle.annual_fuel_cost_usd,
    "electric_range_miles": Vehicle.electric_range_miles,
    "cylinders": Vehicle.cylinders,
    "displacement": Vehicle.displacement,
    "weight": Vehicle.weight,
    "acceleration": Vehicle.acceleration,
}

#: Text fields matched case-insensitively: the ``VehicleFilter`` field holding the wanted
#: values -> (the query parameter that names one, the column).
TEXT_FILTERS: dict[str, tuple[str, Any]] = {
    "origins": ("origin", Vehicle.origin),
    "fuel_types": ("fuel_type", Vehicle.fuel_type),
    "vehicle_classes": ("vehicle_class", Vehicle.vehicle_class),
    "drives": ("drive", Vehicle.drive),
    "powertrains": ("powertrain", Vehicle.powertrain),
}

#: (lower bound, upper bound, field) for each range a filter can take.
RANGES: tuple[tuple[str, str, str], ...] = (
    ("year_min", "year_max", "year"),
    ("hp_min", "hp_max", "horsepower"),
    ("mpg_min", "mpg_max", "combined_mpg"),
)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class VehicleFilter:
    """Conditions on vehicles; empty fields do not narrow anything.

    Names (manufacturers and the ``TEXT_FILTERS``) match case-insensitively; datasets by
    their exact slug. Ranges are inclusive.
    """

    manufacturers: tuple[str, ...] = ()
    #: Dataset slugs; vehicles of any of them.
    datasets: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    fuel_types: tuple[str, ...] = ()
    vehicle_classes: tuple[str, ...] = ()
    drives: tuple[str, ...] = ()
    powertrains: tuple[str, ...] = ()
    cylinders: tuple[int, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    hp_min: float | None = None
    hp_max: float | None = None
    mpg_min: float | None = None
    mpg_max: float | None = None
    q: str | None = None
    #: The manufacturers as ids, once ``with_manufacturer_ids`` has looked the names up;
    #: ``()`` matches nothing. Filtering on ids lets the database use a maker's index.
    manufacturer_ids: tuple[int, ...] | None = None

    def problems(self) -> dict[str, str]:
        """Field name -> what is wrong with it; empty when the filter is usable."""
        found: dict[str, str] = {}
        for low_name, high_name, _column in RANGES:
            low, high = getattr(self, low_name), getattr(self, high_name)
            if low is not None and high is not None and low > high:
                found[low_name] = f"{low_name} ({low}) is greater than {high_name} ({high})"
        if self.q is not None and len(self.q) > MAX_TEXT:
            found["q"] = f"q is longer than {MAX_TEXT} characters"
        named = {"manufacturer": self.manufacturers, "dataset": self.datasets}
        named |= {param: getattr(self, name) for name, (param, _) in TEXT_FILTERS.items()}
        for param, names in named.items():
            if any(len(name) > MAX_TEXT for name in names):
                found[param] = f"names are at most {MAX_TEXT} characters"
        return found

    def shape(self) -> "FilterShape":
        """Which conditions apply and how many values each list holds, without the values.

        Filters of one shape share one parameterized SQL statement (``bound_conditions``),
        so hot paths build and compile it once and bind only the values (``parameters``).
        """
        return FilterShape(
            manufacturers=len(self._manufacturer_names()),
            datasets=len(self._dataset_slugs()),
            texts=tuple(len(self._lowered(name)) for name in TEXT_FILTERS),
            cylinders=len(self._cylinder_counts()),
            bounds=tuple(
                getattr(self, name) is not None
                for low_name, high_name, _field in RANGES
                for name in (low_name, high_name)
            ),
            q=bool(self.q),
            manufacturer_ids=None if self.manufacturer_ids is None else len(self.manufacturer_ids),
        )

    def parameters(self) -> dict[str, Any]:
        """The values ``bound_conditions(self.shape())`` binds, by parameter name."""
        values: dict[str, Any] = {}
        lists: tuple[tuple[str, list[Any]], ...] = (
            ("f_manufacturer", self._manufacturer_names()),
            ("f_dataset", self._dataset_slugs()),
            *((f"f_{name}", self._lowered(name)) for name in TEXT_FILTERS),
            ("f_cylinders", self._cylinder_counts()),
            ("f_manufacturer_id", sorted(self.manufacturer_ids or ())),
        )
        for prefix, items in lists:
            values.update({f"{prefix}_{i}": item for i, item in enumerate(items)})
        for low_name, high_name, _field in RANGES:
            for name in (low_name, high_name):
                if (value := getattr(self, name)) is not None:
                    values[f"f_{name}"] = value
        if self.q:
            values["f_q"] = f"%{_escape_like(self.q.strip())}%"
        return values

    def _manufacturer_names(self) -> list[str]:
        return sorted({name.strip().lower() for name in self.manufacturers})

    def _dataset_slugs(self) -> list[str]:
        return sorted({slug.strip() for slug in self.datasets})

    def _lowered(self, name: str) -> list[str]:
        """The wanted values of the text filter ``name``, as compared."""
        return sorted({value.strip().lower() for value in getattr(self, name)})

    def _cylinder_counts(self) -> list[int]:
        return sorted(set(self.cylinders))

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """``stmt`` narrowed by this filter, its values bound."""
        conditions = bound_conditions(self.shape())
        return stmt.where(*conditions).params(self.parameters()) if conditions else stmt


@dataclass(frozen=True, slots=True)
class FilterShape:
    """The structure of a ``VehicleFilter``: what ``bound_conditions`` needs to build SQL."""

    manufacturers: int = 0
    datasets: int = 0
    #: How many values, for each of ``TEXT_FILTERS`` in order.
    texts: tuple[int, ...] = (0,) * len(TEXT_FILTERS)
    cylinders: int = 0
    #: (low, high) present, for each of ``RANGES`` in order.
    bounds: tuple[bool, ...] = (False,) * 2 * len(RANGES)
    q: bool = False
    #: How many manufacturer ids; None when the filter names manufacturers instead.
    manufacturer_ids: int | None = None


@functools.lru_cache(maxsize=512)
def bound_conditions(shape: FilterShape) -> tuple[ColumnElement[bool], ...]:
    """The WHERE clauses of every filter of ``shape``, as ``bindparam``s named as
    ``VehicleFilter.parameters`` names them. Built once per shape."""

    def bound(prefix: str, count: int) -> list[Any]:
        return [bindparam(f"{prefix}_{i}") for i in range(count)]

    where: list[ColumnElement[bool]] = []
    if shape.manufacturers:
        names = bound("f_manufacturer", shape.manufacturers)
        where.append(
            Vehicle.manufacturer_id.in_(
                select(Manufacturer.id).where(func.lower(Manufacturer.name).in_(names))
            )
        )
    if shape.manufacturer_ids == 0:
        where.append(false())
    elif shape.manufacturer_ids:
        where.append(
            Vehicle.manufacturer_id.in_(bound("f_manufacturer_id", shape.manufacturer_ids))
        )
    if shape.datasets:
        slugs = bound("f_dataset", shape.datasets)
        where.append(Vehicle.dataset_id.in_(select(Dataset.id).where(Dataset.slug.in_(slugs))))
    for (name, (_param, column)), count in zip(TEXT_FILTERS.items(), shape.texts, strict=True):
        if count:
            where.append(func.lower(column).in_(bound(f"f_{name}", count)))
    if shape.cylinders:
        where.append(Vehicle.cylinders.in_(bound("f_cylinders", shape.cylinders)))
    present = iter(shape.bounds)
    for low_name, high_name, column_name in RANGES:
        column = NUMERIC_FIELDS[column_name]
        if next(present):
            where.append(column >= bindparam(f"f_{low_name}"))
        if next(present):
            where.append(column <= bindparam(f"f_{high_name}"))
    if shape.q:
        where.append(Vehicle.model.ilike(bindparam("f_q"), escape="\\"))
    return tuple(where)


def with_manufacturer_ids(conn: Connection, vehicle_filter: VehicleFilter) -> VehicleFilter:
    """The same filter with its manufacturer names looked up once and matched by id.

    Matched by name through a subquery, which the planner cannot see through, PostgreSQL
    walks the whole primary key for a page of one maker's vehicles; matched by id, it
    reads the maker's index (bench/optimisations.md, step 17).
    """
    if not vehicle_filter.manufacturers or vehicle_filter.manufacturer_ids is not None:
        return vehicle_filter
    names = vehicle_filter._manufacturer_names()
    found = conn.scalars(
        select(Manufacturer.id).where(func.lower(Manufacturer.name).in_(names))
    ).all()
    return replace(vehicle_filter, manufacturers=(), manufacturer_ids=tuple(sorted(found)))


def unknown_datasets(conn: Connection, slugs: tuple[str, ...] | list[str]) -> list[str]:
    """The slugs, of those given, that no dataset has."""
    wanted = {slug.strip() for slug in slugs}
    known = set(conn.scalars(select(Dataset.slug).where(Dataset.slug.in_(wanted))))
    return sorted(wanted - known)
