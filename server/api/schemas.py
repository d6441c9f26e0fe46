"""Marshmallow schemas of the JSON API: they validate the query string and document replies.

Query schemas end in a ``VehicleFilter`` (checked by its own ``problems()``) so the API uses
the same filter as every other surface.
"""

from datetime import UTC, datetime
from typing import Any, ClassVar

import marshmallow as ma
from marshmallow import validate

from models.api_queries import GROUP_FIELDS, SORT_CHOICES, BadCursor, Sort, decode_cursor
from models.datasets import DEFAULT_DATASET
from models.db import db
from models.export import UNITS
from models.filters import TEXT_FILTERS, VehicleFilter, unknown_datasets
from models.validation import (
    MAX_CYLINDERS,
    MAX_TEXT,
    MAX_YEAR,
    MIN_YEAR,
    POWERTRAINS,
    is_plain_number,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
YEARS = validate.Range(min=MIN_YEAR, max=MAX_YEAR)
MEASURE = validate.Range(min=0, max=1e9)


#: PostgreSQL text cannot hold NUL, so no name or model can contain one.
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="must not contain NUL characters")


def _text(description: str, min_length: int | None = None, **options: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=[validate.Length(min=min_length, max=MAX_TEXT), NO_NUL],
        metadata={"description": description},
        **options,
    )


def _known_datasets(slugs: list[str]) -> None:
    # Text that other validators refuse never reaches the database (PostgreSQL refuses NUL).
    storable = [slug for slug in slugs if len(slug) <= MAX_TEXT and "\x00" not in slug]
    if unknown := unknown_datasets(db.session.connection(), storable):
        named = ", ".join(repr(slug) for slug in unknown)
        raise ma.ValidationError(f"no dataset is named {named}; GET /api/v1/datasets lists them")


def _names(description: str) -> ma.fields.List:
    """A repeatable text parameter."""
    return ma.fields.List(_text(description), validate=validate.Length(max=100))


DATASET = "Dataset slug (see /datasets); an unknown slug is refused with a 422."


def _one_dataset(description: str, **options: Any) -> ma.fields.String:
    """A single dataset slug parameter."""
    return ma.fields.String(
        validate=[validate.Length(max=MAX_TEXT), NO_NUL, lambda slug: _known_datasets([slug])],
        metadata={"description": f"{DATASET} {description}"},
        **options,
    )


class PlainInteger(ma.fields.Integer):
    """A whole number in ASCII digits; int() alone would take "1_000" and "١٩٨٠" too."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not is_plain_number(value, whole=True):
            raise ma.ValidationError("Not a whole number written in digits 0-9.")
        return super()._deserialize(value, attr, data, **kwargs)


class PlainFloat(ma.fields.Float):
    """A number as JSON writes it (ASCII digits, "1e-05" too); float() alone would also take
    "1_0", "nan" and other scripts' digits."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not is_plain_number(value, exponent=True):
            raise ma.ValidationError("Not a number written in digits 0-9.")
        return super()._deserialize(value, attr, data, **kwargs)


class FilterArgs(ma.Schema):
    """Filters shared by /vehicles and /stats; loads into ``{"vehicle_filter": VehicleFilter}``."""

    dataset = ma.fields.List(
        _text(f"{DATASET} Repeat for several; without it, every dataset."),
        validate=[validate.Length(max=100), _known_datasets],
    )
    manufacturer = _names("Manufacturer name, case-insensitive; repeat for several.")
    origin = _names("Origin (USA, Europe, Japan), case-insensitive; repeat for several.")
    fuel_type = _names("Fuel type (e.g. Regular, Diesel, Electricity), case-insensitive; repeat.")
    vehicle_class = _names("Vehicle class (e.g. Compact Cars), case-insensitive; repeat.")
    drive = _names("Drive (e.g. Front-Wheel Drive), case-insensitive; repeat for several.")
    powertrain = _names(f"Powertrain ({', '.join(POWERTRAINS)}), case-insensitive; repeat.")
    cylinders = ma.fields.List(
        PlainInteger(validate=validate.Range(min=1, max=MAX_CYLINDERS)),
        validate=validate.Length(max=100),
        metadata={"description": "Cylinder count; repeat for several."},
    )
    year_min = PlainInteger(validate=YEARS, metadata={"description": "Earliest year."})
    year_max = PlainInteger(validate=YEARS, metadata={"description": "Latest year."})
    hp_min = PlainFloat(validate=MEASURE, metadata={"description": "Least horsepower."})
    hp_max = PlainFloat(validate=MEASURE, metadata={"description": "Most horsepower."})
    mpg_min = PlainFloat(
        validate=MEASURE, metadata={"description": "Least combined mpg (MPGe for EVs)."}
    )
    mpg_max = PlainFloat(
        validate=MEASURE, metadata={"description": "Most combined mpg (MPGe for EVs)."}
    )
    q = _text("Text to find in model names (plain text, not a pattern).")

    FILTER_KEYS = (
        "year_min",
        "year_max",
        "hp_min",
        "hp_max",
        "mpg_min",
        "mpg_max",
        "q",
    )

    #: Repeatable parameters -> the ``VehicleFilter`` field they fill.
    LIST_KEYS: ClassVar[dict[str, str]] = {
        "dataset": "datasets",
        "manufacturer": "manufacturers",
        "cylinders": "cylinders",
        **{param: name for name, (param, _column) in TEXT_FILTERS.items()},
    }

    @staticmethod
    def _filter(data: dict[str, Any]) -> VehicleFilter:
        values: dict[str, Any] = {
            name: tuple(data.get(param, ())) for param, name in FilterArgs.LIST_KEYS.items()
        }
        values.update({key: data.get(key) for key in FilterArgs.FILTER_KEYS})
        return VehicleFilter(**values)

    @ma.validates_schema
    def _filter_is_usable(self, data: dict[str, Any], **_kwargs: Any) -> None:
        problems = self._filter(data).problems()
        if problems:
            raise ma.ValidationError({name: [message] for name, message in problems.items()})

    @ma.post_load
    def _to_filter(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        rest = {
            key: value
            for key, value in data.items()
            if key not in (*self.LIST_KEYS, *self.FILTER_KEYS)
        }
        return {**rest, "vehicle_filter": self._filter(data)}


class VehicleListArgs(FilterArgs):
    """Query string of GET /vehicles."""

    sort = ma.fields.String(
        load_default="id",
        validate=validate.OneOf(SORT_CHOICES),
        metadata={
            "description": "Field to sort by; prefix with '-' for descending. Nulls come last; "
            "text sorts byte-wise; ties break on id."
        },
    )
    limit = PlainInteger(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1),
        metadata={"description": f"Page size; default {DEFAULT_LIMIT}, capped at {MAX_LIMIT}."},
    )
    cursor = ma.fields.String(
        validate=validate.Length(max=1000),
        metadata={"description": "Opaque cursor from a previous page's `next` link."},
    )
    format = ma.fields.String(
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "csv streams the whole filtered set (same as Accept: text/csv)."},
    )
    units = ma.fields.String(
        load_default="mpg",
        validate=validate.OneOf(UNITS),
        metadata={
            "description": "The CSV's fuel economy: mpg as stored, or l100km for litres per "
            "100 km in columns named for it (combined_l_per_100km, ...). JSON is always "
            "in mpg, in fields named for it."
        },
    )

    @ma.validates_schema
    def _cursor_fits_sort(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("cursor"):
            try:
                decode_cursor(data["cursor"], Sort.parse(data.get("sort")))
            except BadCursor as error:
                raise ma.ValidationError({"cursor": [str(error)]}) from error


class StatsArgs(FilterArgs):
    """Query string of GET /stats."""

    group_by = ma.fields.String(
        required=True,
        validate=validate.OneOf(list(GROUP_FIELDS)),
        metadata={"description": "What to group the vehicles by."},
    )


class FigureArgs(ma.Schema):
    """Query string of GET /figures/fuel-efficiency."""

    manufacturer = _text("Manufacturer to plot, case-insensitive.", min_length=1, required=True)
    dataset = _one_dataset(
        f"Plotted on its default axes; default {DEFAULT_DATASET}.", load_default=DEFAULT_DATASET
    )


class ManufacturerArgs(ma.Schema):
    """Query string of GET /manufacturers."""

    dataset = _one_dataset(
        "Lists only the manufacturers with vehicles in it, counting those (plottable: on its "
        "default axes)."
    )


#: How the API describes every fuel figure.
FUEL_UNITS = "mpg; MPGe (miles per gallon equivalent) for electric vehicles."


class VehicleSchema(ma.Schema):
    """One vehicle; unknown measurements are null. Fuel figures are mpg, MPGe for electric
    vehicles (powertrain EV, fuel type Electricity)."""

    id = ma.fields.Integer(required=True)
    dataset = ma.fields.String(required=True, metadata={"description": "The dataset's slug."})
    manufacturer = ma.fields.String(required=True)
    model = ma.fields.String(required=True)
    year = ma.fields.Integer(allow_none=True)
    vehicle_class = ma.fields.String(allow_none=True)
    powertrain = ma.fields.String(
        allow_none=True, metadata={"description": f"One of {', '.join(POWERTRAINS)}."}
    )
    fuel_type = ma.fields.String(allow_none=True)
    horsepower = ma.fields.Float(allow_none=True)
    city_mpg = ma.fields.Float(
        allow_none=True,
        metadata={"description": f"City fuel economy, {FUEL_UNITS}"},
    )
    highway_mpg = ma.fields.Float(
        allow_none=True,
        metadata={"description": f"Highway fuel economy, {FUEL_UNITS}"},
    )
    combined_mpg = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": f"Combined fuel economy, {FUEL_UNITS} Derived from city and "
            "highway when the source had none (see combined_mpg_derived)."
        },
    )
    combined_mpg_derived = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "True when combined_mpg is derived: computed from city and highway "
            "as 1 / (0.55/city + 0.45/highway), the EPA's weighting, because the source gave "
            "no combined figure."
        },
    )
    cylinders = ma.fields.Integer(allow_none=True)
    displacement = ma.fields.Float(
        allow_none=True, metadata={"description": "Engine displacement, litres."}
    )
    weight = ma.fields.Float(allow_none=True, metadata={"description": "Weight, lb."})
    acceleration = ma.fields.Float(allow_none=True, metadata={"description": "0-60 mph time, s."})
    drive = ma.fields.String(allow_none=True)
    transmission = ma.fields.String(allow_none=True)
    origin = ma.fields.String(allow_none=True)
    co2_g_per_mile = ma.fields.Float(
        allow_none=True, metadata={"description": "Tailpipe CO2, g/mile."}
    )
    annual_fuel_cost_usd = ma.fields.Float(
        allow_none=True, metadata={"description": "Annual fuel cost, USD."}
    )
    electric_range_miles = ma.fields.Float(
        allow_none=True, metadata={"description": "Electric range, miles."}
    )
    source_id = ma.fields.String(
        allow_none=True, metadata={"description": "The row's id in the file it was imported from."}
    )


class VehiclePageSchema(ma.Schema):
    """A page of vehicles."""

    items = ma.fields.List(ma.fields.Nested(VehicleSchema), required=True)
    total = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Filtered total. With `q`, matches are counted up to a cap "
            "(10,000 by default): when `total_capped` is true there are more than `total`."
        },
    )
    total_capped = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "True when the count stopped at the search's cap, so `total` is "
            "a lower bound; false when `total` is exact (always, without `q`)."
        },
    )
    next = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "URL of the next page."}
    )


class ManufacturerSchema(ma.Schema):
    """A manufacturer with its vehicle and plottable counts."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    vehicles = ma.fields.Integer(required=True)
    plottable = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Vehicles with both horsepower and mpg; with a dataset filter, "
            "with values on both of that dataset's default axes."
        },
    )


class ManufacturerListSchema(ma.Schema):
    """Every manufacturer, by name."""

    items = ma.fields.List(ma.fields.Nested(ManufacturerSchema), required=True)
    total = ma.fields.Integer(required=True)


class UtcDateTime(ma.fields.DateTime):
    """A stored time, in ISO 8601 with its UTC offset.

    SQLite hands stored times back without their zone; they are UTC, so say so, and every
    dialect answers alike.
    """

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class DatasetSchema(ma.Schema):
    """A dataset: where its vehicles come from, and how many it holds."""

    slug = ma.fields.String(required=True, metadata={"description": "Names it in `dataset=`."})
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    source = ma.fields.String(required=True, metadata={"description": "A URL or a citation."})
    licence = ma.fields.String(required=True)
    imported_at = UtcDateTime(
        allow_none=True,
        required=True,
        metadata={"description": "Last import, UTC; null if none."},
    )
    imported_by = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "Who ran the last import."}
    )
    default_x = ma.fields.String(
        required=True, metadata={"description": "The field its figures put on the x axis."}
    )
    default_y = ma.fields.String(
        required=True, metadata={"description": "The field its figures put on the y axis."}
    )
    vehicles = ma.fields.Integer(required=True)


class DatasetListSchema(ma.Schema):
    """Every dataset, by slug."""

    items = ma.fields.List(ma.fields.Nested(DatasetSchema), required=True)
    total = ma.fields.Integer(required=True)


class GroupStatsSchema(ma.Schema):
    """Statistics for one group; key is null for vehicles with no value for the group field."""

    key = ma.fields.Raw(
        allow_none=True,
        required=True,
        metadata={"description": "The group's value: a string, or an integer for year/cylinders."},
    )
    count = ma.fields.Integer(required=True)
    mpg_mean = ma.fields.Float(
        allow_none=True,
        required=True,
        metadata={"description": f"Of combined_mpg, as are mpg_min/max: {FUEL_UNITS}"},
    )
    mpg_min = ma.fields.Float(allow_none=True, required=True)
    mpg_max = ma.fields.Float(allow_none=True, required=True)
    horsepower_mean = ma.fields.Float(allow_none=True, required=True)
    horsepower_min = ma.fields.Float(allow_none=True, required=True)
    horsepower_max = ma.fields.Float(allow_none=True, required=True)


class StatsSchema(ma.Schema):
    """Grouped statistics."""

    group_by = ma.fields.String(required=True)
    groups = ma.fields.List(ma.fields.Nested(GroupStatsSchema), required=True)


class FigureSchema(ma.Schema):
    """A Plotly figure; arrays may be typed arrays ({dtype, bdata})."""

    data = ma.fields.List(ma.fields.Dict(), required=True)
    layout = ma.fields.Dict(required=True)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(required=True, metadata={"description": "Problem type URI."})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Parameter name -> what is wrong with it."},
    )
