"""The dashboard's view state, and its round trip through a URL query string.

Pure: no Dash, no database. ``parse_query`` never raises; whatever it cannot read falls
back to the default and is named in the returned problems, which the page shows.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from models.datasets import DEFAULT_DATASET, SHIPPED
from models.explore import AXIS_FIELDS
from models.export import UNITS
from models.filters import VehicleFilter
from models.normalize import MANUFACTURER_ALIASES
from models.validation import (
    MAX_CYLINDERS,
    MAX_SLUG_LENGTH,
    MAX_TEXT,
    MAX_YEAR,
    MIN_YEAR,
    is_storable_text,
)

DEFAULT_X = "horsepower"
DEFAULT_Y = "combined_mpg"
RENAMED_AXES = {"mpg": "combined_mpg"}
#: Most manufacturers one view compares; more would be an unreadable chart.
MAX_MANUFACTURERS = 12
#: Most origins or cylinder counts one view filters on; the store holds a handful of each.
MAX_CHOICES = 20
#: Where the API serves the CSV export that the dashboard's download link points to.
EXPORT_PATH = "/api/v1/vehicles"
#: The text filters beside origin: (ViewState field, query parameter, what it is called).
TEXT_FILTERS = (
    ("fuel_types", "fuel_type", "Fuel type"),
    ("vehicle_classes", "vehicle_class", "Vehicle class"),
    ("drives", "drive", "Drive"),
    ("powertrains", "powertrain", "Powertrain"),
)


#: Each dataset's (x, y) default axes by slug, as stored (``models.datasets.default_axes``).
AxesByDataset = Mapping[str, tuple[str, str]]


def default_axes(dataset: str, known: AxesByDataset | None = None) -> tuple[str, str]:
    """The (x, y) a dataset opens on: its stored pair when ``known`` has it, a shipped
    dataset's own pair, else the sample's."""
    pair = (known or {}).get(dataset)
    if pair is not None and all(axis in AXIS_FIELDS for axis in pair):
        return pair
    info = SHIPPED.get(dataset)
    return (info.default_x, info.default_y) if info else (DEFAULT_X, DEFAULT_Y)


@dataclass(frozen=True, slots=True)
class ViewState:
    """Everything that decides what the dashboard shows."""

    manufacturers: tuple[str, ...] = ()
    dataset: str = DEFAULT_DATASET
    year_min: int | None = None
    year_max: int | None = None
    origins: tuple[str, ...] = ()
    cylinders: tuple[int, ...] = ()
    x: str = DEFAULT_X
    y: str = DEFAULT_Y
    units: str = "mpg"
    trend: bool = False
    fuel_types: tuple[str, ...] = ()
    vehicle_classes: tuple[str, ...] = ()
    drives: tuple[str, ...] = ()
    powertrains: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=(), compare=False)

    def vehicle_filter(self) -> VehicleFilter:
        """The filter this view applies in the database."""
        return VehicleFilter(
            manufacturers=self.manufacturers,
            origins=self.origins,
            cylinders=self.cylinders,
            year_min=self.year_min,
            year_max=self.year_max,
            datasets=(self.dataset,),
            fuel_types=self.fuel_types,
            vehicle_classes=self.vehicle_classes,
            drives=self.drives,
            powertrains=self.powertrains,
        )


def _names(values: list[str], what: str, problems: list[str]) -> tuple[str, ...]:
    kept = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not all(is_storable_text(v) for v in kept):
        problems.append(f"{what} names cannot hold NUL or lone surrogates; ignored those")
        kept = tuple(v for v in kept if is_storable_text(v))
    if any(len(v) > MAX_TEXT for v in kept):
        problems.append(f"{what} names are at most {MAX_TEXT} characters; ignored the longer ones")
        kept = tuple(v for v in kept if len(v) <= MAX_TEXT)
    return kept


def _capped(values: tuple[Any, ...], what: str, problems: list[str]) -> tuple[Any, ...]:
    # Each count of values is its own SQL statement (models/filters.py), so a crafted URL
    # with thousands must not make thousands of them.
    if len(values) <= MAX_CHOICES:
        return values
    problems.append(f"At most {MAX_CHOICES} {what} can be chosen; kept the first")
    return values[:MAX_CHOICES]


def _year(values: list[str], name: str, problems: list[str]) -> int | None:
    if not values or not values[-1].strip():
        return None
    try:
        year = int(values[-1])
    except ValueError:
        problems.append(f"{name} must be a whole year; showing every year instead")
        return None
    if not MIN_YEAR <= year <= MAX_YEAR:
        problems.append(f"{name} {year} is not a plausible model year; ignored")
        return None
    return year


def _choice(
    values: list[str], name: str, allowed: tuple[str, ...], default: str, problems: list[str]
) -> str:
    if not values:
        return default
    if values[-1] in allowed:
        return values[-1]
    problems.append(f"{name} must be one of {', '.join(allowed)}; using {default}")
    return default


def _dataset(values: list[str], problems: list[str]) -> str:
    if not values:
        return DEFAULT_DATASET
    slug = values[-1].strip().lower()
    if slug and len(slug) <= MAX_SLUG_LENGTH and slug.replace("-", "").isalnum() and slug.isascii():
        return slug
    problems.append(f"dataset {values[-1][:20]!r} is not a dataset name; using {DEFAULT_DATASET}")
    return DEFAULT_DATASET


def _renamed(values: list[str]) -> list[str]:
    # Links made before datasets said "mpg" for what is now the combined figure.
    return [RENAMED_AXES.get(value, value) for value in values]


def parse_query(search: str | None, known: AxesByDataset | None = None) -> ViewState:
    """The view a query string (``?a=1&b=2`` or ``a=1&b=2``) describes; never raises.

    ``known`` gives each dataset's default axes, for a link that names none."""
    params = parse_qs((search or "").lstrip("?"), keep_blank_values=False)
    return view_from_params(params, known)


def view_from_params(
    params: Mapping[str, list[str]], known: AxesByDataset | None = None
) -> ViewState:
    """The view that query parameters (name -> values, none blank) describe; never raises."""
    problems: list[str] = []
    manufacturers = _names(params.get("manufacturer", []), "Manufacturer", problems)
    if len(manufacturers) > MAX_MANUFACTURERS:
        problems.append(
            f"At most {MAX_MANUFACTURERS} manufacturers can be compared; kept the first"
        )
        manufacturers = manufacturers[:MAX_MANUFACTURERS]
    cylinders: list[int] = []
    for value in params.get("cylinders", [])[: MAX_CHOICES + 1]:
        if value.isdigit() and 0 < int(value) <= MAX_CYLINDERS:
            cylinders.append(int(value))
        else:
            problems.append(f"cylinders {value[:20]!r} is not a cylinder count; ignored")
    year_min = _year(params.get("year_min", []), "year_min", problems)
    year_max = _year(params.get("year_max", []), "year_max", problems)
    if year_min is not None and year_max is not None and year_min > year_max:
        problems.append(f"year_min {year_min} is after year_max {year_max}; showing every year")
        year_min = year_max = None
    axes = tuple(AXIS_FIELDS)
    dataset = _dataset(params.get("dataset", []), problems)
    x_default, y_default = default_axes(dataset, known)
    trend_values = params.get("trend", [])
    trend = bool(trend_values) and trend_values[-1] in ("1", "true", "on")
    if trend_values and trend_values[-1] not in ("0", "1", "true", "false", "on", "off"):
        problems.append("trend must be 1 or 0; trend lines are off")
    return ViewState(
        manufacturers=manufacturers,
        dataset=dataset,
        year_min=year_min,
        year_max=year_max,
        origins=_capped(_names(params.get("origin", []), "Origin", problems), "origins", problems),
        cylinders=_capped(tuple(sorted(set(cylinders))), "cylinder counts", problems),
        x=_choice(_renamed(params.get("x", [])), "x", axes, x_default, problems),
        y=_choice(_renamed(params.get("y", [])), "y", axes, y_default, problems),
        units=_choice(params.get("units", []), "units", UNITS, "mpg", problems),
        trend=trend,
        **{
            name: _capped(_names(params.get(param, []), what, problems), param, problems)
            for name, param, what in TEXT_FILTERS
        },
        problems=tuple(problems),
    )


def filter_params(state: ViewState) -> list[tuple[str, str]]:
    """The query parameters for the view's filter, in the API's vocabulary."""
    params = [("dataset", state.dataset), *(("manufacturer", m) for m in state.manufacturers)]
    if state.year_min is not None:
        params.append(("year_min", str(state.year_min)))
    if state.year_max is not None:
        params.append(("year_max", str(state.year_max)))
    params += [("origin", o) for o in state.origins]
    params += [("cylinders", str(c)) for c in state.cylinders]
    params += [(param, v) for name, param, _ in TEXT_FILTERS for v in getattr(state, name)]
    return params


def to_query(state: ViewState, known: AxesByDataset | None = None) -> str:
    """The query string (with its ``?``) that ``parse_query`` reads back as ``state``.

    Defaults are left out, so the plain dashboard URL stays plain; the axes' defaults are
    the dataset's.
    """
    params = [p for p in filter_params(state) if p != ("dataset", DEFAULT_DATASET)]
    x_default, y_default = default_axes(state.dataset, known)
    if state.x != x_default:
        params.append(("x", state.x))
    if state.y != y_default:
        params.append(("y", state.y))
    if state.units != "mpg":
        params.append(("units", state.units))
    if state.trend:
        params.append(("trend", "1"))
    return "?" + urlencode(params) if params else ""


#: Axis fields the API can require to be known: a lower bound of 0 excludes only NULLs,
#: since stored measurements are positive. The API has no such bound for weight,
#: displacement or acceleration, so an export for those axes also lists the hidden rows.
KNOWN_BOUNDS = {"horsepower": "hp_min", "combined_mpg": "mpg_min", "year": "year_min"}


def export_url(state: ViewState) -> str:
    """The API's CSV export of this view's vehicles: the plotted rows, for the default axes,
    their fuel economy in the view's units."""
    params = [("format", "csv"), *filter_params(state)]
    named = {name for name, _ in params}
    for field_name in dict.fromkeys((state.x, state.y)):
        bound = KNOWN_BOUNDS.get(field_name)
        if bound and bound not in named:
            params.append((bound, "0"))
    if state.units != "mpg":
        params.append(("units", state.units))
    return f"{EXPORT_PATH}?{urlencode(params)}"


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def from_controls(
    manufacturers: Any,
    years: Any = None,
    origins: Any = None,
    cylinders: Any = None,
    x: Any = None,
    y: Any = None,
    units: Any = None,
    trend: Any = None,
    first_year: Any = None,
    last_year: Any = None,
    dataset: Any = None,
    fuel_types: Any = None,
    vehicle_classes: Any = None,
    drives: Any = None,
    powertrains: Any = None,
    known: AxesByDataset | None = None,
) -> ViewState:
    """The view the dashboard's control values describe, whatever a client sent.

    ``first_year`` and ``last_year`` are the year slider's ends, the store's range: a
    range equal to them means "every year" and is left out. The values are read as the
    query parameters a link would carry, so both are checked alike.
    """
    params = {
        "manufacturer": list(_strings(manufacturers)),
        "origin": list(_strings(origins)),
        "cylinders": [str(c) for c in _integers(cylinders)],
        **_year_params(years, first_year, last_year),
        "x": [x] if isinstance(x, str) else [],
        "y": [y] if isinstance(y, str) else [],
        "units": [units] if isinstance(units, str) else [],
        "trend": ["1" if _truthy(trend) else "0"],
        "dataset": [dataset] if isinstance(dataset, str) else [],
        "fuel_type": list(_strings(fuel_types)),
        "vehicle_class": list(_strings(vehicle_classes)),
        "drive": list(_strings(drives)),
        "powertrain": list(_strings(powertrains)),
    }
    # As parse_qs leaves out blank values, so that "" means "not set" in both.
    return view_from_params(
        {name: [v for v in values if v] for name, values in params.items()}, known
    )


def _integers(value: Any) -> list[int]:
    if not isinstance(value, list):
        value = [value]
    return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]


def _truthy(value: Any) -> bool:
    # A checklist sends a list of the ticked values; a boolean switch sends a bool.
    return bool(value) if isinstance(value, bool | list) else False


def _year_params(years: Any, first_year: Any, last_year: Any) -> dict[str, list[str]]:
    if not (isinstance(years, list) and len(years) == 2):
        return {}
    # JSON's NaN and Infinity arrive as floats that int() cannot convert.
    if not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in years
    ):
        return {}
    low, high = int(years[0]), int(years[1])
    params = {}
    if low != first_year:
        params["year_min"] = [str(low)]
    if high != last_year:
        params["year_max"] = [str(high)]
    return params


def offered_manufacturers(
    names: tuple[str, ...], offered: list[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names a link gives, as the dashboard offers them, and what was changed or left out.

    Names match regardless of case ("honda" is Honda) and through the importer's aliases
    ("chevy" is Chevrolet); a name the dataset does not offer is left out and said.
    """
    by_lower = {name.lower(): name for name in offered}
    kept: list[str] = []
    problems: list[str] = []
    for name in names:
        match = by_lower.get(name.lower())
        if match is None:
            alias = MANUFACTURER_ALIASES.get(name.lower())
            match = by_lower.get(alias.lower()) if alias else None
            if match is not None:
                problems.append(f"manufacturer “{name}” is shown as {match}")
        if match is None:
            problems.append(f"no manufacturer named “{name}” in this dataset; left out")
        elif match not in kept:
            kept.append(match)
    return tuple(kept), tuple(problems)
