"""Dash callbacks, registered on one Dash app by ``register_callbacks``.

Callbacks stay thin: turn the control values into a ``ViewState`` and draw it
(``dashapp.view``). What needs no database runs in the browser, in
dashapp/assets/fueldash.js: the summary cards, table and trend lines come from the figure,
and the address bar follows the controls, so a change of control is one request to the
server. Only a link the page is opened with (or reached by back/forward) comes here to be
checked and turned into control values.
"""

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, html, no_update
from sqlalchemy.exc import SQLAlchemyError

from dashapp.figures import GRAPH_ID, Figure
from dashapp.layout import (
    CAP_ID,
    CAP_NOTICE_ID,
    CAPTION_ID,
    CHOICES_ID,
    CLASSES_ID,
    CLOSE_DETAILS_ID,
    COMPARE_ADD_ID,
    COMPARE_ID,
    COMPARE_REMOVE,
    COMPARE_SEARCH_ID,
    COMPARE_TRAY_ID,
    CONTROLS_PANEL_ID,
    CYLINDERS_ID,
    DATASET_FILTERS,
    DATASET_ID,
    DEFAULTS_ID,
    DETAILS_ID,
    DETAILS_PROMPT,
    DETAILS_VEHICLE_ID,
    DOWNLOAD_ID,
    DRIVES_ID,
    DROPDOWN_ID,
    FUEL_TYPES_ID,
    LINK_ID,
    LINKED_DATASET_ID,
    ORIGINS_ID,
    PAGE_ID,
    POWERTRAINS_ID,
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
    X_AXIS_ID,
    Y_AXIS_ID,
    YEARS_ID,
    details_panel,
)
from dashapp.state import MAX_MANUFACTURERS, from_controls, offered_manufacturers, parse_query
from dashapp.view import UNAVAILABLE, stored_default_axes, view_figure
from models.compare import search_vehicles
from models.datasets import DEFAULT_DATASET
from models.db import db
from models.explore import similar_vehicles, unplottable_manufacturers, vehicle_details

#: The ``window.dash_clientside`` namespace of dashapp/assets/fueldash.js.
CLIENTSIDE = "fueldash"
#: Each control's component, by the name ``dashapp.state.from_controls`` gives its value,
#: in the order fueldash.js's CONTROLS names them.
CONTROL_IDS = {
    "manufacturers": DROPDOWN_ID,
    "years": YEARS_ID,
    "origins": ORIGINS_ID,
    "cylinders": CYLINDERS_ID,
    "fuel_types": FUEL_TYPES_ID,
    "vehicle_classes": CLASSES_ID,
    "drives": DRIVES_ID,
    "powertrains": POWERTRAINS_ID,
    "x": X_AXIS_ID,
    "y": Y_AXIS_ID,
    "units": UNITS_ID,
    "trend": TREND_ID,
    "dataset": DATASET_ID,
}
#: What the main callback reads without being triggered by it: the trend toggle, and the
#: year slider's ends, to tell the full range from a narrowed one.
MAIN_STATE = {
    "trend": State(TREND_ID, "value"),
    # A new dataset arrives with the axes and filters datasetControls sets for it.
    "dataset": State(DATASET_ID, "value"),
    "first_year": State(YEARS_ID, "min"),
    "last_year": State(YEARS_ID, "max"),
}
#: The main callback's triggers: every control but the dataset and the trend toggle, which
#: only shows or hides trend lines in the browser.
MAIN_INPUTS = {
    name: Input(id_, "value") for name, id_ in CONTROL_IDS.items() if name not in MAIN_STATE
}
#: The controls in the order the clientside callbacks take their values.
CONTROL_INPUTS = [Input(id_, "value") for id_ in CONTROL_IDS.values() if id_ != DATASET_ID]
YEAR_ENDS = [State(YEARS_ID, "min"), State(YEARS_ID, "max")]


def vehicle_id_from(value: Any) -> int | None:
    """A vehicle id the browser reported, or None for anything that is not one."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    return None


def vehicle_in_link(search: str) -> int | None:
    """The ``vehicle=ID`` a link names, or None."""
    values = parse_qs(search.lstrip("?")).get("vehicle", [])
    text = values[-1] if values else ""
    # At most 19 digits (2**63 - 1): int() refuses longer strings of digits outright.
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        return None
    return vehicle_id_from(int(text))


def plottable_picks(picked: Any, dataset: Any) -> Any:
    """The manufacturers picked, without those offered disabled (nothing to plot) when more
    are picked than one chart plots: Dash 4's "Select all" picks disabled options too, and
    has no setting to skip them, so they would take places in the chart from makers with
    points. The page's cap notice names them (fueldash.js capNotice)."""
    if not (isinstance(picked, list) and len(picked) > MAX_MANUFACTURERS):
        return picked
    try:
        empty = unplottable_manufacturers(
            db.session.connection(), dataset if isinstance(dataset, str) else DEFAULT_DATASET
        )
    except SQLAlchemyError:
        db.session.rollback()  # the figure's own query then reports the outage
        return picked
    return [name for name in picked if not (isinstance(name, str) and name.lower() in empty)]


def _offered(choices: Any, dataset: str) -> list[str] | None:
    """The manufacturers the page offers for a dataset, from its choices store; None when
    the store does not say (the names are then kept as the link gives them)."""
    options = choices.get(dataset) if isinstance(choices, dict) else None
    makers = options.get("manufacturers") if isinstance(options, dict) else None
    if not isinstance(makers, list):
        return None
    return [m["value"] for m in makers if isinstance(m, dict) and isinstance(m.get("value"), str)]


def register_callbacks(dash_app: Dash) -> None:
    """Wire the dashboard's callbacks onto ``dash_app`` (not Dash's global registry)."""

    # Copies: Dash merges the inputs into the state dict it is given.
    @dash_app.callback(
        output=Output(GRAPH_ID, "figure"), inputs=dict(MAIN_INPUTS), state=dict(MAIN_STATE)
    )
    def update_fuel_efficiency_graph(**controls: Any) -> Figure:
        controls["manufacturers"] = plottable_picks(controls["manufacturers"], controls["dataset"])
        return view_figure(from_controls(**controls))

    # A dataset picked on the page offers its own manufacturers, filter values and axes,
    # and opens on its default axes with no filter; the main callback then runs once.
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "datasetControls"),
        Output(DROPDOWN_ID, "options"),
        Output(X_AXIS_ID, "value", allow_duplicate=True),
        Output(Y_AXIS_ID, "value", allow_duplicate=True),
        *[Output(id_, "options") for _, id_, *_ in DATASET_FILTERS],
        *[Output(id_, "value", allow_duplicate=True) for _, id_, *_ in DATASET_FILTERS],
        Output(LINKED_DATASET_ID, "data", allow_duplicate=True),
        Input(DATASET_ID, "value"),
        State(CHOICES_ID, "data"),
        State(LINKED_DATASET_ID, "data"),
        prevent_initial_call=True,
    )

    # The axis dropdowns name the fuel axes in the unit the switch picks.
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "axisOptions"),
        Output(X_AXIS_ID, "options"),
        Output(Y_AXIS_ID, "options"),
        Input(UNITS_ID, "value"),
        Input(DATASET_ID, "value"),
        State(CHOICES_ID, "data"),
        prevent_initial_call=True,
    )
    # The page's class says the unit, so the details show their figures in it (CSS).
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "unitsClass"),
        Output(PAGE_ID, "className"),
        Input(UNITS_ID, "value"),
    )
    # Say when more manufacturers are picked than one chart plots, and name those with
    # nothing to plot that the chart then leaves out (plottable_picks).
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "capNotice"),
        Output(CAP_NOTICE_ID, "children"),
        Input(DROPDOWN_ID, "value"),
        State(DROPDOWN_ID, "options"),
        State(CAP_ID, "data"),
    )
    # A phone opens with the controls folded, so the chart is on the first screen.
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "controlsOpen"),
        Output(CONTROLS_PANEL_ID, "open"),
        Input(URL_ID, "pathname"),
    )

    # What the figure carries becomes the cards, the CSV link and the table's rows in the
    # browser: no second request, no second query.
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "viewParts"),
        Output(SUMMARY_ID, "children"),
        Output(DOWNLOAD_ID, "href"),
        Output(DOWNLOAD_ID, "hidden"),
        Output(CAPTION_ID, "children"),
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
    # The button stays, and keeps the focus: it shows and hides the table.
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "showTable"),
        Output(TABLE_CONTAINER_ID, "children"),
        Output(TABLE_CONTAINER_ID, "hidden"),
        Output(TABLE_TOGGLE_ID, "children"),
        Output(TABLE_TOGGLE_ID, "aria-expanded"),
        Input(TABLE_TOGGLE_ID, "n_clicks"),
        State(TABLE_SPEC_ID, "data"),
        State(TABLE_CONTAINER_ID, "children"),
        prevent_initial_call=True,
    )
    # Trend lines are always in the figure; the toggle only shows or hides them.
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "showTrend"),
        Output(GRAPH_ID, "figure", allow_duplicate=True),
        Input(TREND_ID, "value"),
        State(GRAPH_ID, "figure"),
        prevent_initial_call=True,
    )
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "clickedVehicle"),
        Output(SELECTED_ID, "data"),
        Input(GRAPH_ID, "clickData"),
        State(GRAPH_ID, "figure"),
        prevent_initial_call=True,
    )
    # A row picked in the table is the selected vehicle, as a clicked point is.
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "pickedRow"),
        Output(SELECTED_ID, "data", allow_duplicate=True),
        Input(TABLE_ID, "selectedRows"),
        prevent_initial_call=True,
    )
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "closeDetails"),
        Output(SELECTED_ID, "data", allow_duplicate=True),
        Input(CLOSE_DETAILS_ID, "n_clicks"),
        prevent_initial_call=True,
    )
    # The selected vehicle's point is marked in whichever figure is drawn (a figure the
    # callback itself returns does not run it again).
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "markVehicle"),
        Output(GRAPH_ID, "figure", allow_duplicate=True),
        Input(SELECTED_ID, "data"),
        Input(GRAPH_ID, "figure"),
        prevent_initial_call=True,
    )

    # The address bar and the controls, kept in step. A change of control writes the
    # address in the browser. An address the controls do not show yet (the page's own
    # link, back or forward) goes through the link store to restore_link, which reads it
    # as state.py does for every link; the store is emptied with the answer, which tells
    # linkFromControls that these control values came from the address, not the visitor.
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "linkFromControls"),
        Output(URL_ID, "search"),
        *CONTROL_INPUTS,
        Input(LINK_ID, "data"),
        Input(SELECTED_ID, "data"),
        *YEAR_ENDS,
        State(DATASET_ID, "value"),
        State(CHOICES_ID, "data"),
        prevent_initial_call=True,
    )
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "controlsFromLink"),
        Output(LINK_ID, "data"),
        Input(URL_ID, "href"),
        *[State(i.component_id, "value") for i in CONTROL_INPUTS],
        *YEAR_ENDS,
        State(DATASET_ID, "value"),
        State(LINK_ID, "data"),
        State(DEFAULTS_ID, "data"),
        State(CHOICES_ID, "data"),
        State(SELECTED_ID, "data"),
    )

    @dash_app.callback(
        output={
            **{name: Output(id_, "value") for name, id_ in CONTROL_IDS.items()},
            "notice": Output(URL_NOTICE_ID, "children"),
            "link": Output(LINK_ID, "data", allow_duplicate=True),
            "linked_dataset": Output(LINKED_DATASET_ID, "data"),
            "selected": Output(SELECTED_ID, "data", allow_duplicate=True),
        },
        inputs={"search": Input(LINK_ID, "data")},
        state={
            "first_year": State(YEARS_ID, "min"),
            "last_year": State(YEARS_ID, "max"),
            "defaults": State(DEFAULTS_ID, "data"),
            "choices": State(CHOICES_ID, "data"),
        },
        prevent_initial_call=True,
    )
    def restore_link(
        search: Any, first_year: Any, last_year: Any, defaults: Any, choices: Any
    ) -> dict[str, Any]:
        query = search if isinstance(search, str) else ""
        state = parse_query(query, stored_default_axes())
        offered = _offered(choices, state.dataset)
        if offered is not None:
            names, renamed = offered_manufacturers(state.manufacturers, offered)
            state = replace(state, manufacturers=names, problems=state.problems + renamed)
        if not state.manufacturers and isinstance(defaults, list):
            state = replace(state, manufacturers=tuple(defaults))
        years = [
            state.year_min if state.year_min is not None else first_year,
            state.year_max if state.year_max is not None else last_year,
        ]
        return {
            "manufacturers": list(state.manufacturers),
            "dataset": state.dataset,
            "years": years,
            "origins": list(state.origins),
            "cylinders": list(state.cylinders),
            "fuel_types": list(state.fuel_types),
            "vehicle_classes": list(state.vehicle_classes),
            "drives": list(state.drives),
            "powertrains": list(state.powertrains),
            "x": state.x,
            "y": state.y,
            "units": state.units,
            "trend": [TREND_ON] if state.trend else [],
            "notice": (
                "Some of the link's settings were not understood and use defaults instead: "
                + "; ".join(state.problems)
                + "."
                if state.problems
                else ""
            ),
            "link": None,
            "linked_dataset": state.dataset,
            "selected": vehicle_in_link(query),
        }

    register_compare_callbacks(dash_app)

    # Not on page load: the layout starts with the prompt to click a point.
    @dash_app.callback(
        Output(DETAILS_ID, "children"),
        Output(DETAILS_ID, "className"),
        Input(SELECTED_ID, "data"),
        prevent_initial_call=True,
    )
    def show_vehicle_details(selected: Any) -> tuple[Any, str]:
        vehicle_id = vehicle_id_from(selected)
        if vehicle_id is None:
            return html.P(DETAILS_PROMPT), "details"
        try:
            conn = db.session.connection()
            details = vehicle_details(conn, vehicle_id)
            similar = similar_vehicles(conn, vehicle_id) if details else []
        except SQLAlchemyError:
            db.session.rollback()
            return html.P(UNAVAILABLE), "details"
        if details is None:
            return html.P("That vehicle is no longer in the store."), "details"
        # "open": on a phone, the details are a sheet over the bottom of the page.
        return details_panel(details, similar), "details open"


#: The least a search box must hold before it asks the server.
MIN_SEARCH = 2


def register_compare_callbacks(dash_app: Dash) -> None:
    """Picking vehicles for /compare: from the details panel (a clicked point or table
    row) or the model search box; the picks and the link are drawn in the browser."""

    @dash_app.callback(
        Output(COMPARE_SEARCH_ID, "options"),
        Input(COMPARE_SEARCH_ID, "search_value"),
        State(DATASET_ID, "value"),
        prevent_initial_call=True,
    )
    def find_models(text: Any, dataset: Any) -> Any:
        if not isinstance(text, str) or len(text.strip()) < MIN_SEARCH:
            return no_update
        try:
            matches = search_vehicles(
                db.session.connection(), text, dataset if isinstance(dataset, str) else None
            )
        except SQLAlchemyError:
            db.session.rollback()
            return no_update
        return [{"label": m.label, "value": m.id} for m in matches]

    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "addFromDetails"),
        Output(COMPARE_ID, "data", allow_duplicate=True),
        Input(COMPARE_ADD_ID, "n_clicks"),
        State(DETAILS_VEHICLE_ID, "data"),
        State(COMPARE_ID, "data"),
        State(CAP_ID, "data"),
        prevent_initial_call=True,
    )
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "addFromSearch"),
        Output(COMPARE_ID, "data", allow_duplicate=True),
        Output(COMPARE_SEARCH_ID, "value"),
        Input(COMPARE_SEARCH_ID, "value"),
        State(COMPARE_SEARCH_ID, "options"),
        State(COMPARE_ID, "data"),
        State(CAP_ID, "data"),
        prevent_initial_call=True,
    )
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "removeCompared"),
        Output(COMPARE_ID, "data", allow_duplicate=True),
        Input({"type": COMPARE_REMOVE, "index": ALL}, "n_clicks"),
        State(COMPARE_ID, "data"),
        prevent_initial_call=True,
    )
    dash_app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "compareTray"),
        Output(COMPARE_TRAY_ID, "children"),
        Input(COMPARE_ID, "data"),
        State(CAP_ID, "data"),
    )
