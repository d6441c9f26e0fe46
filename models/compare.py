"""Side-by-side comparison: finding vehicles by model text, and comparing 2-4 of them.

``search_vehicles`` finds vehicles whose "manufacturer model" holds every typed word
("civic" finds Honda Civics, "honda civic 2012" narrows to a year). ``compare_vehicles``
gives every field of 2-4 vehicles, their fuel figures in mpg and L/100 km, and the fuel
each uses in a year, what it costs and the CO2 it emits, for a yearly distance and a
price per fuel. The page ``/compare`` and the API ``/api/v1/compare`` both show what it
returns, so they cannot disagree; ``parse_compare_args`` reads their query strings.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Select, String, cast, func, or_, select

from models.api_queries import vehicle_columns, with_names
from models.validation import MAX_TEXT, is_plain_number, is_stored_id
from models.vehicle import Dataset, Manufacturer, Vehicle

#: How many vehicles a comparison holds.
MIN_VEHICLES = 2
MAX_VEHICLES = 4
#: The yearly distance costs are computed for unless another is asked for (the EPA's own).
DEFAULT_MILES_PER_YEAR = 15_000
MAX_MILES_PER_YEAR = 1_000_000
#: The highest price per unit of fuel accepted, in US dollars.
MAX_PRICE = 1_000.0
#: How many matches a search returns at most.
SEARCH_LIMIT = 20

#: Litres per 100 km = this / miles per US gallon.
L100KM_PER_MPG = 235.215
#: The EPA's energy content of a gallon of gasoline, on which MPGe is based.
KWH_PER_GALLON_EQUIVALENT = 33.7


@dataclass(frozen=True, slots=True)
class Fuel:
    """A fuel that vehicles are priced for: its unit, default price and CO2 per unit."""

    key: str
    label: str
    #: What the price is per, and what an mpg figure counts miles per.
    unit: str
    default_price: float
    #: Grams of CO2 that burning one unit emits at the tailpipe; None when unknown here.
    co2_grams_per_unit: float | None


#: Gasoline and diesel CO2 per gallon: US EPA, "Greenhouse Gas Emissions from a Typical
#: Passenger Vehicle" (EPA-420-F-23-014); an electric vehicle emits none at the tailpipe.
GASOLINE_CO2_G_PER_GALLON = 8_887.0
DIESEL_CO2_G_PER_GALLON = 10_180.0
CO2_SOURCE = (
    "When the EPA's data has no tailpipe CO2 figure, it is computed from the fuel used: "
    "8,887 g per gallon of gasoline and 10,180 g per gallon of diesel (US EPA, "
    '"Greenhouse Gas Emissions from a Typical Passenger Vehicle", EPA-420-F-23-014); '
    "electric vehicles emit none at the tailpipe."
)

#: Every fuel a price can be given for, by the key that names it (``price_<key>``).
FUELS: dict[str, Fuel] = {
    fuel.key: fuel
    for fuel in (
        Fuel("regular", "Regular gasoline", "gallon", 3.20, GASOLINE_CO2_G_PER_GALLON),
        Fuel("midgrade", "Midgrade gasoline", "gallon", 3.65, GASOLINE_CO2_G_PER_GALLON),
        Fuel("premium", "Premium gasoline", "gallon", 4.00, GASOLINE_CO2_G_PER_GALLON),
        Fuel("diesel", "Diesel", "gallon", 3.70, DIESEL_CO2_G_PER_GALLON),
        Fuel("e85", "Ethanol (E85)", "gallon", 2.90, None),
        Fuel("cng", "Compressed natural gas", "gasoline gallon equivalent", 2.95, None),
        Fuel("electricity", "Electricity", "kWh", 0.17, 0.0),
    )
}
PRICE_SOURCE = (
    "Default prices are round US averages of 2024-25, not live prices: gasoline and "
    "diesel from the EIA's Gasoline and Diesel Fuel Update, E85 and CNG from the DOE's "
    "Alternative Fuel Price Report, electricity from the EIA's average residential price. "
    "Enter your own."
)


def fuel_for(fuel_type: str | None, powertrain: str | None = None) -> tuple[Fuel | None, str]:
    """The fuel a vehicle is priced for, and a note on how it was chosen ("" when plain).

    Dual-fuel vehicles are priced for their first fuel, which the EPA's figures are for;
    a vehicle with no recorded fuel type is priced as regular gasoline. None for a fuel
    no price is kept for.
    """
    text = (fuel_type or "").strip().lower()
    if text == "electricity" or (not text and powertrain == "EV"):
        return FUELS["electricity"], ""
    if not text:
        return FUELS["regular"], "fuel type not recorded; priced as regular gasoline"
    if text in ("cng", "natural gas", "compressed natural gas"):
        return FUELS["cng"], ""
    if text in ("e85", "ethanol", "ethanol e85"):
        return FUELS["e85"], ""
    for key in ("premium", "midgrade", "diesel", "regular", "gasoline"):
        if text.startswith(key):
            fuel = FUELS["regular" if key == "gasoline" else key]
            if text in (key, f"{key} gasoline"):
                return fuel, ""
            return fuel, f"{fuel_type}: priced as {fuel.label.lower()}, its first fuel"
    return None, f"no price is kept for {fuel_type}"


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VehicleMatch:
    """A vehicle found by ``search_vehicles``, with what tells it apart from its namesakes."""

    id: int
    dataset: str
    manufacturer: str
    model: str
    year: int | None
    displacement: float | None
    cylinders: int | None
    transmission: str | None
    drive: str | None
    fuel_type: str | None
    combined_mpg: float | None

    @property
    def engine(self) -> str:
        """ "2.0 L, 4 cyl", or what of it is known."""
        parts = []
        if self.displacement is not None:
            parts.append(f"{self.displacement:.1f} L")
        if self.cylinders is not None:
            parts.append(f"{self.cylinders} cyl")
        return ", ".join(parts)

    @property
    def label(self) -> str:
        """One line naming the vehicle: "Honda Civic (2012) · 1.8 L, 4 cyl · Automatic 5-spd"."""
        year = "year unknown" if self.year is None else str(self.year)
        parts = [f"{self.manufacturer} {self.model} ({year})"]
        parts += [part for part in (self.engine, self.transmission, self.fuel_type) if part]
        return " · ".join(parts)


def _select_matches() -> Select[*tuple[Any, ...]]:
    """The fields of a ``VehicleMatch``, joined to the maker's and dataset's names."""
    return (
        select(
            Vehicle.id,
            Dataset.slug,
            Manufacturer.name,
            Vehicle.model,
            Vehicle.year,
            Vehicle.displacement,
            Vehicle.cylinders,
            Vehicle.transmission,
            Vehicle.drive,
            Vehicle.fuel_type,
            Vehicle.combined_mpg,
        )
        .join(Manufacturer, Manufacturer.id == Vehicle.manufacturer_id)
        .join(Dataset, Dataset.id == Vehicle.dataset_id)
    )


def search_vehicles(
    conn: Connection,
    text: str,
    dataset: str | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[VehicleMatch]:
    """At most ``limit`` vehicles whose "manufacturer model" holds every word of ``text``,
    ignoring case; a word of four digits may also be the model year. Optionally only in
    the dataset with slug ``dataset``. Newest first, then by name.

    Empty text, or text longer than ``MAX_TEXT``, finds nothing.
    """
    words = text.split()
    if not words or len(text) > MAX_TEXT or "\x00" in text:
        return []
    name = func.lower(Manufacturer.name + " " + Vehicle.model)
    conditions = []
    for word in words:
        matches = name.contains(word.lower(), autoescape=True)
        if len(word) == 4 and word.isascii() and word.isdigit():
            matches = or_(matches, cast(Vehicle.year, String) == word)
        conditions.append(matches)
    stmt = (
        _select_matches()
        .where(*conditions)
        .order_by(Vehicle.year.desc().nulls_last(), Manufacturer.name, Vehicle.model, Vehicle.id)
        .limit(max(1, min(limit, SEARCH_LIMIT * 5)))
    )
    if dataset is not None:
        stmt = stmt.where(Dataset.slug == dataset)
    return [VehicleMatch(*row) for row in conn.execute(stmt)]


def find_vehicles(conn: Connection, ids: Sequence[int]) -> list[VehicleMatch]:
    """The vehicles ``ids`` that exist, in the order given (what a page lists as picked)."""
    wanted = [vehicle_id for vehicle_id in ids if is_stored_id(vehicle_id)]
    if not wanted:
        return []
    found = {
        row.id: VehicleMatch(*row)
        for row in conn.execute(_select_matches().where(Vehicle.id.in_(wanted)))
    }
    return [found[vehicle_id] for vehicle_id in wanted if vehicle_id in found]


# --- the request --------------------------------------------------------------------------


class CompareError(ValueError):
    """The comparison cannot be made as asked; ``errors`` says why, by query parameter."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


class UnknownVehicles(CompareError):
    """Some of the asked-for ids name no vehicle."""

    def __init__(self, ids: Sequence[int]) -> None:
        self.ids = tuple(ids)
        named = ", ".join(str(vehicle_id) for vehicle_id in ids)
        if len(ids) == 1:
            message = f"There is no vehicle with id {named}."
        else:
            message = f"There are no vehicles with ids {named}."
        super().__init__({"ids": message})


@dataclass(frozen=True, slots=True)
class CompareRequest:
    """What to compare: the vehicles' ids, the yearly distance, and a price per fuel key."""

    ids: tuple[int, ...]
    miles_per_year: int = DEFAULT_MILES_PER_YEAR
    #: Prices asked for, by fuel key; fuels not named cost their default price.
    fuel_prices: Mapping[str, float] = field(default_factory=dict)


def check_ids(ids: Sequence[int]) -> tuple[int, ...]:
    """2-4 different vehicle ids, as a tuple; CompareError says what is wrong."""
    if len(ids) > MAX_VEHICLES:
        raise CompareError(
            {"ids": f"At most {MAX_VEHICLES} vehicles can be compared; {len(ids)} were named."}
        )
    for vehicle_id in ids:
        if not is_stored_id(vehicle_id):
            raise CompareError({"ids": f"{vehicle_id} is not a vehicle id."})
    if twice := sorted({vehicle_id for vehicle_id in ids if list(ids).count(vehicle_id) > 1}):
        raise CompareError({"ids": f"Vehicle {twice[0]} is named twice."})
    if len(ids) < MIN_VEHICLES:
        raise CompareError(
            {"ids": f"Name at least {MIN_VEHICLES} vehicles to compare; {len(ids)} was named."}
        )
    return tuple(ids)


def check_miles(miles: int) -> int:
    """A usable yearly distance; CompareError when not."""
    if not 1 <= miles <= MAX_MILES_PER_YEAR:
        raise CompareError(
            {"miles": f"Miles per year must be a whole number from 1 to {MAX_MILES_PER_YEAR:,}."}
        )
    return miles


def check_price(key: str, price: float) -> float:
    """A usable price of the fuel ``key``; CompareError when not."""
    if key not in FUELS:
        raise CompareError({f"price_{key}": f"No fuel is called {key!r}."})
    if not 0 < price <= MAX_PRICE:  # NaN fails this too
        fuel = FUELS[key]
        raise CompareError(
            {
                f"price_{key}": f"The price of {fuel.label.lower()} must be a number of "
                f"dollars per {fuel.unit} above 0 and at most {MAX_PRICE:,.0f}."
            }
        )
    return price


def parse_ids(text: str | None) -> tuple[int, ...]:
    """ "1,2,3" as (1, 2, 3): 2-4 different vehicle ids; CompareError says what is wrong."""
    if text is None or not text.strip():
        raise CompareError(
            {"ids": f"Name {MIN_VEHICLES} to {MAX_VEHICLES} vehicle ids, e.g. ids=12,34."}
        )
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > MAX_VEHICLES:  # before parsing, so a huge list costs nothing
        check_ids([0] * len(parts))
    for part in parts:
        # int() would also take "1_000" and other scripts' digits; 11 digits pass MAX_ID.
        if not is_plain_number(part, whole=True) or len(part.lstrip("+0")) > 11 or "-" in part:
            shown = part[:40] or "an empty id"
            raise CompareError(
                {"ids": f"{shown!r} is not a vehicle id; ids are whole numbers, comma-separated."}
            )
    return check_ids([int(part) for part in parts])


def parse_miles(text: str | None) -> int:
    """Miles per year as typed; the default when empty. CompareError when unusable."""
    if text is None or not text.strip():
        return DEFAULT_MILES_PER_YEAR
    # int() refuses over 4,300 digits; anything over 12 is out of range anyway.
    if not is_plain_number(text, whole=True) or len(text.strip().lstrip("+-0")) > 12:
        return check_miles(-1)
    return check_miles(int(text))


def parse_price(key: str, text: str | None) -> float | None:
    """A fuel price as typed, in dollars; None when empty. CompareError when unusable."""
    if text is None or not text.strip():
        return None
    if not is_plain_number(text, exponent=True):  # as JSON writes numbers: "1e-05" too
        return check_price(key, -1.0)
    return check_price(key, float(text))


def parse_compare_args(args: Mapping[str, str]) -> CompareRequest:
    """A query string (``ids``, ``miles``, ``price_<fuel>``) as a request; CompareError
    names every bad parameter with the reason."""
    errors: dict[str, str] = {}
    ids: tuple[int, ...] = ()
    miles = DEFAULT_MILES_PER_YEAR
    prices: dict[str, float] = {}
    try:
        ids = parse_ids(args.get("ids"))
    except CompareError as error:
        errors.update(error.errors)
    try:
        miles = parse_miles(args.get("miles"))
    except CompareError as error:
        errors.update(error.errors)
    for key in FUELS:
        try:
            price = parse_price(key, args.get(f"price_{key}"))
        except CompareError as error:
            errors.update(error.errors)
            continue
        if price is not None:
            prices[key] = price
    if errors:
        raise CompareError(errors)
    return CompareRequest(ids, miles, prices)


# --- the comparison -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A vehicle field as the comparison shows it: its label and unit ("" for none)."""

    name: str
    label: str
    unit: str = ""


#: Every stored field, in the order shown, with its unit. Fuel figures are shown apart, in
#: mpg and in L/100 km (``FUEL_FIGURES``).
COMPARE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("manufacturer", "Manufacturer"),
    FieldSpec("model", "Model"),
    FieldSpec("year", "Model year"),
    FieldSpec("vehicle_class", "Class"),
    FieldSpec("powertrain", "Powertrain"),
    FieldSpec("fuel_type", "Fuel type"),
    FieldSpec("horsepower", "Power", "hp"),
    FieldSpec("cylinders", "Cylinders"),
    FieldSpec("displacement", "Engine displacement", "L"),
    FieldSpec("transmission", "Transmission"),
    FieldSpec("drive", "Drive"),
    FieldSpec("weight", "Weight", "lb"),
    FieldSpec("acceleration", "Acceleration, 0-60 mph", "s"),
    FieldSpec("electric_range_miles", "Electric range", "miles"),
    FieldSpec("co2_g_per_mile", "Tailpipe CO₂ (EPA)", "g/mile"),
    FieldSpec("annual_fuel_cost_usd", "Annual fuel cost (EPA's figure)", "USD/year"),
    FieldSpec("origin", "Origin"),
    FieldSpec("dataset", "Dataset"),
    FieldSpec("source_id", "Id in the source file"),
    FieldSpec("id", "fueldash id"),
)
#: The fuel figures, each shown in mpg (MPGe for electric vehicles) and L/100 km.
FUEL_FIGURES: tuple[FieldSpec, ...] = (
    FieldSpec("city_mpg", "City", "mpg"),
    FieldSpec("highway_mpg", "Highway", "mpg"),
    FieldSpec("combined_mpg", "Combined", "mpg"),
)


@dataclass(frozen=True, slots=True)
class FuelEconomy:
    """One fuel figure in both units; L/100 km is gasoline-equivalent for MPGe figures."""

    mpg: float | None
    l_per_100km: float | None


@dataclass(frozen=True, slots=True)
class PriceUsed:
    """The price a fuel was costed at, and whether it is the default."""

    key: str
    label: str
    unit: str
    price: float
    default_price: float

    @property
    def is_default(self) -> bool:
        return self.price == self.default_price


@dataclass(frozen=True, slots=True)
class VehicleComparison:
    """One compared vehicle: its stored fields, and what a year of driving it costs."""

    id: int
    #: Every stored field, keyed as ``COMPARE_FIELDS`` and ``FUEL_FIGURES`` name them.
    values: dict[str, Any]
    #: Its fuel figures by field name (``FUEL_FIGURES``), in mpg and L/100 km.
    economy: dict[str, FuelEconomy]
    electric: bool
    #: The key of the fuel it is priced for (``FUELS``); None when no price is kept for it.
    fuel: str | None
    #: How the fuel was chosen, when it was not plain (dual fuel, unrecorded, unpriced).
    fuel_note: str
    #: Energy use of electric vehicles in kWh per 100 miles (33.7 kWh per gallon-equivalent).
    kwh_per_100_miles: float | None
    #: Fuel used in a year, in the fuel's unit (gallons, kWh, gasoline gallon equivalents).
    fuel_per_year: float | None
    fuel_unit: str | None
    #: miles / combined mpg x price, in whole US dollars.
    annual_fuel_cost_usd: int | None
    #: The g/mile used for CO2: the EPA's stored figure, else computed from the fuel.
    co2_g_per_mile: float | None
    #: "EPA" (stored), "computed" (from fuel use) or None (unknown).
    co2_source: str | None
    co2_kg_per_year: int | None
    #: The EPA's own stored annual cost (15,000 miles at the EPA's prices of its day).
    epa_annual_fuel_cost_usd: float | None
    cheapest: bool
    #: How much more a year it costs than the cheapest vehicle; 0 for the cheapest.
    extra_cost_usd: int | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """2-4 vehicles side by side, for one yearly distance and set of fuel prices."""

    vehicles: list[VehicleComparison]
    miles_per_year: int
    #: The price of each fuel the vehicles use, in ``FUELS`` order.
    prices: list[PriceUsed]
    #: The ids of the vehicles that cost least a year (several when they tie); empty when
    #: no vehicle's cost is known.
    cheapest_ids: list[int]


def _economy(mpg: float | None) -> FuelEconomy:
    if mpg is None:
        return FuelEconomy(None, None)
    return FuelEconomy(round(mpg, 1), round(L100KM_PER_MPG / mpg, 1))


def _fuel_use(miles: int, combined: float | None, fuel: Fuel | None) -> float | None:
    """Units of fuel a year: gallons (or GGE) = miles / mpg; kWh = miles / MPGe x 33.7."""
    if combined is None or fuel is None:
        return None
    units = miles / combined
    return units * KWH_PER_GALLON_EQUIVALENT if fuel.key == "electricity" else units


def _compare_one(
    values: dict[str, Any], miles: int, prices: Mapping[str, float]
) -> VehicleComparison:
    fuel, note = fuel_for(values["fuel_type"], values["powertrain"])
    electric = fuel is not None and fuel.key == "electricity"
    combined = values["combined_mpg"]
    used = _fuel_use(miles, combined, fuel)
    cost = None if used is None or fuel is None else round(used * prices[fuel.key])
    co2_source: str | None = None
    grams_per_mile: float | None = None
    if values["co2_g_per_mile"] is not None:
        grams_per_mile, co2_source = values["co2_g_per_mile"], "EPA"
    elif fuel is not None and fuel.co2_grams_per_unit is not None and combined is not None:
        per_unit = fuel.co2_grams_per_unit
        grams_per_mile, co2_source = per_unit / combined, "computed"
    return VehicleComparison(
        id=values["id"],
        values=values,
        economy={spec.name: _economy(values[spec.name]) for spec in FUEL_FIGURES},
        electric=electric,
        fuel=None if fuel is None else fuel.key,
        fuel_note=note,
        kwh_per_100_miles=(
            round(100 * KWH_PER_GALLON_EQUIVALENT / combined, 1)
            if electric and combined is not None
            else None
        ),
        fuel_per_year=None if used is None else round(used, 1),
        fuel_unit=None if fuel is None else fuel.unit,
        annual_fuel_cost_usd=cost,
        co2_g_per_mile=None if grams_per_mile is None else round(grams_per_mile, 1),
        co2_source=co2_source,
        co2_kg_per_year=None if grams_per_mile is None else round(grams_per_mile * miles / 1000),
        epa_annual_fuel_cost_usd=values["annual_fuel_cost_usd"],
        cheapest=False,
        extra_cost_usd=None,
    )


def compare_vehicles(
    conn: Connection,
    ids: Sequence[int],
    miles_per_year: int = DEFAULT_MILES_PER_YEAR,
    fuel_prices: Mapping[str, float] | None = None,
) -> Comparison:
    """The vehicles ``ids`` (2-4, in the order given) side by side, with each one's fuel
    use, fuel cost and CO2 for ``miles_per_year``, at ``fuel_prices`` (by ``FUELS`` key;
    defaults for fuels not named). The cheapest are marked.

    CompareError for a bad count, distance or price; UnknownVehicles naming every id with
    no vehicle.
    """
    ids = check_ids(ids)
    miles_per_year = check_miles(miles_per_year)
    asked = {key: check_price(key, price) for key, price in (fuel_prices or {}).items()}
    prices = {key: fuel.default_price for key, fuel in FUELS.items()} | asked
    stmt = with_names(select(*vehicle_columns())).where(Vehicle.id.in_(ids))
    found = {row.id: dict(row._mapping) for row in conn.execute(stmt)}
    if missing := [vehicle_id for vehicle_id in ids if vehicle_id not in found]:
        raise UnknownVehicles(missing)
    compared = [_compare_one(found[vehicle_id], miles_per_year, prices) for vehicle_id in ids]
    costs = [c.annual_fuel_cost_usd for c in compared if c.annual_fuel_cost_usd is not None]
    least = min(costs) if costs else None
    marked = [
        replace(
            c,
            cheapest=least is not None and c.annual_fuel_cost_usd == least,
            extra_cost_usd=(
                None
                if least is None or c.annual_fuel_cost_usd is None
                else c.annual_fuel_cost_usd - least
            ),
        )
        for c in compared
    ]
    used_keys = {c.fuel for c in marked if c.fuel is not None}
    return Comparison(
        vehicles=marked,
        miles_per_year=miles_per_year,
        prices=[
            PriceUsed(key, fuel.label, fuel.unit, prices[key], fuel.default_price)
            for key, fuel in FUELS.items()
            if key in used_keys
        ],
        cheapest_ids=[c.id for c in marked if c.cheapest],
    )
