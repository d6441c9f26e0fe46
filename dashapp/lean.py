"""A Dash app that leaves out the JavaScript this dashboard never runs.

Dash always references the DataTable bundle on its index page, even when no DataTable is
in the layout; this dashboard has none, so its script tag is dropped. plotly.js itself
comes from the cartesian bundle in ``dashapp/assets/`` (see ``scripts/plotly_bundle.py``),
which Dash serves before its components, so the full plotly.js is never fetched.
"""

import re
from typing import Any

from dash import Dash

#: Script tags for component bundles that no component in this app's layout uses.
UNUSED_SCRIPTS = re.compile(
    r'<script src="[^"]*/_dash-component-suites/dash/dash_table/[^"]*"></script>\s*'
)


class LeanDash(Dash):
    """``Dash`` whose index page omits the unused DataTable bundle."""

    def interpolate_index(self, **kwargs: Any) -> str:
        kwargs["scripts"] = UNUSED_SCRIPTS.sub("", kwargs["scripts"])
        return super().interpolate_index(**kwargs)
