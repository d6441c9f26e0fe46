"""Bulk import of vehicles from CSV or XLSX into a dataset, shared by /admin/import and the CLI.

Files are parsed with pandas and openpyxl (imported here only, so that ``import models``
stays light):
CSV in chunks with the C engine, its delimiter chosen from a bounded sample; XLSX streamed
by openpyxl in read-only mode. ``guess_mapping`` recognises the columns of fueldash's own
export, the EPA's ``vehicles.csv``, the shared EPA file's renamed columns, the auto-mpg
sample's names and the short names of car data (``cyl``, ``hwy``, ...); an explicit
mapping overrides or completes the guess, with a unit where a field has several.

``dry_run`` validates every row and says what importing would do; ``commit_import``
validates again while writing in batches inside the caller's single transaction, and
raises ``ImportRejected`` (so the caller rolls everything back) if any row is invalid.

Every file is bounded before it is parsed, so that memory stays small whatever it holds:
a CSV row may hold at most ``MAX_ROW_BYTES`` bytes and ``MAX_ROW_CELLS`` cells (one
streaming pass over the raw bytes checks the lengths, as pandas would read a giant row
whole); an XLSX workbook is refused when its zip members would inflate beyond
``MAX_XLSX_UNCOMPRESSED`` bytes in all, or any member of more than ``MAX_XLSX_RATIO_FLOOR``
bytes inflates more than ``MAX_XLSX_RATIO`` times (real sheets compress 5-30 times; a zip
bomb, thousands). The environment variables of the same names with ``IMPORT_`` in front
(``IMPORT_MAX_ROW_BYTES``, ...) override them.

A fueldash export quotes cells that a spreadsheet would run as formulas with a leading
apostrophe; importing a fueldash export (its header has ``fueldash_id``) removes it again.

A file's own id column is stored as ``source_id``: a row whose source id the dataset
already holds updates that vehicle, so importing a file again adds nothing. Only a
fueldash export (its id column is ``fueldash_id``) updates vehicles by fueldash id. An
update writes the fields the file has columns for, an empty cell meaning unknown.
"""

import csv
import gzip
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from models import summary
from models.audit import Actor, Change, record_changes, vehicle_snapshots
from models.datasets import SHIPPED, DatasetInfo, UnknownDataset, dataset_id_for
from models.editing import column_values
from models.export import FORMULA_PREFIXES
from models.normalize import split_car_name
from models.user import utcnow
from models.validation import (
    LITRES_PER_CUBIC_INCH,
    VEHICLE_FIELDS,
    FieldError,
    derive_combined,
    is_stored_id,
    parse_field,
)
from models.vehicle import Dataset, Vehicle, bump_data_version

BATCH_SIZE = 1000
MAX_LISTED_PROBLEMS = 100
PREVIEW_ROWS = 5
#: How much of a CSV file the delimiter is chosen from.
SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
XLSX_MAGIC = b"PK\x03\x04"
#: Bounds on a row, checked before parsing (see the module docstring).
MAX_ROW_BYTES = 64 * 1024
MAX_ROW_CELLS = 200
#: Bounds on an XLSX workbook's zip members, checked before parsing.
MAX_XLSX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_XLSX_RATIO = 100
MAX_XLSX_RATIO_FLOOR = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"

FUEL_FIELDS = ("city_mpg", "highway_mpg", "combined_mpg")
#: A vehicle's fields that a file can fill (the import, not the file, names the dataset).
VALUE_FIELDS: tuple[str, ...] = tuple(name for name in VEHICLE_FIELDS if name != "dataset")
#: Fields a column can be mapped to: those, a car name holding maker and model
#: ("chevy c20"), and the id of a fueldash export.
IMPORT_FIELDS: tuple[str, ...] = (*VALUE_FIELDS, "name", "fueldash_id")

#: Units offered per field; the first is the one stored.
FIELD_UNITS: dict[str, tuple[str, ...]] = {
    "displacement": ("l", "cu in"),
    "weight": ("lb", "1000 lb", "kg"),
    **{name: ("mpg", "l/100km", "km/l") for name in FUEL_FIELDS},
}
#: Miles per US gallon in one km per litre; L/100 km is its reciprocal times 100.
MPG_PER_KM_PER_LITRE = 2.352145833
KG_PER_LB = 0.45359237
TO_STORED_UNIT: dict[str, Callable[[float], float]] = {
    "cu in": lambda value: value * LITRES_PER_CUBIC_INCH,
    "1000 lb": lambda value: value * 1000,
    "kg": lambda value: value / KG_PER_LB,
    "l/100km": lambda value: 100 * MPG_PER_KM_PER_LITRE / value,
    "km/l": lambda value: value * MPG_PER_KM_PER_LITRE,
}


@dataclass(frozen=True, slots=True)
class ColumnChoice:
    """The field a column fills, and the unit its numbers are in (None: the stored one)."""

    field: str
    unit: str | None = None


#: Column header -> what it fills; None means the column is ignored.
Mapping = dict[str, ColumnChoice | None]

#: Normalized header -> what it fills, most trusted first: when two columns would fill one
#: field, the earlier name here wins (``fuelType`` over ``fuelType1``).
COLUMN_SYNONYMS: dict[str, ColumnChoice] = {
    "fueldash id": ColumnChoice("fueldash_id"),
    **{name.replace("_", " "): ColumnChoice(name) for name in IMPORT_FIELDS},
    "id": ColumnChoice("source_id"),
    "make": ColumnChoice("manufacturer"),
    "maker": ColumnChoice("manufacturer"),
    "brand": ColumnChoice("manufacturer"),
    "car name": ColumnChoice("name"),
    "model year": ColumnChoice("year"),
    "hp": ColumnChoice("horsepower"),
    "horse power": ColumnChoice("horsepower"),
    "city08": ColumnChoice("city_mpg"),
    "cty": ColumnChoice("city_mpg"),
    "city": ColumnChoice("city_mpg"),
    "highway08": ColumnChoice("highway_mpg"),
    "hwy": ColumnChoice("highway_mpg"),
    "highway": ColumnChoice("highway_mpg"),
    "comb08": ColumnChoice("combined_mpg"),
    "mpg": ColumnChoice("combined_mpg"),
    "miles per gallon": ColumnChoice("combined_mpg"),
    "cyl": ColumnChoice("cylinders"),
    "displ": ColumnChoice("displacement", "l"),
    "disp": ColumnChoice("displacement", "cu in"),  # mtcars' name, in cubic inches
    "weight in lbs": ColumnChoice("weight", "lb"),
    "weight lbs": ColumnChoice("weight", "lb"),
    "wt": ColumnChoice("weight", "1000 lb"),  # mtcars' name, in thousands of pounds
    "accel": ColumnChoice("acceleration"),
    "region": ColumnChoice("origin"),
    "vclass": ColumnChoice("vehicle_class"),
    "class": ColumnChoice("vehicle_class"),
    "trany": ColumnChoice("transmission"),
    "trans": ColumnChoice("transmission"),
    "drv": ColumnChoice("drive"),
    "fueltype": ColumnChoice("fuel_type"),
    "fuel": ColumnChoice("fuel_type"),
    "fl": ColumnChoice("fuel_type"),
    "fueltype1": ColumnChoice("fuel_type"),
    "atvtype": ColumnChoice("powertrain"),
    "co2tailpipegpm": ColumnChoice("co2_g_per_mile"),
    "fuelcost08": ColumnChoice("annual_fuel_cost_usd"),
    "range": ColumnChoice("electric_range_miles"),
}
#: Headers that only the auto-mpg sample uses; in such a file ``Displacement`` is in
#: cubic inches rather than fueldash's litres.
AUTO_MPG_HEADERS = frozenset({"miles per gallon", "weight in lbs"})

#: The EPA's columns (and the shared file's renamings of them) write unknown numbers as 0
#: or -1; there they are read as unknown.
UNKNOWN_AS_ZERO = frozenset(
    {"displ", "cylinders", "cyl", "city08", "cty", "highway08", "hwy", "comb08"}
    | {"co2tailpipegpm", "fuelcost08", "range"}
)
ZERO_OR_MINUS_ONE = frozenset({"0", "-1", "0.0", "-1.0"})

#: Well-known codes, lower-case, as ggplot2's ``mpg`` data writes drive and fuel.
VALUE_CODES: dict[str, dict[str, str]] = {
    "drive": {"f": "Front-Wheel Drive", "r": "Rear-Wheel Drive", "4": "4-Wheel Drive"},
    "fuel_type": {
        "p": "Premium",
        "r": "Regular",
        "d": "Diesel",
        "e": "Ethanol E85",
        "c": "CNG",
    },
    "powertrain": {"fcv": "fuel cell", "phev": "plug-in hybrid"},
}
#: The EPA's ``atvType`` -> powertrain; any other value (Diesel, FFV, CNG, empty) is ICE.
ATV_TYPES = {"ev": "EV", "hybrid": "hybrid", "plug-in hybrid": "plug-in hybrid", "fcv": "fuel cell"}

_HEADER_SEPARATORS = re.compile(r"[\s_\-]+")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (not CSV/XLSX, a required column missing,
    a mapping that names no column or field)."""


class ImportRejected(ValueError):
    """At least one row is invalid, so nothing may be written."""

    def __init__(self, report: "ImportReport") -> None:
        super().__init__(f"{report.invalid} invalid rows; nothing was imported")
        self.report = report


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        return f'row {self.row}, {self.column}, "{shown}": {self.reason}'


@dataclass(slots=True)
class ImportReport:
    """What an import does. Counts are exact; ``errors`` lists at most
    ``MAX_LISTED_PROBLEMS`` messages; ``preview`` holds the first valid rows as they will
    be stored; ``plottable`` counts rows with both of the dataset's default axes."""

    dataset: str
    new: int = 0
    updated: int = 0
    invalid: int = 0
    errors: list[str] = field(default_factory=list)
    columns: Mapping = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    plottable: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.new + self.updated + self.invalid

    def add_problems(self, problems: list[RowProblem]) -> None:
        self.invalid += 1
        room = MAX_LISTED_PROBLEMS - len(self.errors)
        self.errors.extend(str(problem) for problem in problems[: max(room, 0)])


def normalize_header(header: Any) -> str:
    return _HEADER_SEPARATORS.sub(" ", str(header or "")).strip().lower()


# --- mapping ------------------------------------------------------------------------------


def guess_mapping(columns: list[str]) -> Mapping:
    """Each column -> the field it fills by its name, or None; one column per field."""
    normalized = [normalize_header(column) for column in columns]
    rank = {name: position for position, name in enumerate(COLUMN_SYNONYMS)}
    auto_mpg = not AUTO_MPG_HEADERS.isdisjoint(normalized)
    best: dict[str, str] = {}  # field -> its most trusted column's normalized name
    for name in normalized:
        choice = COLUMN_SYNONYMS.get(name)
        if choice and (choice.field not in best or rank[name] < rank[best[choice.field]]):
            best[choice.field] = name
    mapping: Mapping = {}
    for column, name in zip(columns, normalized, strict=True):
        choice = COLUMN_SYNONYMS.get(name)
        if choice is None or best.get(choice.field) != name or column in mapping:
            mapping.setdefault(column, None)
            continue
        if auto_mpg and name == "displacement":
            choice = ColumnChoice("displacement", "cu in")
        mapping[column] = choice
    return mapping


def parse_map_option(text: str) -> tuple[str, ColumnChoice | None]:
    """``COLUMN=FIELD[:UNIT]`` (or ``COLUMN=`` to ignore it) as (column, choice)."""
    column, equals, target = text.rpartition("=")
    if not equals or not column:
        raise ImportFileError(f"{text!r} is not COLUMN=FIELD[:UNIT]")
    name, _, unit = target.partition(":")
    if not name.strip() or name.strip() == "ignore":
        return column, None
    return column, ColumnChoice(name.strip(), unit.strip() or None)


def _check_choice(column: str, choice: ColumnChoice) -> None:
    if choice.field not in IMPORT_FIELDS:
        raise ImportFileError(
            f"column {column!r} maps to {choice.field!r}, which is not a field; "
            f"use one of {', '.join(IMPORT_FIELDS)}"
        )
    units = FIELD_UNITS.get(choice.field, ())
    if choice.unit is not None and choice.unit not in units:
        offered = f"use one of {', '.join(units)}" if units else "it takes no unit"
        raise ImportFileError(f"{choice.field} cannot be in {choice.unit!r}; {offered}")


def resolve_mapping(header: list[str], mapping: Mapping | None) -> Mapping:
    """The guess for ``header`` with ``mapping`` laid over it, checked."""
    resolved = guess_mapping(header)
    for column, choice in (mapping or {}).items():
        if column not in resolved:
            raise ImportFileError(f"the file has no column {column!r}")
        if choice is not None:
            _check_choice(column, choice)
        resolved[column] = choice
    claimed: dict[str, str] = {}
    for column, choice in resolved.items():
        if choice is None:
            continue
        if choice.field in claimed:
            raise ImportFileError(
                f"columns {claimed[choice.field]!r} and {column!r} both map to {choice.field}"
            )
        claimed[choice.field] = column
    has_name = "name" in claimed
    missing = [f for f in ("manufacturer", "model") if f not in claimed and not has_name]
    if missing:
        accepted = "manufacturer or make, and model (or a single name column like 'chevy c20')"
        raise ImportFileError(f"missing required column: {', '.join(missing)}; need {accepted}")
    return resolved


# --- reading ------------------------------------------------------------------------------


def _kind(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(8192)
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if b"\x00" in head:
        raise ImportFileError("the file is neither CSV nor XLSX (it contains binary data)")
    return "csv"


def _limit(name: str) -> int:
    """A bound: ``IMPORT_<name>`` from the environment, else the module's default."""
    default: int = globals()[name]
    text = os.environ.get(f"IMPORT_{name}", "")
    return int(text) if text.isascii() and text.isdigit() else default


def _check_csv_rows(path: Path, kind: str) -> None:
    """Refuse a CSV with a row over ``MAX_ROW_BYTES`` in one streaming pass of bounded
    memory. A quoted cell may span lines, so a row ends at a newline outside quotes."""
    max_bytes = _limit("MAX_ROW_BYTES")
    row, length, quoted = 1, 0, False
    try:
        with gzip.open(path) if kind == "gzip" else path.open("rb") as handle:
            while line := handle.readline(max_bytes + 1):
                length += len(line)
                if length > max_bytes:
                    raise ImportFileError(
                        f"row {row} is longer than {max_bytes} bytes; "
                        "a row of vehicle data is far shorter"
                    )
                quoted ^= line.count(b'"') % 2 == 1
                if line.endswith(b"\n") and not quoted:
                    row, length = row + 1, 0
    except (OSError, EOFError) as error:
        raise ImportFileError(f"the file is not readable CSV: {error}") from None


def _check_cells(header: list[Any]) -> None:
    """Refuse a header with more than ``MAX_ROW_CELLS`` cells; pandas then refuses any
    longer row ("Expected N fields")."""
    max_cells = _limit("MAX_ROW_CELLS")
    if len(header) > max_cells:
        raise ImportFileError(f"row 1 has {len(header)} cells; at most {max_cells} are read")


def _check_xlsx(path: Path) -> None:
    """Refuse a workbook whose members would inflate too far (a zip bomb)."""
    total_limit, ratio_limit = _limit("MAX_XLSX_UNCOMPRESSED"), _limit("MAX_XLSX_RATIO")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise ImportFileError(f"the file is not a readable XLSX workbook ({error})") from None
    total = sum(member.file_size for member in members)
    if total > total_limit:
        raise ImportFileError(
            f"the workbook holds {total} bytes uncompressed; at most {total_limit} are read"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > MAX_XLSX_RATIO_FLOOR and ratio > ratio_limit:
            raise ImportFileError(
                f"the workbook's {member.filename} is compressed {ratio:.0f} times; "
                f"at most {ratio_limit} is accepted (is it a zip bomb?)"
            )


def _sample(path: Path, kind: str) -> str:
    """The file's first whole lines within ``SAMPLE_BYTES``."""
    with gzip.open(path) if kind == "gzip" else path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if len(head) == SAMPLE_BYTES and b"\n" in head:
        head = head[: head.rindex(b"\n")]
    return head.decode("utf-8-sig", errors="replace")


def choose_delimiter(sample: str) -> str:
    """The delimiter that splits the sample's rows evenly into the most columns."""
    import pandas as pd

    best, most = ",", 1
    for delimiter in DELIMITERS:
        try:
            frame = pd.read_csv(
                io.StringIO(sample), sep=delimiter, header=None, dtype=str, engine="c"
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError):
            continue
        if frame.shape[1] > most:
            best, most = delimiter, frame.shape[1]
    return best


def _csv_chunks(path: Path, kind: str) -> Iterator[list[list[str]]]:
    import pandas as pd

    _check_csv_rows(path, kind)
    sample = _sample(path, kind)
    delimiter = choose_delimiter(sample)
    # The header's width bounds every row's (pandas refuses longer ones), so check it
    # before pandas parses a chunk of rows that wide.
    try:
        _check_cells(next(csv.reader(io.StringIO(sample), delimiter=delimiter), []))
    except csv.Error as error:
        raise ImportFileError(f"the file is not readable CSV: {error}") from None
    try:
        with pd.read_csv(
            path,
            sep=delimiter,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
            encoding="utf-8-sig",
            compression="gzip" if kind == "gzip" else None,
            chunksize=BATCH_SIZE,
        ) as reader:
            for frame in reader:
                yield frame.to_numpy().tolist()
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"the file is not UTF-8 text (byte {error.start}); save the CSV as UTF-8"
        ) from None
    except pd.errors.EmptyDataError:
        return
    except (pd.errors.ParserError, OSError, EOFError) as error:
        raise ImportFileError(f"the file is not readable CSV: {error}") from None


def _xlsx_text(value: Any) -> str:
    """A cell's value as text, as pandas would give it: whole floats without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_chunks(path: Path) -> Iterator[list[list[str]]]:
    """The first sheet's rows, streamed by openpyxl in read-only mode a chunk at a time,
    each row checked against the bounds and made as wide as the header."""
    import openpyxl

    _check_xlsx(path)
    max_cells, max_bytes = _limit("MAX_ROW_CELLS"), _limit("MAX_ROW_BYTES")
    try:
        with path.open("rb") as handle:  # openpyxl refuses paths whose suffix is not .xlsx
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                sheet.reset_dimensions()  # a forged dimension must not pad every row
                chunk: list[list[str]] = []
                width = 0
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    if len(values) > max_cells:
                        raise ImportFileError(
                            f"row {number} has {len(values)} cells; at most {max_cells} are read"
                        )
                    row = [_xlsx_text(value) for value in values]
                    if sum(len(cell.encode()) for cell in row) > max_bytes:
                        raise ImportFileError(
                            f"row {number} is longer than {max_bytes} bytes; "
                            "a row of vehicle data is far shorter"
                        )
                    width = width or len(row)
                    chunk.append((row + [""] * width)[:width])
                    if len(chunk) == BATCH_SIZE:
                        yield chunk
                        chunk = []
                if chunk:
                    yield chunk
            finally:
                book.close()
    except ImportFileError:
        raise
    except Exception as error:  # openpyxl raises many types for a broken zip
        raise ImportFileError(f"the file is not a readable XLSX workbook ({error})") from None


def read_chunks(path: Path) -> Iterator[list[list[str]]]:
    """The file's rows as text cells, header first, a chunk at a time."""
    kind = _kind(path)
    return _xlsx_chunks(path) if kind == "xlsx" else _csv_chunks(path, kind)


def read_columns(path: Path) -> list[str]:
    """The file's header."""
    first = next(read_chunks(path), [])
    if not first or not any(str(cell).strip() for cell in first[0]):
        raise ImportFileError("the file is empty: no header row")
    return [str(cell).strip() for cell in first[0]]


def estimate_rows(path: Path) -> int:
    """Roughly how many data rows the file holds, for a progress bar (cheap, streaming)."""
    kind = _kind(path)
    if kind == "xlsx":
        return _xlsx_rows(path)
    lines = 0
    with gzip.open(path) if kind == "gzip" else path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(0, lines - 1)


def _xlsx_rows(path: Path) -> int:
    """The data rows the first sheet's dimension declares (0 when it declares none); read
    from the sheet's head, not the whole sheet."""
    import openpyxl

    _check_xlsx(path)
    try:
        with path.open("rb") as handle:
            book = openpyxl.load_workbook(handle, read_only=True)
            try:
                sheet = book.worksheets[0]
                return max(0, (sheet.max_row or 1) - 1)
            finally:
                book.close()
    except Exception as error:  # openpyxl raises many types for a broken zip
        raise ImportFileError(f"the file is not a readable XLSX workbook ({error})") from None


# --- validating ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """How one mapped column's cells become a field's value."""

    index: int
    choice: ColumnChoice
    unknown_as_zero: bool
    atv_type: bool


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int
    vehicle_id: int | None
    values: dict[str, Any]


def _plan(header: list[str], mapping: Mapping) -> list[ColumnPlan]:
    plans: list[ColumnPlan] = []
    for index, column in enumerate(header):
        choice = mapping.get(column)
        if choice is not None and all(p.choice != choice for p in plans):
            name = normalize_header(column)
            plans.append(ColumnPlan(index, choice, name in UNKNOWN_AS_ZERO, name == "atvtype"))
    return plans


def _field_value(plan: ColumnPlan, text: str) -> Any:
    name = plan.choice.field
    if plan.atv_type:
        return ATV_TYPES.get(text.lower(), "ICE")
    if plan.unknown_as_zero and text in ZERO_OR_MINUS_ONE:
        return None
    text = VALUE_CODES.get(name, {}).get(text.lower(), text)
    value = parse_field(name, text)
    unit = plan.choice.unit
    if value is None or unit not in TO_STORED_UNIT:
        return value
    # A valid value can leave the field's range once converted: 1e-320 cu in is 0 litres,
    # which the database's "> 0" check refuses, and 1e306 thousand lb is infinite.
    try:
        return parse_field(name, TO_STORED_UNIT[unit](value))
    except FieldError as error:
        raise FieldError(f"{error} once converted from {unit} to {FIELD_UNITS[name][0]}") from None


def _unquote_formula(text: str) -> str:
    """``'=1+1`` as fueldash's export writes ``=1+1``, back to ``=1+1``."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES) else text


def _parse_row(number: int, cells: list[str], plans: list[ColumnPlan]) -> ParsedRow | list:
    """The row's values (only the fields the file has columns for), or its problems."""
    texts = {p.choice.field: cells[p.index].strip() for p in plans}
    if "fueldash_id" in texts:  # a fueldash export: undo its quoting of formula-like cells
        texts = {name: _unquote_formula(text) for name, text in texts.items()}
    values: dict[str, Any] = {}
    problems: list[RowProblem] = []
    if "name" in texts:
        # A name column stands for both manufacturer and model, so both are in the file.
        maker, model = split_car_name(texts["name"]) if texts["name"] else ("", "")
        texts["manufacturer"] = texts.get("manufacturer") or maker
        texts["model"] = texts.get("model") or model
    vehicle_id = None
    if id_text := texts.get("fueldash_id"):
        try:
            as_number = float(id_text)
            if not as_number.is_integer() or not is_stored_id(int(as_number)):
                raise ValueError
            vehicle_id = int(as_number)
        except ValueError:
            problems.append(RowProblem(number, "fueldash_id", id_text, "not a vehicle id"))
    by_field = {p.choice.field: p for p in plans}
    for name in VALUE_FIELDS:
        if name not in texts:
            continue
        try:
            plan = by_field.get(name, ColumnPlan(-1, ColumnChoice(name), False, False))
            values[name] = _field_value(plan, texts[name])
        except FieldError as error:
            problems.append(RowProblem(number, name, texts[name], str(error)))
    if problems:
        return problems
    if "city_mpg" in values and "highway_mpg" in values and "combined_mpg" not in values:
        values["combined_mpg"] = None  # a file with city and highway figures has this one
    return ParsedRow(number, vehicle_id, values)


def _as_new(values: dict[str, Any]) -> dict[str, Any]:
    """A new vehicle's values: unknown where the file has no column, combined derived."""
    full = {name: None for name in VALUE_FIELDS} | values
    if full["powertrain"] is None and full["fuel_type"] == "Electricity":
        full["powertrain"] = "EV"
    derive_combined(full)
    return full


@dataclass(slots=True)
class Target:
    """The dataset rows go into: its id (None while a shipped one is not yet created)."""

    slug: str
    id: int | None
    default_x: str
    default_y: str


def _target(conn: Connection, slug: str, *, create: bool) -> Target:
    if create:
        dataset_id_for(conn, slug)
    found = conn.execute(
        select(Dataset.id, Dataset.default_x, Dataset.default_y).where(Dataset.slug == slug)
    ).first()
    if found is not None:
        return Target(slug, *found)
    if slug not in SHIPPED:
        raise UnknownDataset(f"no dataset is named {slug!r}")
    info: DatasetInfo = SHIPPED[slug]
    return Target(slug, None, info.default_x, info.default_y)


@dataclass(slots=True)
class Batch:
    """A chunk's valid rows: new ones, and updates as (vehicle id, values)."""

    new: list[ParsedRow] = field(default_factory=list)
    updates: list[tuple[int, ParsedRow]] = field(default_factory=list)


def _classify(
    conn: Connection,
    target: Target,
    parsed: list[ParsedRow | list],
    report: ImportReport,
    sources: dict[str, int],
    seen_sources: dict[str, int],
) -> Batch:
    """Sort a chunk's rows into new, updates and invalid (counted in ``report``);
    ``sources`` holds the dataset's vehicle ids by source id."""
    wanted = sorted({r.vehicle_id for r in parsed if isinstance(r, ParsedRow) and r.vehicle_id})
    known_ids: set[int] = set()
    if wanted and target.id is not None:
        stmt = select(Vehicle.id, Vehicle.dataset_id).where(Vehicle.id.in_(wanted))
        known_ids = {i for i, dataset_id in conn.execute(stmt) if dataset_id == target.id}
    batch = Batch()
    for row in parsed:
        if not isinstance(row, ParsedRow):
            report.add_problems(row)
            continue
        source = row.values.get("source_id")
        if source and source in seen_sources:
            reason = f"row {seen_sources[source]} has the same id"
            report.add_problems([RowProblem(row.row, "source_id", source, reason)])
            continue
        if source:
            seen_sources[source] = row.row
        if row.vehicle_id is not None and row.vehicle_id not in known_ids:
            reason = f"no vehicle in {target.slug} has this id"
            report.add_problems([RowProblem(row.row, "fueldash_id", str(row.vehicle_id), reason)])
            continue
        holder = sources.get(source or "")
        if row.vehicle_id is not None and holder not in (None, row.vehicle_id):
            # The dataset's source ids are unique: the database would refuse this update.
            reason = f"vehicle {holder} in {target.slug} already has this id"
            report.add_problems([RowProblem(row.row, "source_id", str(source), reason)])
            continue
        existing = row.vehicle_id or sources.get(source or "")
        if existing:
            derive_combined(row.values)
            batch.updates.append((existing, row))
        else:
            batch.new.append(ParsedRow(row.row, None, _as_new(row.values)))
    report.new += len(batch.new)
    report.updated += len(batch.updates)
    for row in [*batch.new, *(row for _, row in batch.updates)]:
        values = row.values
        if values.get(target.default_x) is not None and values.get(target.default_y) is not None:
            report.plottable += 1
        if len(report.preview) < PREVIEW_ROWS:
            report.preview.append({"dataset": target.slug, **values})
    return batch


Progress = Callable[[int], None]


def _batches(
    conn: Connection, path: Path, target: Target, mapping: Mapping | None, report: ImportReport
) -> Iterator[tuple[Batch, int]]:
    """Each chunk's classified rows and how many file rows it covered. Row numbers count
    the header as row 1, like a spreadsheet."""
    chunks = read_chunks(path)
    first = next(chunks, [])
    if not first or not any(str(cell).strip() for cell in first[0]):
        raise ImportFileError("the file is empty: no header row")
    header = [str(cell).strip() for cell in first[0]]
    report.columns = resolve_mapping(header, mapping)
    report.ignored = [c for c, choice in report.columns.items() if choice is None and c]
    mapped = {choice.field for choice in report.columns.values() if choice is not None}
    if not mapped & set(FUEL_FIELDS):
        report.warnings.append(
            "no column is mapped to a fuel figure (city_mpg, highway_mpg or combined_mpg), "
            "so no vehicle would be plotted"
        )
    plans = _plan(header, report.columns)
    # One read of the dataset's source ids; rows the import adds cannot match a later row,
    # as a source id may appear once per file.
    sources: dict[str, int] = {}
    if target.id is not None:
        stmt = select(Vehicle.source_id, Vehicle.id).where(
            Vehicle.dataset_id == target.id, Vehicle.source_id.is_not(None)
        )
        sources = {str(source): vehicle_id for source, vehicle_id in conn.execute(stmt)}
    seen_sources: dict[str, int] = {}
    number = 1
    for chunk in _with_first(first[1:], chunks):
        parsed = []
        for cells in chunk:
            number += 1
            if any(cell.strip() for cell in cells):  # blank lines are not rows
                parsed.append(_parse_row(number, cells, plans))
        yield _classify(conn, target, parsed, report, sources, seen_sources), len(chunk)
    if report.rows - report.invalid and not report.plottable and not report.warnings:
        report.warnings.append(
            f"no row has both {target.default_x} and {target.default_y}, the dataset's "
            "default axes, so none would be plotted"
        )


def _with_first(first: list[list[str]], rest: Iterator[list[list[str]]]) -> Iterator[list]:
    if first:
        yield first
    yield from rest


def dry_run(
    conn: Connection,
    path: Path,
    dataset: str,
    mapping: Mapping | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate the whole file and say what importing it into ``dataset`` would do; writes
    nothing. Raises ``UnknownDataset`` for a dataset that does not exist."""
    report = ImportReport(dataset)
    target = _target(conn, dataset, create=False)
    for _, rows in _batches(conn, path, target, mapping, report):
        if progress:
            progress(rows)
    return report


# --- writing ------------------------------------------------------------------------------


@contextmanager
def _unprepared(conn: Connection) -> Iterator[None]:
    """No statement is prepared on ``conn`` (psycopg) in the block: a chunk's insert.

    psycopg tallies the last 100 (statement, parameter types) it ran, to prepare the ones
    run often (five times by default). A chunk's insert binds NULLs as type 0 and values
    with their own, so its 24,000 types differ where the chunk's empty cells fall: the key
    is new nearly every chunk and never prepared, and the tally kept each one (a 300 KB
    statement and its types, about 0.45 MB) until 100 of them had piled up.
    ``prepare_threshold = None`` is psycopg's documented switch that stops the tally; the
    connection's own value is put back straight after, so the import's other statements
    (the updates' executemany among them) are prepared as before.
    """
    if conn.dialect.driver != "psycopg":
        yield
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    threshold = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


def _insert_new(
    conn: Connection, actor: Actor, target: Target, rows: list[ParsedRow], makers: dict
) -> None:
    params = [{**column_values(conn, row.values, makers), "dataset_id": target.id} for row in rows]
    with _unprepared(conn):
        ids = conn.scalars(
            insert(Vehicle).returning(Vehicle.id, sort_by_parameter_order=True), params
        ).all()
    summary.added(conn, ids)
    record_changes(
        conn,
        actor,
        [
            Change("create", vehicle_id=i, after={"dataset": target.slug, **row.values})
            for i, row in zip(ids, rows, strict=True)
        ],
    )


def _apply_updates(
    conn: Connection, actor: Actor, rows: list[tuple[int, ParsedRow]], makers: dict
) -> None:
    before = vehicle_snapshots(conn, [vehicle_id for vehicle_id, _ in rows])
    changes = []
    params = []
    for vehicle_id, row in rows:
        old = before[vehicle_id]
        keys = [k for k, v in row.values.items() if k in old and old[k] != v]
        if not keys:
            continue  # the same values again: nothing to write or log
        changes.append(
            Change(
                "update",
                vehicle_id=vehicle_id,
                before={k: old[k] for k in keys},
                after={k: row.values[k] for k in keys},
            )
        )
        columns = column_values(conn, row.values, makers)
        params.append({"target_id": vehicle_id, **{f"new_{k}": v for k, v in columns.items()}})
    if not params:
        return
    # Every row of a file has the same columns, so the first row's are everyone's.
    names = [k.removeprefix("new_") for k in params[0] if k != "target_id"]
    stmt = (
        update(Vehicle)
        .where(Vehicle.id == bindparam("target_id"))
        .values({name: bindparam(f"new_{name}") for name in names})
    )
    with summary.tracked(conn, [param["target_id"] for param in params]):
        conn.execute(stmt, params)
    record_changes(conn, actor, changes)


def commit_import(
    conn: Connection,
    actor: Actor,
    path: Path,
    dataset: str,
    mapping: Mapping | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Write the whole file into ``dataset`` inside the caller's transaction, in batches,
    and record when and by whom the dataset was imported.

    Raises ``ImportRejected`` when any row is invalid; the caller must then roll back,
    which undoes the batches already written.
    """
    report = ImportReport(dataset)
    target = _target(conn, dataset, create=True)
    makers: dict[str, int] = {}
    for batch, rows in _batches(conn, path, target, mapping, report):
        if report.invalid:
            raise ImportRejected(report)
        if batch.new:
            _insert_new(conn, actor, target, batch.new, makers)
        if batch.updates:
            _apply_updates(conn, actor, batch.updates, makers)
        if progress:
            progress(rows)
    conn.execute(
        update(Dataset)
        .where(Dataset.id == target.id)
        .values(imported_at=utcnow(), imported_by=actor.name[:80])
    )
    if report.new or report.updated:
        bump_data_version(conn)
    return report
