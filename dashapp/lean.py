"""A Dash app whose first page load carries only the JavaScript the first view runs.

Dash always references the DataTable bundle on its index page, even when no DataTable is
in the layout; this dashboard has none, so its script tag is dropped. The AgGrid bundle
(about a third of the page's JavaScript) is only needed once a visitor asks for the table,
so its tag becomes an inert JSON note of its address, which dashapp/assets/fueldash.js
loads on demand. plotly.js itself comes from the basic bundle in ``dashapp/assets/``
(see ``scripts/plotly_bundle.py``), which Dash serves before its components, so the full
plotly.js is never fetched.
"""

import json
import re
from typing import Any

import dash_ag_grid  # noqa: F401  (registers the grid's scripts with Dash, to be deferred)
from dash import Dash

#: Script tags for component bundles that no component in this app's layout uses.
UNUSED_SCRIPTS = re.compile(
    r'<script src="[^"]*/_dash-component-suites/dash/dash_table/[^"]*"></script>\s*'
)
#: Script tags for bundles loaded only when a component that needs them is shown.
DEFERRED_SCRIPTS = {
    "grid": re.compile(
        r'<script src="([^"]*/_dash-component-suites/dash_ag_grid/[^"]*\.js)"></script>\s*'
    ),
}
#: The id of the JSON element listing the deferred scripts' addresses by name.
DEFERRED_SCRIPTS_ID = "fueldash-deferred-scripts"


class LeanDash(Dash):
    """``Dash`` whose index page omits unused bundles and defers the table's."""

    def interpolate_index(self, *args: Any, **kwargs: Any) -> str:
        scripts = UNUSED_SCRIPTS.sub("", kwargs["scripts"])
        deferred: dict[str, str] = {}
        for name, pattern in DEFERRED_SCRIPTS.items():
            if found := pattern.search(scripts):
                deferred[name] = found.group(1)
                scripts = pattern.sub("", scripts)
        # A JSON data block is never executed; "</" cannot occur in a Dash asset address.
        kwargs["scripts"] = (
            f'<script type="application/json" id="{DEFERRED_SCRIPTS_ID}">'
            f"{json.dumps(deferred)}</script>\n{scripts}"
        )
        return super().interpolate_index(**kwargs)
