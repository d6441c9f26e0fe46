"""The import's column mapping as the admin pages show and post it: a field and a unit
chosen per column, and the mapping the dry run used, carried to the confirm as JSON."""

import json
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from models.importer import FIELD_UNITS, IMPORT_FIELDS, ColumnChoice, Mapping

#: Each unit as the page names it.
UNIT_LABELS = {
    "l": "litres",
    "cu in": "cubic inches",
    "lb": "lb",
    "1000 lb": "1000 lb",
    "kg": "kg",
    "mpg": "mpg",
    "l/100km": "L/100 km",
    "km/l": "km/L",
}
#: The value of the field choice that leaves a column out.
IGNORED = ""


@dataclass(frozen=True, slots=True)
class MappingRow:
    """One column of the file on the mapping step."""

    index: int
    column: str
    field: str
    unit: str | None

    @property
    def units(self) -> tuple[str, ...]:
        return FIELD_UNITS.get(self.field, ())


def mapping_rows(columns: list[str], mapping: Mapping) -> list[MappingRow]:
    rows = []
    for index, column in enumerate(columns):
        choice = mapping.get(column)
        field = choice.field if choice else IGNORED
        stored_unit = FIELD_UNITS.get(field, (None,))[0]  # what a unit of None means
        rows.append(MappingRow(index, column, field, (choice and choice.unit) or stored_unit))
    return rows


def posted_mapping(columns: list[str], form: MultiDict[str, str]) -> tuple[Mapping, list[str]]:
    """The mapping chosen on the page (``field-N`` and ``unit-N`` per column) and what is
    wrong with it. A unit the field does not offer falls back to the stored unit, because
    the choices change with the field and the page shows them after each check."""
    mapping: Mapping = {}
    problems = []
    for index, column in enumerate(columns):
        field = form.get(f"field-{index}", IGNORED)
        if field == IGNORED:
            mapping[column] = None
            continue
        if field not in IMPORT_FIELDS:
            problems.append(f"{column}: there is no field {field!r}")
            mapping[column] = None
            continue
        units = FIELD_UNITS.get(field, ())
        unit = form.get(f"unit-{index}")
        mapping[column] = ColumnChoice(field, unit if unit in units else (units or (None,))[0])
    return mapping, problems


def mapping_to_json(mapping: Mapping) -> str:
    return json.dumps(
        {column: [c.field, c.unit] if c else None for column, c in mapping.items()},
        separators=(",", ":"),
    )


def mapping_from_json(text: str, columns: list[str]) -> Mapping | None:
    """The mapping a confirm form carries, or None when it is not one for these columns."""
    try:
        raw: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(raw, dict) or sorted(raw) != sorted(columns):
        return None
    mapping: Mapping = {}
    for column, value in raw.items():
        if value is None:
            mapping[column] = None
            continue
        if not (isinstance(value, list) and len(value) == 2 and value[0] in IMPORT_FIELDS):
            return None
        field, unit = value
        if unit is not None and unit not in FIELD_UNITS.get(field, ()):
            return None
        mapping[column] = ColumnChoice(field, unit)
    return mapping
