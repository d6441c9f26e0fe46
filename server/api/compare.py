"""``GET /api/v1/compare``: 2-4 vehicles side by side, with yearly fuel cost and CO2.

The numbers are ``models.compare.compare_vehicles``'s, exactly as the ``/compare`` page
shows them; the query string is read by the page's own parser (``parse_compare_args``), so
both refuse the same input with the same reasons. The route joins the API blueprint, so
FUELDASH_PRIVATE, problem details and ETags apply to it as to every other read.
"""

from typing import Any

import marshmallow as ma

from models.compare import (
    CO2_SOURCE,
    DEFAULT_MILES_PER_YEAR,
    FUELS,
    MAX_MILES_PER_YEAR,
    MAX_PRICE,
    MAX_VEHICLES,
    MIN_VEHICLES,
    PRICE_SOURCE,
    CompareError,
    CompareRequest,
    UnknownVehicles,
    compare_vehicles,
    parse_compare_args,
)
from models.db import db
from server.api.problems import problem
from server.api.schemas import VehicleSchema
from server.api.views import (
    CACHE_HEADERS,
    JSON,
    NOT_MODIFIED,
    _cache_headers,
    _etag,
    _not_modified,
    blp,
    documented_errors,
)


def _price_field(key: str) -> ma.fields.String:
    fuel = FUELS[key]
    return ma.fields.String(
        metadata={
            "type": "number",
            "exclusiveMinimum": True,
            "minimum": 0,
            "maximum": MAX_PRICE,
            "description": f"Price of {fuel.label.lower()} in US dollars per {fuel.unit}; "
            f"default {fuel.default_price}.",
        }
    )


class CompareArgs(ma.Schema):
    """Query string of GET /compare; checked by ``parse_compare_args``, as the page is."""

    ids = ma.fields.String(
        required=True,
        metadata={
            "description": f"{MIN_VEHICLES} to {MAX_VEHICLES} different vehicle ids, "
            "comma-separated, in the order to show them.",
            "example": "12,34",
            "pattern": r"^ *[0-9]+ *(, *[0-9]+ *){1,3}$",
        },
    )
    miles = ma.fields.String(
        metadata={
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_MILES_PER_YEAR,
            "description": f"Miles driven a year; default {DEFAULT_MILES_PER_YEAR}.",
        }
    )

    price_regular = _price_field("regular")
    price_midgrade = _price_field("midgrade")
    price_premium = _price_field("premium")
    price_diesel = _price_field("diesel")
    price_e85 = _price_field("e85")
    price_cng = _price_field("cng")
    price_electricity = _price_field("electricity")

    @ma.validates_schema
    def _comparable(self, data: dict[str, Any], **_kwargs: Any) -> None:
        try:
            parse_compare_args(data)
        except CompareError as error:
            raise ma.ValidationError(
                {name: [message] for name, message in error.errors.items()}
            ) from error

    @ma.post_load
    def _to_request(self, data: dict[str, Any], **_kwargs: Any) -> CompareRequest:
        return parse_compare_args(data)


class PriceSchema(ma.Schema):
    """The price a fuel was costed at."""

    key = ma.fields.String(
        required=True, data_key="fuel", metadata={"description": "The fuel's key."}
    )
    label = ma.fields.String(required=True)
    unit = ma.fields.String(required=True, metadata={"description": "What the price is per."})
    price = ma.fields.Float(required=True, metadata={"description": "US dollars per unit."})
    default_price = ma.fields.Float(required=True)


class FuelEconomySchema(ma.Schema):
    """One fuel figure in both units."""

    mpg = ma.fields.Float(
        allow_none=True, metadata={"description": "Miles per US gallon; MPGe for EVs."}
    )
    l_per_100km = ma.fields.Float(
        allow_none=True,
        metadata={"description": "235.215 / mpg (gasoline-equivalent for MPGe), 1 decimal."},
    )


class FuelFiguresSchema(ma.Schema):
    """City, highway and combined figures."""

    city_mpg = ma.fields.Nested(FuelEconomySchema, data_key="city", required=True)
    highway_mpg = ma.fields.Nested(FuelEconomySchema, data_key="highway", required=True)
    combined_mpg = ma.fields.Nested(FuelEconomySchema, data_key="combined", required=True)


class ComparedVehicleSchema(ma.Schema):
    """One compared vehicle: its stored fields and a year of driving it."""

    id = ma.fields.Integer(required=True)
    values = ma.fields.Nested(VehicleSchema, data_key="vehicle", required=True)
    economy = ma.fields.Nested(FuelFiguresSchema, data_key="fuel_economy", required=True)
    electric = ma.fields.Boolean(required=True)
    fuel = ma.fields.String(
        allow_none=True,
        metadata={"description": "The fuel it is priced for; null when no price is kept."},
    )
    fuel_note = ma.fields.String(
        required=True, metadata={"description": "How the fuel was chosen, when not plain."}
    )
    kwh_per_100_miles = ma.fields.Float(allow_none=True, metadata={"description": "EVs only."})
    fuel_per_year = ma.fields.Float(
        allow_none=True, metadata={"description": "In fuel_unit, 1 decimal."}
    )
    fuel_unit = ma.fields.String(allow_none=True)
    annual_fuel_cost_usd = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "miles / combined mpg x price (kWh for EVs), whole dollars."},
    )
    co2_g_per_mile = ma.fields.Float(allow_none=True)
    co2_source = ma.fields.String(
        allow_none=True,
        metadata={"description": "EPA (stored tailpipe figure) or computed (from the fuel)."},
    )
    co2_kg_per_year = ma.fields.Integer(allow_none=True)
    epa_annual_fuel_cost_usd = ma.fields.Float(
        allow_none=True,
        metadata={"description": "The EPA's own figure: 15,000 miles at its prices."},
    )
    cheapest = ma.fields.Boolean(required=True)
    extra_cost_usd = ma.fields.Integer(
        allow_none=True, metadata={"description": "Dollars a year more than the cheapest."}
    )


class ComparisonSchema(ma.Schema):
    """2-4 vehicles side by side."""

    miles_per_year = ma.fields.Integer(required=True)
    prices = ma.fields.List(ma.fields.Nested(PriceSchema), required=True)
    cheapest_ids = ma.fields.List(ma.fields.Integer(), required=True)
    vehicles = ma.fields.List(ma.fields.Nested(ComparedVehicleSchema), required=True)
    price_source = ma.fields.Constant(PRICE_SOURCE, dump_only=True)
    co2_source = ma.fields.Constant(CO2_SOURCE, dump_only=True)


@blp.route("/compare")
@blp.arguments(CompareArgs, location="query")
@blp.response(200, ComparisonSchema, headers=CACHE_HEADERS)
@blp.alt_response(304, description=NOT_MODIFIED, success=True)
@documented_errors(404)
def compare(request: CompareRequest) -> Any:
    """2-4 vehicles side by side: every field, fuel figures in mpg and L/100 km, and the
    fuel each uses in a year, what it costs and the CO2 it emits, for `miles` a year at
    a price per fuel (`price_regular`, `price_electricity`, ...); the cheapest are marked.

    The same numbers as the page `/compare`. Electric vehicles' MPGe is priced per kWh at
    33.7 kWh per gallon-equivalent.
    """
    etag = _etag(JSON)
    if cached := _not_modified(etag):
        return cached
    try:
        comparison = compare_vehicles(
            db.session.connection(), request.ids, request.miles_per_year, request.fuel_prices
        )
    except UnknownVehicles as error:
        return problem(404, str(error), errors={"ids": [str(error)]})
    return comparison, 200, _cache_headers(etag)
