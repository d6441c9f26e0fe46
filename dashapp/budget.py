"""The dashboard's point budget: how many points one figure may carry.

A maker with 120,000 vehicles would otherwise send megabytes per callback and freeze the
browser's SVG renderer. Above ``DASH_POINT_BUDGET`` points each manufacturer keeps a
deterministic, evenly spread sample in proportion to its size (``models.explore``), and
the figure says plainly how many it shows out of how many. ``DASH_POINT_BUDGET = 0`` turns
the budget off.
"""

from collections.abc import Mapping
from typing import Any

CONFIG_KEY = "DASH_POINT_BUDGET"
#: Points per dashboard figure before it thins them; 0 turns the budget off.
DEFAULT_POINT_BUDGET = 5000


def point_budget(config: Mapping[str, Any]) -> int | None:
    """The configured budget, or None when it is off (0, negative or empty)."""
    raw = config.get(CONFIG_KEY, DEFAULT_POINT_BUDGET)
    try:
        budget = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_POINT_BUDGET
    return budget if budget > 0 else None
