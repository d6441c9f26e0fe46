"""One set of rules for a vehicle's values, used by the admin forms, the import and the API.

``parse_vehicle`` takes raw values (form strings, CSV cells, JSON numbers) and returns
clean values plus a message per bad field, so every surface rejects the same things
with the same words.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.normalize import normalize_manufacturer

#: Ids are 32-bit integers in every database; larger numbers cannot name a vehicle.
MAX_ID = 2**31 - 1
#: The first car (Benz, 1886) to the furthest model year anyone may plan for.
MIN_YEAR = 1886
MAX_YEAR = 2100
MAX_CYLINDERS = 64
#: Every measurement (horsepower, mpg, litres, lb, seconds, g/mile, dollars, miles) is
#: below this. Far above any real vehicle's, and low enough that sums and means over any
#: number of rows, and the dashboard's 32-bit floats, stay finite: 1e308 is a valid float,
#: but two of them overflow PostgreSQL's avg().
MAX_MEASUREMENT = 1_000_000
#: Longest stored texts: a manufacturer's (or token's, or dataset's) name, a model, an
#: origin, a label such as a fuel type or vehicle class, a code such as a slug or a file's
#: own row id, and a dataset's source or licence.
MAX_NAME_LENGTH = 80
MAX_MODEL_LENGTH = 120
MAX_ORIGIN_LENGTH = 40
MAX_LABEL_LENGTH = 80
MAX_CODE_LENGTH = 40
MAX_SLUG_LENGTH = 40
MAX_SOURCE_LENGTH = 500
#: The kinds of powertrain a vehicle can have.
POWERTRAINS = ("ICE", "hybrid", "plug-in hybrid", "EV", "fuel cell")
#: Displacement is stored in litres; files such as the auto-mpg sample give cubic inches.
LITRES_PER_CUBIC_INCH = 0.016387064
#: The EPA's combined figure weights city 55 % and highway 45 %, as a harmonic mean.
CITY_SHARE = 0.55
#: Longest text a filter takes (a search or a name to match); longer can match nothing.
MAX_TEXT = 200
#: Highest page number a list accepts; beyond it offsets would overflow the database's.
MAX_PAGE = MAX_ID
#: A number as people write it: ASCII digits, an optional sign and decimal point. Python's
#: int() and float() also take "1_000", "1.98e3" and other scripts' digits ("١٩٨٠").
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_PLAIN_WHOLE = re.compile(r"[+-]?[0-9]+")
#: What an API query's decimal may also be: a JSON number's syntax, exponent included.
_JSON_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
NOT_PLAIN = "not a plain decimal number (use digits 0-9 and a decimal point only)"


@dataclass(frozen=True, slots=True)
class FieldRule:
    """What one field accepts."""

    kind: str  # "text", "int" or "float"
    required: bool = False
    max_length: int | None = None
    positive: bool = False  # measurements: greater than 0 and below MAX_MEASUREMENT
    between: tuple[int, int] | None = None  # inclusive range of a whole number
    choices: tuple[str, ...] | None = None  # the only texts allowed, matched ignoring case


RULES: dict[str, FieldRule] = {
    "dataset": FieldRule("text", max_length=MAX_SLUG_LENGTH),
    "manufacturer": FieldRule("text", required=True, max_length=MAX_NAME_LENGTH),
    "model": FieldRule("text", required=True, max_length=MAX_MODEL_LENGTH),
    "year": FieldRule("int", between=(MIN_YEAR, MAX_YEAR)),
    "vehicle_class": FieldRule("text", max_length=MAX_LABEL_LENGTH),
    "powertrain": FieldRule("text", choices=POWERTRAINS),
    "fuel_type": FieldRule("text", max_length=MAX_LABEL_LENGTH),
    "horsepower": FieldRule("float", positive=True),
    "city_mpg": FieldRule("float", positive=True),
    "highway_mpg": FieldRule("float", positive=True),
    "combined_mpg": FieldRule("float", positive=True),
    "cylinders": FieldRule("int", positive=True, between=(1, MAX_CYLINDERS)),
    "displacement": FieldRule("float", positive=True),
    "weight": FieldRule("float", positive=True),
    "acceleration": FieldRule("float", positive=True),
    "drive": FieldRule("text", max_length=MAX_LABEL_LENGTH),
    "transmission": FieldRule("text", max_length=MAX_LABEL_LENGTH),
    "origin": FieldRule("text", max_length=MAX_ORIGIN_LENGTH),
    "co2_g_per_mile": FieldRule("float", positive=True),
    "annual_fuel_cost_usd": FieldRule("float", positive=True),
    "electric_range_miles": FieldRule("float", positive=True),
    "source_id": FieldRule("text", max_length=MAX_CODE_LENGTH),
}

#: Every field of a vehicle as the forms, the import, the export and the audit log name it.
VEHICLE_FIELDS: tuple[str, ...] = tuple(RULES)


class FieldError(ValueError):
    """A single value is unacceptable; the message is the reason."""


def is_storable_text(value: str) -> bool:
    """False for text holding NUL, which PostgreSQL cannot store, or an unpaired surrogate,
    which JSON can carry but no encoder accepts."""
    if "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_plain_number(text: str, *, whole: bool = False, exponent: bool = False) -> bool:
    """Whether ``text`` is written as a plain decimal in ASCII digits: a whole number with
    ``whole``; with ``exponent``, as JSON writes numbers ("1e-05")."""
    pattern = _PLAIN_WHOLE if whole else _JSON_DECIMAL if exponent else _PLAIN_DECIMAL
    return bool(pattern.fullmatch(text.strip()))


def parse_whole(text: str, low: int, high: int) -> int:
    """A whole number written in plain ASCII digits within [low, high]; FieldError otherwise."""
    text = text.strip()
    if not is_plain_number(text, whole=True):
        raise FieldError("is not a whole number (use digits 0-9 only)")
    # int() refuses more than 4,300 digits; anything over 30 is out of range anyway.
    number = int(text) if len(text.lstrip("+-0")) <= 30 else high + 1
    if not low <= number <= high:
        raise FieldError(f"must be between {low} and {high}")
    return number


def _number(value: Any, rule: FieldRule) -> int | float:
    if isinstance(value, bool):
        raise FieldError("not a number")
    # JSON numbers stay numbers; text (forms, files, query strings) must be plain decimals.
    text = None if isinstance(value, int | float) else str(value).strip()
    try:
        number: float = float(value if text is None else text)
    except OverflowError:  # an integer too large for any float, e.g. 10**400
        raise FieldError("not a finite number") from None
    except ValueError:
        raise FieldError("not a number") from None
    if not math.isfinite(number):
        raise FieldError("not a finite number")
    if text is not None and not is_plain_number(text):
        raise FieldError(NOT_PLAIN)
    if rule.kind == "int":
        if not number.is_integer():
            raise FieldError("not a whole number")
        number = int(number)
    if rule.positive and number <= 0:
        raise FieldError("must be greater than 0")
    if rule.positive and rule.kind == "float" and number >= MAX_MEASUREMENT:
        raise FieldError(f"must be less than {MAX_MEASUREMENT:,}")
    if rule.between and not rule.between[0] <= number <= rule.between[1]:
        raise FieldError(f"must be between {rule.between[0]} and {rule.between[1]}")
    return number


def parse_field(name: str, value: Any) -> Any:
    """The clean value of one field; raises FieldError with the reason."""
    rule = RULES[name]
    if _blank(value):
        if rule.required:
            raise FieldError("is required")
        return None
    if rule.kind != "text":
        return _number(value, rule)
    if not isinstance(value, str):
        raise FieldError("must be text")
    text = " ".join(value.split())
    if not is_storable_text(text):
        raise FieldError("contains a character that cannot be stored (NUL or a lone surrogate)")
    if rule.choices is not None:
        by_lower = {choice.lower(): choice for choice in rule.choices}
        if text.lower() not in by_lower:
            raise FieldError(f"must be one of {', '.join(rule.choices)}")
        return by_lower[text.lower()]
    if name == "manufacturer":
        text = normalize_manufacturer(text)
    # Checked on the value that is stored, after any normalizing.
    if rule.max_length is not None and len(text) > rule.max_length:
        raise FieldError(f"is longer than {rule.max_length} characters")
    return text


def combined_mpg(city: float, highway: float) -> float:
    """The EPA's combined figure from city and highway ones."""
    return 1 / (CITY_SHARE / city + (1 - CITY_SHARE) / highway)


def derive_combined(values: dict[str, Any]) -> None:
    """Fill a missing combined figure from city and highway ones, and mark it derived.

    Only values that carry all three fields are judged, so a partial update that does not
    touch the fuel figures leaves the stored ones alone.
    """
    if not {"city_mpg", "highway_mpg", "combined_mpg"} <= values.keys():
        return
    city, highway = values["city_mpg"], values["highway_mpg"]
    derived = values["combined_mpg"] is None and city is not None and highway is not None
    if derived:
        values["combined_mpg"] = combined_mpg(city, highway)
    values["combined_mpg_derived"] = derived


def parse_vehicle(
    raw: Mapping[str, Any], *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """(clean values, field -> reason). With ``partial`` only the fields given are checked."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in RULES:
        if partial and name not in raw:
            continue
        try:
            values[name] = parse_field(name, raw.get(name))
        except FieldError as error:
            errors[name] = str(error)
    if not errors:
        derive_combined(values)
    return values, errors


def is_stored_id(value: int) -> bool:
    """Whether ``value`` could be a stored row's id, a vehicle's or a user's (ids are
    32-bit in every table; databases reject larger numbers)."""
    return 0 < value <= MAX_ID
