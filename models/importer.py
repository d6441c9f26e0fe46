"""Bulk import of vehicles from CSV or XLSX, shared by /admin/import and the CLI.

The file is read twice, streaming, never whole: ``dry_run`` validates every row and
counts new, updated and invalid rows; ``commit_import`` validates again while writing in
batches inside the caller's single transaction, and raises ``ImportRejected`` (so the
caller rolls everything back) if any row is invalid.

A row with an ``id`` updates the vehicle with that id (which must exist): the fields the
file has columns for, an empty cell meaning unknown, while fields without a column stay as
they are. A row without one adds a new vehicle. An export therefore re-imports as updates.
"""

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, bindparam, insert, select, update

from models.audit import Actor, Change, record_changes, vehicle_snapshots
from models.editing import column_values
from models.normalize import split_car_name
from models.validation import VEHICLE_FIELDS, FieldError, is_vehicle_id, parse_field
from models.vehicle import Vehicle, bump_data_version

BATCH_SIZE = 1000
MAX_LISTED_PROBLEMS = 100
XLSX_MAGIC = b"PK\x03\x04"

#: Normalized header -> field. Headers are lower-cased, with "_", "-" and runs of
#: spaces read as one space, so "Miles_per_Gallon" and "miles per gallon" both match.
COLUMN_SYNONYMS: dict[str, str] = {
    "id": "id",
    "manufacturer": "manufacturer",
    "make": "manufacturer",
    "maker": "manufacturer",
    "brand": "manufacturer",
    "model": "model",
    "name": "name",
    "car name": "name",
    "year": "year",
    "model year": "year",
    "horsepower": "horsepower",
    "hp": "horsepower",
    "horse power": "horsepower",
    "mpg": "combined_mpg",
    "miles per gallon": "combined_mpg",
    "cylinders": "cylinders",
    "cyl": "cylinders",
    "displacement": "displacement",
    "disp": "displacement",
    "weight": "weight",
    "weight in lbs": "weight",
    "weight lbs": "weight",
    "acceleration": "acceleration",
    "accel": "acceleration",
    "origin": "origin",
    "region": "origin",
}

_HEADER_SEPARATORS = re.compile(r"[\s_\-]+")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (not CSV/XLSX, a required column missing)."""


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
    """Counts are exact; ``problems`` lists at most ``MAX_LISTED_PROBLEMS`` of them."""

    new: int = 0
    updated: int = 0
    invalid: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.new + self.updated + self.invalid

    @property
    def unlisted(self) -> int:
        return self.invalid - len({p.row for p in self.problems})

    def add_problems(self, problems: list[RowProblem]) -> None:
        self.invalid += 1
        room = MAX_LISTED_PROBLEMS - len(self.problems)
        if room > 0:
            self.problems.extend(problems[:room])


def normalize_header(header: Any) -> str:
    return _HEADER_SEPARATORS.sub(" ", str(header or "")).strip().lower()


# --- reading ------------------------------------------------------------------------------


def _sniff(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(8192)
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if b"\x00" in head:
        raise ImportFileError("the file is neither CSV nor XLSX (it contains binary data)")
    return "csv"


def _csv_rows(path: Path) -> Iterator[list[str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(65536)
            handle.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            yield from csv.reader(handle, dialect)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"the file is not UTF-8 text (byte {error.start}); save the CSV as UTF-8"
        ) from None
    except csv.Error as error:
        raise ImportFileError(f"the file is not readable CSV: {error}") from None


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return value
    return str(value)


def _open_workbook(handle: BinaryIO) -> Any:
    from openpyxl import load_workbook

    # A file object, not a path: openpyxl refuses paths whose suffix is not .xlsx.
    try:
        return load_workbook(handle, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken zip
        raise ImportFileError(f"the file is not a readable XLSX workbook ({error})") from None


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    with path.open("rb") as handle:
        workbook = _open_workbook(handle)
        try:
            for values in workbook.worksheets[0].iter_rows(values_only=True):
                yield [_cell(v) for v in values]
        finally:
            workbook.close()


def read_rows(path: Path) -> Iterator[list[Any]]:
    """The file's rows, header first, one at a time."""
    return _xlsx_rows(path) if _sniff(path) == "xlsx" else _csv_rows(path)


def estimate_rows(path: Path) -> int:
    """Roughly how many data rows the file holds, for a progress bar (cheap, streaming)."""
    if _sniff(path) == "xlsx":
        with path.open("rb") as handle:
            workbook = _open_workbook(handle)
            try:
                return max(0, (workbook.worksheets[0].max_row or 1) - 1)
            finally:
                workbook.close()
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(0, lines - 1)


# --- validating ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int
    vehicle_id: int | None
    values: dict[str, Any]


def _column_map(header: list[Any]) -> tuple[dict[str, int], list[str]]:
    mapping: dict[str, int] = {}
    ignored: list[str] = []
    for index, raw in enumerate(header):
        name = COLUMN_SYNONYMS.get(normalize_header(raw))
        if name is None or name in mapping:
            if str(raw or "").strip():
                ignored.append(str(raw))
            continue
        mapping[name] = index
    has_maker = "manufacturer" in mapping or "name" in mapping
    has_model = "model" in mapping or "name" in mapping
    if not (has_maker and has_model):
        missing = [n for n, ok in (("manufacturer", has_maker), ("model", has_model)) if not ok]
        accepted = "manufacturer or make, and model (or a single name column like 'chevy c20')"
        raise ImportFileError(f"missing required column: {', '.join(missing)}; need {accepted}")
    return mapping, ignored


def _parse_row(
    number: int, cells: list[Any], mapping: dict[str, int]
) -> tuple[ParsedRow | None, list[RowProblem]]:
    raw: dict[str, Any] = {
        name: (cells[i] if i < len(cells) else "") for name, i in mapping.items()
    }
    problems: list[RowProblem] = []
    if "name" in raw:
        # A name column stands for both manufacturer and model, so both are in the file.
        text = str(raw["name"] or "").strip()
        maker, model = split_car_name(text) if text else ("", "")
        raw["manufacturer"] = raw.get("manufacturer") or maker
        raw["model"] = raw.get("model") or model
    vehicle_id = None
    id_cell = raw.get("id")
    if id_cell not in (None, ""):
        try:
            as_number = float(str(id_cell).strip())
            if not as_number.is_integer() or not is_vehicle_id(int(as_number)):
                raise ValueError
            vehicle_id = int(as_number)
        except ValueError:
            problems.append(RowProblem(number, "id", str(id_cell), "not a vehicle id"))
    values: dict[str, Any] = {}
    for name in VEHICLE_FIELDS:
        if vehicle_id is not None and name not in raw:
            continue  # an update leaves the fields the file has no column for as they are
        try:
            values[name] = parse_field(name, raw.get(name))
        except FieldError as error:
            problems.append(RowProblem(number, name, str(raw.get(name) or ""), str(error)))
    if problems:
        return None, problems
    return ParsedRow(number, vehicle_id, values), []


def _batches(
    path: Path, report: ImportReport
) -> Iterator[list[tuple[ParsedRow | None, list[RowProblem]]]]:
    """Parsed rows in batches; row numbers count the header as row 1, like a spreadsheet."""
    rows = read_rows(path)
    header = next(rows, None)
    if header is None or not any(str(c).strip() for c in header):
        raise ImportFileError("the file is empty: no header row")
    mapping, report.ignored_columns = _column_map(header)
    batch: list[tuple[ParsedRow | None, list[RowProblem]]] = []
    for number, cells in enumerate(rows, start=2):
        if not any(str(c).strip() for c in cells):
            continue  # blank lines are not rows
        batch.append(_parse_row(number, cells, mapping))
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _existing_ids(conn: Connection, rows: list[ParsedRow]) -> set[int]:
    wanted = {r.vehicle_id for r in rows if r.vehicle_id is not None}
    if not wanted:
        return set()
    return set(conn.scalars(select(Vehicle.id).where(Vehicle.id.in_(sorted(wanted)))))


def _classify(
    conn: Connection,
    batch: list[tuple[ParsedRow | None, list[RowProblem]]],
    report: ImportReport,
) -> tuple[list[ParsedRow], list[ParsedRow]]:
    """Count the batch into ``report``; returns its valid (new, updates)."""
    good = [parsed for parsed, _ in batch if parsed is not None]
    existing = _existing_ids(conn, good)
    new: list[ParsedRow] = []
    updates: list[ParsedRow] = []
    for parsed, problems in batch:
        if parsed is None:
            report.add_problems(problems)
        elif parsed.vehicle_id is None:
            new.append(parsed)
        elif parsed.vehicle_id in existing:
            updates.append(parsed)
        else:
            report.add_problems(
                [RowProblem(parsed.row, "id", str(parsed.vehicle_id), "no vehicle has this id")]
            )
    report.new += len(new)
    report.updated += len(updates)
    return new, updates


Progress = Callable[[int], None]


def dry_run(conn: Connection, path: Path, progress: Progress | None = None) -> ImportReport:
    """Validate the whole file and say what importing it would do; writes nothing."""
    report = ImportReport()
    for batch in _batches(path, report):
        _classify(conn, batch, report)
        if progress:
            progress(len(batch))
    return report


# --- writing ------------------------------------------------------------------------------


def _insert_new(
    conn: Connection, actor: Actor, rows: list[ParsedRow], makers: dict[str, int]
) -> None:
    params = [column_values(conn, parsed.values, makers) for parsed in rows]
    ids = conn.scalars(
        insert(Vehicle).returning(Vehicle.id, sort_by_parameter_order=True), params
    ).all()
    record_changes(
        conn,
        actor,
        [
            Change("create", vehicle_id=i, after=parsed.values)
            for i, parsed in zip(ids, rows, strict=True)
        ],
    )


def _apply_updates(
    conn: Connection, actor: Actor, rows: list[ParsedRow], makers: dict[str, int]
) -> None:
    ids = [r.vehicle_id for r in rows if r.vehicle_id is not None]  # every update row has one
    before = vehicle_snapshots(conn, ids)
    params = [
        {
            "target_id": parsed.vehicle_id,
            **{f"new_{k}": v for k, v in column_values(conn, parsed.values, makers).items()},
        }
        for parsed in rows
    ]
    # Every row of a file has the same columns, so the first row's are everyone's.
    columns = [k.removeprefix("new_") for k in params[0] if k != "target_id"]
    stmt = (
        update(Vehicle)
        .where(Vehicle.id == bindparam("target_id"))
        .values({c: bindparam(f"new_{c}") for c in columns})
    )
    conn.execute(stmt, params)
    changes = []
    for vehicle_id, parsed in zip(ids, rows, strict=True):
        old = before[vehicle_id]
        keys = [k for k, v in parsed.values.items() if old.get(k) != v]
        if keys:
            changes.append(
                Change(
                    "update",
                    vehicle_id=parsed.vehicle_id,
                    before={k: old.get(k) for k in keys},
                    after={k: parsed.values[k] for k in keys},
                )
            )
    record_changes(conn, actor, changes)


def commit_import(
    conn: Connection, actor: Actor, path: Path, progress: Progress | None = None
) -> ImportReport:
    """Write the whole file inside the caller's transaction, in batches.

    Raises ``ImportRejected`` when any row is invalid; the caller must then roll back,
    which undoes the batches already written.
    """
    report = ImportReport()
    makers: dict[str, int] = {}
    for batch in _batches(path, report):
        new, updates = _classify(conn, batch, report)
        if report.invalid:
            raise ImportRejected(report)
        if new:
            _insert_new(conn, actor, new, makers)
        if updates:
            _apply_updates(conn, actor, updates, makers)
        if progress:
            progress(len(batch))
    if report.new or report.updated:
        bump_data_version(conn)
    return report
