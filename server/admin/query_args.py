"""Read the admin list's query string into a ``VehicleFilter`` plus sort and page.

Bad numbers are reported, not guessed: the page shows the reason and ignores that field.
"""

from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from models.filters import VehicleFilter
from models.listing import MAX_PER_PAGE, SORTS
from models.validation import MAX_PAGE, MAX_YEAR, MIN_YEAR, FieldError, parse_whole

FILTER_KEYS = ("q", "dataset", "manufacturer", "origin", "year_min", "year_max")


@dataclass(frozen=True, slots=True)
class ListArgs:
    vehicle_filter: VehicleFilter
    sort: str
    descending: bool
    page: int
    per_page: int
    problems: dict[str, str]

    def query(self, **changes: Any) -> dict[str, Any]:
        """Query-string values that reproduce this list, with ``changes`` applied."""
        f = self.vehicle_filter
        values: dict[str, Any] = {
            "q": f.q or None,
            "dataset": list(f.datasets) or None,
            "manufacturer": list(f.manufacturers) or None,
            "origin": list(f.origins) or None,
            "year_min": f.year_min,
            "year_max": f.year_max,
            "sort": self.sort,
            "dir": "desc" if self.descending else "asc",
            "page": self.page,
            "per_page": self.per_page,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "", [])}

    def filter_query(self) -> dict[str, Any]:
        return {k: v for k, v in self.query().items() if k in FILTER_KEYS}


def _int(
    args: MultiDict[str, str], key: str, problems: dict[str, str], low: int, high: int
) -> int | None:
    """The whole number in ``key``, or None with the reason in ``problems``."""
    raw = (args.get(key) or "").strip()
    if not raw:
        return None
    try:
        return parse_whole(raw, low, high)
    except FieldError as error:
        problems[key] = f'{key} "{raw[:40]}" {error}'
        return None


def _names(args: MultiDict[str, str], key: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in args.getlist(key) if v.strip())


def list_args(args: MultiDict[str, str]) -> ListArgs:
    """Parse the list's query string; never raises."""
    problems: dict[str, str] = {}
    vehicle_filter = VehicleFilter(
        datasets=_names(args, "dataset"),
        manufacturers=_names(args, "manufacturer"),
        origins=_names(args, "origin"),
        year_min=_int(args, "year_min", problems, MIN_YEAR, MAX_YEAR),
        year_max=_int(args, "year_max", problems, MIN_YEAR, MAX_YEAR),
        q=(args.get("q") or "").strip() or None,
    )
    if filter_problems := vehicle_filter.problems():
        problems.update(filter_problems)
        vehicle_filter = VehicleFilter()
    sort = args.get("sort", "id")
    page = _int(args, "page", problems, 1, MAX_PAGE) or 1
    per_page = _int(args, "per_page", problems, 1, MAX_PAGE) or 50
    return ListArgs(
        vehicle_filter=vehicle_filter,
        sort=sort if sort in SORTS else "id",
        descending=args.get("dir") == "desc",
        page=page,
        per_page=min(per_page, MAX_PER_PAGE),
        problems=problems,
    )
