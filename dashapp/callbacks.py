"""Dash callbacks, registered on one Dash app by ``register_callbacks``.

Callbacks stay thin: turn the control values into a ``ViewState``, run a typed query from
``models``, hand the rows to pure builders in ``dashapp.figures``. The URL and the controls
are kept in step by one callback, so a shared link restores a view and back/forward work.
"""

import json
from dataclasses import replace
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, ctx, html, no_update
from sqlalchemy.exc import SQLAlchemyError

from dashapp.figures import (
    GRAPH_ID,
    Figure,
)
from dashapp.layout import (
    CYLINDERS_ID,
    DEFAULTS_ID,
    DETAILS_ID,
    DOWNLOAD_ID,
    DROPDOWN_ID,
    ORIGINS_ID,
    SELECTED_ID,
    SUMMARY_ID,
    TABLE_CONTAINER_ID,
    TABLE_ID,
    TABLE_SPEC_ID,
    TABLE_TOGGLE_ID,
    TREND_ID,
    TREND_ON,
    UNITS_ID,
    URL_ID,
    URL_NOTICE_ID,
    VIEW_CONTROLS_ID,
    X_AXIS_ID,
    Y_AXIS_ID,
    YEARS_ID,
    details_panel,
)
from dashapp.state import (
    MAX_MANUFACTURERS,
    ViewState,
    from_controls,
    parse_query,
    to_query,
)
from dashapp.view import UNAVAILABLE, view_figure
from models.db import db
from models.explore import similar_vehicles, vehicle_details

#: The ``window.dash_clientside`` namespace of dashapp/assets/fueldash.js.
CLIENTSIDE = "fueldash"
#: The controls that make up a view, in the order callbacks take them.
CONTROLS = (DROPDOWN_ID, YEARS_ID, ORIGINS_ID, CYLINDERS_ID, X_AXIS_ID, Y_AXIS_ID, UNITS_ID)


#: The main callback's one output: the graph's figure. The summary cards, CSV link and
#: table are drawn in the browser from what the figure carries in ``layout.meta.view``, so
#: a change of control costs one round trip that only queries and draws.
MAIN_OUTPUT: tuple[str, str] = (GRAPH_ID, "figure")
#: The controls besides the manufacturers, which the browser gathers into one value (the
#: view-controls store) with the year slider's bounds, to tell a full range from a narrowed
#: one. The main callback then takes three arguments instead of ten: Dash's handling of
#: each argument is paid on every change of control.
VIEW_CONTROLS = (YEARS_ID, ORIGINS_ID, CYLINDERS_ID, X_AXIS_ID, Y_AXIS_ID, UNITS_ID)
#: The view-controls store's keys: those controls' values, then the slider's bounds.
VIEW_CONTROL_KEYS = ("years", "origins", "cylinders", "x", "y", "units", "low", "high")
#: What the main callback reads without being triggered by it: the trend toggle, which
#: only shows or hides trend lines in the browser.
MAIN_STATE: tuple[tuple[str, str], ...] = ((TREND_ID, "value"),)


def main_callback_body(
    values: dict[str, Any], state: tuple[Any, Any, Any], changed: str = DROPDOWN_ID
) -> dict[str, Any]:
    """The body Dash's renderer posts to the main callback: ``values`` by control id (missing
    ones are empty), ``state`` as (trend, year slider's min, max). For tests and the
    benchmark."""
    output_id, output_property = MAIN_OUTPUT
    trend, low, high = state
    controls = [values.get(c, []) for c in VIEW_CONTROLS]
    gathered = dict(zip(VIEW_CONTROL_KEYS, (*controls, low, high), strict=True))
    return {
        "output": f"{output_id}.{output_property}",
        "outputs": {"id": output_id, "property": output_property},
        "inputs": [
            {"id": DROPDOWN_ID, "property": "value", "value": values.get(DROPDOWN_ID, [])},
            {"id": VIEW_CONTROLS_ID, "property": "data", "value": gathered},
        ],
        "changedPropIds": [
            f"{DROPDOWN_ID}.value" if changed == DROPDOWN_ID else f"{VIEW_CONTROLS_ID}.data"
        ],
        "state": [{"id": TREND_ID, "property": "value", "value": trend}],
    }


def control_inputs() -> list[Input]:
    return [Input(control, "value") for control in CONTROLS]


def view_from_gathered(manufacturers: Any, gathered: Any, trend: Any) -> ViewState:
    """The view the main callback's arguments describe; anything but a dict of controls
    (a crafted request) counts as no controls set."""
    values = gathered if isinstance(gathered, dict) else {}
    *controls, low, high = (values.get(key) for key in VIEW_CONTROL_KEYS)
    return view_from_controls(manufacturers, *controls, trend, year_bounds=(low, high))


def view_from_controls(
    manufacturers: Any,
    years: Any = None,
    origins: Any = None,
    cylinders: Any = None,
    x: Any = None,
    y: Any = None,
    units: Any = None,
    trend: Any = None,
    year_bounds: tuple[Any, Any] = (None, None),
) -> ViewState:
    """The view the controls describe; a bare string is a single manufacturer."""
    return from_controls(manufacturers, years, origins, cylinders, x, y, units, trend, year_bounds)


def vehicle_id_from(value: Any) -> int | None:
    """A vehicle id the browser reported, or None for anything that is not one."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    return None


def register_callbacks(dash_app: Dash) -> None:
    """Wire the dashboard's callbacks onto ``dash_app`` (not Dash's global registry)."""

    # The controls besides the manufacturers reach the server as one value.
    dash_app.clientside_callback(
        f"""function (...values) {{
            const keys = {json.dumps(VIEW_CONTROL_KEYS)};
            return Object.fromEntries(keys.map((key, i) => [key, values[i]]));
        }}""",
        Output(VIEW_CONTROLS_ID, "data"),
        *[Input(control, "value") for control in VIEW_CONTROLS],
        State(YEARS_ID, "min"),
        State(YEARS_ID, "max"),
    )

    @dash_app.callback(
        Output(*MAIN_OUTPUT),
        Input(DROPDOWN_ID, "value"),
        Input(VIEW_CONTROLS_ID, "data"),
        *[State(component, prop) for component, prop in MAIN_STATE],
    )
    def update_fuel_efficiency_graph(manufacturers: Any, gathered: Any, trend: Any) -> Figure:
        return view_figure(view_from_gathered(manufacturers, gathered, trend))

    # What the figure carries becomes the cards, the CSV link and the table's rows in the
    # browser (dashapp/assets/fueldash.js): no second request, no second query.
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "viewParts"),
        Output(SUMMARY_ID, "children"),
        Output(DOWNLOAD_ID, "href"),
        Input(GRAPH_ID, "figure"),
    )
    # Also runs when the grid first appears, so it lists the figure shown by then, not
    # the one shown when the button was pressed (the grid's script may take a while).
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "tableRows"),
        Output(TABLE_ID, "rowData"),
        Output(TABLE_ID, "columnDefs"),
        Input(GRAPH_ID, "figure"),
    )
    # The table's script (a third of the page's JavaScript) loads only when it is asked for.
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "showTable"),
        Output(TABLE_CONTAINER_ID, "children"),
        Output(TABLE_TOGGLE_ID, "hidden"),
        Input(TABLE_TOGGLE_ID, "n_clicks"),
        State(TABLE_SPEC_ID, "data"),
        prevent_initial_call=True,
    )

    @dash_app.callback(
        Output(URL_ID, "search"),
        *[Output(control, "value") for control in (*CONTROLS, TREND_ID)],
        Output(URL_NOTICE_ID, "children"),
        Input(URL_ID, "search"),
        *control_inputs(),
        Input(TREND_ID, "value"),
        State(YEARS_ID, "min"),
        State(YEARS_ID, "max"),
        State(DEFAULTS_ID, "data"),
    )
    def sync_url_and_controls(search: Any, *values: Any) -> tuple[Any, ...]:
        *controls, low, high, default_manufacturers = values
        keep = (no_update,) * (len(CONTROLS) + 1)
        if ctx.triggered_id not in (None, URL_ID):
            state = view_from_controls(*controls, year_bounds=(low, high))
            query = to_query(state)
            return (no_update if query == (search or "") else query), *keep, ""
        if ctx.triggered_id is None and not (isinstance(search, str) and search.strip("?")):
            return no_update, *keep, ""  # a plain page load: the layout's defaults stand
        state = parse_query(search if isinstance(search, str) else "")
        if not state.manufacturers:
            state = replace(state, manufacturers=tuple(default_manufacturers or ()))
        years = [
            state.year_min if state.year_min is not None else low,
            state.year_max if state.year_max is not None else high,
        ]
        notice = (
            "Some of the link's settings were not understood and use defaults instead: "
            + "; ".join(state.problems)
            + "."
            if state.problems
            else ""
        )
        return (
            no_update,
            list(state.manufacturers[:MAX_MANUFACTURERS]),
            years,
            list(state.origins),
            list(state.cylinders),
            state.x,
            state.y,
            state.units,
            [TREND_ON] if state.trend else [],
            notice,
        )

    # Trend lines are always in the figure; the toggle only shows or hides them, in the
    # browser, without a round trip.
    dash_app.clientside_callback(
        """function (trend, figure) {
            if (!figure || !figure.data) { return window.dash_clientside.no_update; }
            const visible = Array.isArray(trend) && trend.length > 0;
            const data = figure.data.map(
                (t) => (t.meta && t.meta.trend) ? Object.assign({}, t, {visible: visible}) : t
            );
            return Object.assign({}, figure, {data: data});
        }""",
        Output(GRAPH_ID, "figure", allow_duplicate=True),
        Input(TREND_ID, "value"),
        State(GRAPH_ID, "figure"),
        prevent_initial_call=True,
    )

    # Dash's clickData cannot index a typed-array customdata, so the browser reads the id
    # from the trace plotly.js decoded.
    dash_app.clientside_callback(
        f"""function (click) {{
            const point = click && click.points && click.points[0];
            const gd = document.querySelector('#{GRAPH_ID} .js-plotly-plot');
            const trace = point && gd && gd._fullData && gd._fullData[point.curveNumber];
            const ids = trace && trace.customdata;
            if (!ids || ids[point.pointNumber] === undefined) {{
                return window.dash_clientside.no_update;
            }}
            return Number(ids[point.pointNumber]);
        }}""",
        Output(SELECTED_ID, "data"),
        Input(GRAPH_ID, "clickData"),
        prevent_initial_call=True,
    )

    # A row picked in the table highlights its point (plotly dims the others) and opens
    # its details, all from data already in the browser.
    dash_app.clientside_callback(
        f"""function (rows, figure) {{
            const noUpdate = window.dash_clientside.no_update;
            const row = Array.isArray(rows) && rows[0];
            const gd = document.querySelector('#{GRAPH_ID} .js-plotly-plot');
            if (!row || !figure || !figure.data || !gd || !gd._fullData) {{
                return [noUpdate, noUpdate];
            }}
            const data = figure.data.map((trace, index) => {{
                const full = gd._fullData.find((t) => t.index === index);
                if (trace.mode !== 'markers' || !full || !full.customdata) {{ return trace; }}
                const at = Array.prototype.indexOf.call(full.customdata, row.id);
                return Object.assign({{}}, trace, {{selectedpoints: at < 0 ? [] : [at]}});
            }});
            return [Object.assign({{}}, figure, {{data: data}}), row.id];
        }}""",
        Output(GRAPH_ID, "figure", allow_duplicate=True),
        Output(SELECTED_ID, "data", allow_duplicate=True),
        Input(TABLE_ID, "selectedRows"),
        State(GRAPH_ID, "figure"),
        prevent_initial_call=True,
    )

    @dash_app.callback(Output(DETAILS_ID, "children"), Input(SELECTED_ID, "data"))
    def show_vehicle_details(selected: Any) -> Any:
        vehicle_id = vehicle_id_from(selected)
        if vehicle_id is None:
            return html.P("Click a point to see that vehicle's details.")
        try:
            conn = db.session.connection()
            details = vehicle_details(conn, vehicle_id)
            similar = similar_vehicles(conn, vehicle_id) if details else []
        except SQLAlchemyError:
            db.session.rollback()
            return html.P(UNAVAILABLE)
        if details is None:
            return html.P("That vehicle is no longer in the store.")
        return details_panel(details, similar)
