"""The dashboard's layout, built per page load so the manufacturer list is always current."""

from typing import Any

from dash import dcc, html
from flask import current_app, has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from dashapp.figures import (
    AXIS_TITLES,
    FIELD_WORDS,
    GRAPH_ID,
    Summary,
    axis_title,
    manufacturer_colour,
)
from dashapp.state import DEFAULT_X, DEFAULT_Y, MAX_MANUFACTURERS
from models import count_unplottable
from models.compare import L100KM_PER_MPG, MAX_VEHICLES, MIN_VEHICLES
from models.datasets import DEFAULT_DATASET
from models.db import db
from models.explore import (
    DETAIL_FIELDS,
    DatasetChoices,
    dataset_choices,
    is_electric,
    year_span,
)

DROPDOWN_ID = "manufacturer-dropdown"
DATASET_ID = "dataset-select"
FUEL_TYPES_ID = "fuel-type-filter"
CLASSES_ID = "vehicle-class-filter"
DRIVES_ID = "drive-filter"
POWERTRAINS_ID = "powertrain-filter"
#: What each dataset offers (``dataset_options``), for the browser to set the controls
#: from when the dataset changes.
CHOICES_ID = "dataset-choices"
STORE_NOTICE_ID = "store-notice"
URL_ID = "url"
URL_NOTICE_ID = "url-notice"
YEARS_ID = "year-range"
ORIGINS_ID = "origin-filter"
CYLINDERS_ID = "cylinders-filter"
X_AXIS_ID = "x-axis"
Y_AXIS_ID = "y-axis"
UNITS_ID = "mpg-units"
TREND_ID = "trend-toggle"
SUMMARY_ID = "summary-cards"
DETAILS_ID = "vehicle-details"
TABLE_ID = "vehicle-table"
TABLE_CONTAINER_ID = "vehicle-table-container"
TABLE_TOGGLE_ID = "show-vehicle-table"
TABLE_SPEC_ID = "vehicle-table-spec"
DOWNLOAD_ID = "csv-download"
DEFAULTS_ID = "default-manufacturers"
SELECTED_ID = "selected-vehicle"
CLOSE_DETAILS_ID = "close-details"
PAGE_ID = "dashboard-page"
CONTROLS_PANEL_ID = "controls-panel"
CAP_NOTICE_ID = "manufacturer-cap-notice"
#: The most manufacturers one chart plots and vehicles /compare takes, for the browser.
CAP_ID = "manufacturer-cap"
CAPTION_ID = "chart-caption"
#: The vehicles picked for /compare: [{"id", "label"}], kept for the browser session.
COMPARE_ID = "compare-picks"
COMPARE_SEARCH_ID = "compare-search"
COMPARE_TRAY_ID = "compare-tray"
COMPARE_ADD_ID = "compare-add"
#: The vehicle the details panel shows, as {"id", "label"}, for "Add to comparison".
DETAILS_VEHICLE_ID = "details-vehicle"
#: Each picked vehicle's remove button: {"type": COMPARE_REMOVE, "index": vehicle id}.
COMPARE_REMOVE = "compare-remove"
#: A link from the address bar that the controls are to be set from (dashapp/callbacks.py).
LINK_ID = "view-link"
#: The dataset a link just set, whose axes and filters the link gave (dashapp/callbacks.py).
LINKED_DATASET_ID = "linked-dataset"
#: The chart's focusable box, and the live region that names the vehicle its keys reach.
CHART_ID = "chart-keys"
CHART_POINT_ID = "chart-point"
CHART_KEYS_LABEL = (
    "Chart of the plotted vehicles. Left and right arrow keys step through them along the "
    "x axis, Home and End go to the first and last, Enter shows the vehicle's details, "
    "Escape clears the highlight."
)
#: Above this many plotted rows the table stays empty and points to the CSV download.
TABLE_LIMIT = 5000
TREND_ON = "on"

#: What the page offers when the store holds nothing it can read.
EMPTY_DATASET = DatasetChoices(
    DEFAULT_DATASET, DEFAULT_DATASET, 0, DEFAULT_X, DEFAULT_Y, (DEFAULT_X, DEFAULT_Y), {}, ()
)
#: The model years the store spans, first and last; None for an empty store.
YearSpan = tuple[int | None, int | None]
StoreView = tuple[dict[str, DatasetChoices], int, int, YearSpan]
#: The filters whose options come from the chosen dataset: (choices key, id, title, blank).
DATASET_FILTERS = (
    ("origins", ORIGINS_ID, "Origin", "Any origin"),
    ("cylinders", CYLINDERS_ID, "Cylinders", "Any count"),
    ("fuel_types", FUEL_TYPES_ID, "Fuel type", "Any fuel"),
    ("vehicle_classes", CLASSES_ID, "Vehicle class", "Any class"),
    ("drives", DRIVES_ID, "Drive", "Any drive"),
    ("powertrains", POWERTRAINS_ID, "Powertrain", "Any powertrain"),
)


def _read_store() -> StoreView | None:
    # Dash calls the layout function once when it is assigned, outside any request and
    # possibly before migrations ran, so a missing app context or table is expected here.
    if not has_app_context():
        return None
    try:
        conn = db.session.connection()
        datasets = dataset_choices(conn)
        hidden, total = count_unplottable(conn, DEFAULT_DATASET)
        years = year_span(conn)
    except SQLAlchemyError:
        db.session.rollback()
        return None
    return datasets, hidden, total, years


def default_manufacturer(makers: tuple[tuple[str, int], ...]) -> str | None:
    """The configured default if it has points, else the maker with the most points."""
    preferred = current_app.config.get("DASH_DEFAULT_MANUFACTURER", "")
    plottable = [(name, count) for name, count in makers if count]
    for name, _count in plottable:
        if name.lower() == str(preferred).lower():
            return name
    if plottable:
        return max(plottable, key=lambda maker: maker[1])[0]
    return None


def dataset_options(dataset: DatasetChoices) -> dict[str, Any]:
    """The options of every control that depends on the dataset, as the page sets them."""
    axes = [{"label": AXIS_TITLES[f], "value": f} for f in dataset.axes]
    x_words = FIELD_WORDS.get(dataset.default_x, dataset.default_x)
    y_words = FIELD_WORDS.get(dataset.default_y, dataset.default_y)
    return {
        "manufacturers": [
            {"label": f"{name} ({count})", "value": name, "search": name}
            if count
            else {
                "label": f"{name} (0: none has both {x_words} and {y_words})",
                "value": name,
                "search": name,
                "disabled": True,
            }
            for name, count in dataset.manufacturers
        ],
        "axes": axes,
        # The same axes titled in L/100 km, for the axis dropdowns under that unit.
        "axes_l100km": [{"label": axis_title(f, "l100km"), "value": f} for f in dataset.axes],
        "x": dataset.default_x,
        "y": dataset.default_y,
        **{
            key: [{"label": str(v), "value": v} for v in dataset.values.get(key, ())]
            for key, *_ in DATASET_FILTERS
        },
    }


def _store_notice(hidden: int, total: int) -> str:
    if total == 0:
        return "The vehicle store is empty: run `flask --app wsgi vehicles seed`."
    if hidden == 0:
        return f"All {total} vehicles have horsepower and mpg."
    return (
        f"{hidden} of {total} vehicles lack horsepower or mpg; they are kept in the store "
        "but not plotted."
    )


def aria(**attributes: str) -> dict[str, Any]:
    """ARIA attributes as keyword arguments for a Dash html component (``aria-*`` names)."""
    return {f"aria-{name}": value for name, value in attributes.items()}


def _labelled(label: str, control_id: str, control: Any, class_name: str = "control") -> html.Div:
    return html.Div(className=class_name, children=[html.Label(label, htmlFor=control_id), control])


def _axis_dropdown(control_id: str, options: dict[str, Any], axis: str) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=control_id,
        options=options["axes"],
        value=options[axis],
        clearable=False,
        searchable=False,
    )


def year_marks(low: int, high: int) -> dict[int, str]:
    """Labels for about ten years at most, on round years, so they never overlap."""
    every = next(step for step in (1, 2, 5, 10, 20, 50) if (high - low) / step <= 10)
    first = low + (-low) % every
    century = high - low >= 100  # '00 would not say which
    return {
        year: str(year) if century else f"'{year % 100:02d}"
        for year in range(first, high + 1, every)
    }


def _year_slider(years: YearSpan) -> dcc.RangeSlider:
    low = years[0] if years[0] is not None else 1970
    high = years[1] if years[1] is not None else low
    return dcc.RangeSlider(
        id=YEARS_ID,
        min=low,
        max=high,
        step=1,
        value=[low, high],
        marks=year_marks(low, high),
        tooltip={"placement": "bottom", "always_visible": False},
        allowCross=False,
        # One redraw and one history entry when the handle is let go, not one per step.
        updatemode="mouseup",
    )


def _multi(control_id: str, options: list[dict[str, Any]], placeholder: str) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=control_id, options=options, value=[], multi=True, placeholder=placeholder
    )


def _controls(
    datasets: dict[str, DatasetChoices],
    dataset: str,
    options: dict[str, Any],
    default: str | None,
    years: YearSpan,
) -> Any:
    return html.Div(
        className="controls",
        role="group",
        **aria(label="What to plot"),
        children=[
            _labelled(
                "Dataset",
                DATASET_ID,
                dcc.Dropdown(
                    id=DATASET_ID,
                    options=[
                        {"label": f"{d.name} ({d.vehicles:,})", "value": d.slug}
                        for d in datasets.values()
                    ],
                    value=dataset,
                    clearable=False,
                    searchable=False,
                ),
                "control span-2",
            ),
            _labelled(
                "Manufacturers",
                DROPDOWN_ID,
                dcc.Dropdown(
                    id=DROPDOWN_ID,
                    options=options["manufacturers"],
                    value=[default] if default else [],
                    multi=True,
                    placeholder=f"Pick up to {MAX_MANUFACTURERS} manufacturers",
                    clearable=True,
                    maxHeight=340,
                    labels={"select_all": f"Select all (plots the first {MAX_MANUFACTURERS})"},
                ),
                "control span-4",
            ),
            html.P(id=CAP_NOTICE_ID, className="notice warning control wide", role="status"),
            _labelled("Model years", YEARS_ID, _year_slider(years), "control span-2"),
            _labelled("X axis", X_AXIS_ID, _axis_dropdown(X_AXIS_ID, options, "x")),
            _labelled("Y axis", Y_AXIS_ID, _axis_dropdown(Y_AXIS_ID, options, "y")),
            *(
                _labelled(title, control_id, _multi(control_id, options[key], blank))
                for key, control_id, title, blank in DATASET_FILTERS
            ),
            # Last, and not a dropdown: Chromium's Tab from the last Dash 4 dropdown in the
            # <details> panel (its focused button has tabindex -1) wraps to the panel's first
            # control instead of leaving it, which kept the chart out of keyboard reach.
            html.Fieldset(
                className="control span-2",
                children=[
                    html.Legend("Fuel units"),
                    dcc.RadioItems(
                        id=UNITS_ID,
                        options=[
                            {"label": "mpg", "value": "mpg"},
                            {"label": "L/100 km", "value": "l100km"},
                        ],
                        value="mpg",
                        inline=True,
                    ),
                    dcc.Checklist(
                        id=TREND_ID,
                        options=[{"label": "Trend lines", "value": TREND_ON}],
                        value=[],
                        inline=True,
                    ),
                ],
            ),
        ],
    )


def serve_layout() -> html.Div:
    """The page: controls, summary cards, the scatter, vehicle details and the table."""
    store = _read_store()
    datasets: dict[str, DatasetChoices] = {}
    if store is None:
        notice = "The vehicle store is unavailable right now; reload the page in a moment."
        years: YearSpan = (None, None)
    else:
        datasets, hidden, total, years = store
        notice = _store_notice(hidden, total)
    # The page opens on the default dataset, or on whichever the store holds.
    dataset = DEFAULT_DATASET if DEFAULT_DATASET in datasets else next(iter(datasets), None)
    shown = datasets[dataset] if dataset else EMPTY_DATASET
    default = default_manufacturer(shown.manufacturers)
    options = {slug: dataset_options(d) for slug, d in datasets.items()}
    return html.Div(
        id=PAGE_ID,
        className="page",
        children=[
            dcc.Location(id=URL_ID, refresh="callback-nav"),
            dcc.Store(id=DEFAULTS_ID, data=[default] if default else []),
            dcc.Store(id=SELECTED_ID),
            dcc.Store(id=LINK_ID),
            dcc.Store(id=LINKED_DATASET_ID),
            dcc.Store(id=CHOICES_ID, data=options),
            dcc.Store(
                id=CAP_ID, data={"manufacturers": MAX_MANUFACTURERS, "compare": MAX_VEHICLES}
            ),
            site_header(),
            html.Main(
                className="container-fluid dashboard",
                children=[
                    html.H1("Fuel efficiency explorer", className="page-title"),
                    html.P(id=URL_NOTICE_ID, className="notice warning", role="status"),
                    # Open on a desktop; a phone closes it (fueldash.js) so the chart shows.
                    html.Details(
                        id=CONTROLS_PANEL_ID,
                        className="controls-panel",
                        open=True,
                        children=[
                            html.Summary("What to plot: manufacturers, years, filters, axes"),
                            _controls(datasets, shown.slug, dataset_options(shown), default, years),
                        ],
                    ),
                    html.Div(
                        className="view",
                        children=[
                            html.Div(
                                className="chart-column",
                                children=[
                                    # The chart's title as text that wraps, for a phone.
                                    html.P(id=CAPTION_ID, className="chart-caption"),
                                    # The graph fills this box, whose height CSS sets;
                                    # the box takes the focus and the chart's keys
                                    # (dashapp/assets/chartkeys.js).
                                    html.Div(
                                        _graph(),
                                        id=CHART_ID,
                                        className="chart",
                                        tabIndex="0",
                                        role="application",
                                        **aria(label=CHART_KEYS_LABEL),
                                    ),
                                    html.P(
                                        id=CHART_POINT_ID,
                                        className="visually-hidden",
                                        **aria(live="polite"),
                                    ),
                                ],
                            ),
                            html.Aside(
                                id=DETAILS_ID,
                                className="details",
                                **aria(live="polite", label="Vehicle details"),
                                children=html.P(DETAILS_PROMPT),
                            ),
                        ],
                    ),
                    html.Section(id=SUMMARY_ID, className="cards", **aria(live="polite")),
                    html.P(notice, id=STORE_NOTICE_ID, className="notice"),
                    _compare_section(),
                    html.Div(
                        className="actions",
                        children=[
                            html.A(
                                "Download these vehicles as CSV",
                                id=DOWNLOAD_ID,
                                href="",
                                hidden=True,
                                className="btn btn-outline-secondary",
                                download="fueldash-vehicles.csv",
                            ),
                        ],
                    ),
                    html.H2("Plotted vehicles"),
                    # The grid is created in the browser when asked for
                    # (dashapp/assets/fueldash.js), so its script is not part of the
                    # first page load.
                    dcc.Store(id=TABLE_SPEC_ID, data=table_spec()),
                    html.Button(
                        TABLE_SHOW,
                        id=TABLE_TOGGLE_ID,
                        className="btn btn-outline-secondary",
                        n_clicks=0,
                        **aria(expanded="false", controls=TABLE_CONTAINER_ID),
                    ),
                    html.Div(id=TABLE_CONTAINER_ID, hidden=True),
                ],
            ),
        ],
    )


DETAILS_PROMPT = "Click a point, or a row of the table, to see that vehicle's details."
TABLE_SHOW = "Show the plotted vehicles as a table"
TABLE_HIDE = "Hide the table"
#: The modebar keeps the PNG download, zoom, pan and reset; the rest (and the share
#: button that offers an upload to Plotly Cloud) only crowds a phone and the tab order.
MODEBAR_REMOVE = [
    "select2d",
    "lasso2d",
    "zoomIn2d",
    "zoomOut2d",
    "autoScale2d",
    "toggleSpikelines",
    "hoverClosestCartesian",
    "hoverCompareCartesian",
    "sendDataToCloud",
    "editInChartStudio",
]


def _compare_section() -> html.Section:
    return html.Section(
        className="compare",
        **aria(label="Compare vehicles"),
        children=[
            html.H2("Compare vehicles side by side"),
            html.P(
                f"Pick {MIN_VEHICLES} to {MAX_VEHICLES} vehicles: click a point or a table row "
                "and press “Add to comparison”, or find a model here.",
                className="notice",
            ),
            dcc.Store(id=COMPARE_ID, storage_type="session", data=[]),
            html.Div(
                className="control compare-search",
                children=[
                    html.Label("Find a model", htmlFor=COMPARE_SEARCH_ID),
                    dcc.Dropdown(
                        id=COMPARE_SEARCH_ID,
                        options=[],
                        placeholder="Type a model, e.g. civic",
                        searchable=True,
                        clearable=True,
                        maxHeight=340,
                    ),
                ],
            ),
            html.Div(id=COMPARE_TRAY_ID, className="compare-tray", **aria(live="polite")),
        ],
    )


def _graph() -> dcc.Graph:
    return dcc.Graph(
        id=GRAPH_ID,
        config={
            "displaylogo": False,
            "responsive": True,
            "showSendToCloud": False,
            "showEditInChartStudio": False,
            "modeBarButtonsToRemove": MODEBAR_REMOVE,
            "toImageButtonOptions": {"format": "png", "filename": "fueldash", "scale": 2},
        },
    )


def site_header() -> html.Header:
    """The site's header and navigation: server/templates/header.html's markup, with its
    Bootstrap classes, so the dashboard looks like every other page."""
    return html.Header(
        className="navbar navbar-expand border-bottom bg-body-tertiary fd-header",
        children=html.Nav(
            className="container-fluid flex-wrap column-gap-3",
            **aria(label="Site"),
            children=[
                html.A(
                    [
                        html.Img(src="/static/favicon.svg", alt="", width="24", height="24"),
                        "fueldash",
                    ],
                    href="/",
                    className="navbar-brand fw-bold d-flex align-items-center gap-2",
                ),
                html.Div(
                    className="navbar-nav ms-auto order-md-last fd-account",
                    children=_account_links(),
                ),
                html.Ul(
                    className="navbar-nav flex-wrap column-gap-1 me-md-auto fd-links",
                    children=[
                        html.Li(
                            className="nav-item",
                            children=html.A(
                                text,
                                href=href,
                                className="nav-link active" if href == URL_PATH else "nav-link",
                                **(aria(current="page") if href == URL_PATH else {}),
                            ),
                        )
                        for text, href in NAV_LINKS
                    ],
                ),
            ],
        ),
    )


URL_PATH = "/dash/"
NAV_LINKS = (
    ("Dashboard", "/dash/"),
    ("Compare", "/compare"),
    ("API", "/api/v1/docs"),
    ("Admin", "/admin/"),
)


def _account_links() -> list[Any]:
    """Sign in, or the signed-in user's name and sign out (a confirmation page)."""
    user = current_user if has_request_context() else None
    if user is not None and user.is_authenticated:
        return [
            html.Span(
                str(getattr(user, "username", "")),
                className="navbar-text me-2 text-truncate fd-user",
            ),
            html.A("Sign out", href="/logout", className="btn btn-sm btn-outline-secondary"),
        ]
    return [html.A("Sign in", href="/login?next=/dash/", className="nav-link")]


def table_spec() -> dict[str, Any]:
    """The table's AgGrid properties, but for its rows and columns, which follow the figure."""
    return {
        "id": TABLE_ID,
        "defaultColDef": {"sortable": True, "resizable": True, "filter": True},
        # A click on a row selects it (no checkbox column to aim for).
        "dashGridOptions": {
            "rowSelection": {
                "mode": "singleRow",
                "checkboxes": False,
                "enableClickSelection": True,
            },
            "animateRows": False,
        },
        "getRowId": "'' + params.data.id",
        "className": "ag-theme-quartz fueldash-grid",
        "style": {"height": "24rem"},
    }


def table_columns(x_field: str, y_field: str, units: str) -> list[dict[str, Any]]:
    """Column definitions for the plotted-vehicles table, titled like the chart's axes."""
    columns: list[dict[str, Any]] = [
        {
            "field": "manufacturer",
            "headerName": "Manufacturer",
            "minWidth": 130,
            # The manufacturer's colour in the chart (fueldash.js puts it in each row).
            "cellStyle": {"function": "({borderLeft: '6px solid ' + params.data.colour})"},
        },
        {"field": "vehicle", "headerName": "Vehicle (year)", "flex": 2, "minWidth": 190},
        {
            "field": "x",
            "headerName": axis_title(x_field, units),
            "type": "numericColumn",
            "minWidth": 110,
        },
    ]
    if y_field != x_field:
        columns.append(
            {
                "field": "y",
                "headerName": axis_title(y_field, units),
                "type": "numericColumn",
                "minWidth": 110,
            }
        )
    return columns


def _fuel(mpg: float, units: str, electric: bool = False) -> str:
    if units == "l100km":
        return f"{L100KM_PER_MPG / mpg:.1f} L/100 km"
    return f"{mpg:.1f} {'MPGe' if electric else 'mpg'}"


def card_texts(summary: Summary, units: str) -> list[tuple[str, str, str]]:
    """(title, value, detail) of each card above the chart for one selection's summary."""
    cards = [("Vehicles plotted", str(summary.vehicles), "")]
    if summary.median_mpg is not None:
        cards.append(("Median fuel efficiency", _fuel(summary.median_mpg, units), ""))
    if summary.best is not None and summary.worst is not None:
        for title, end in (("Best", summary.best), ("Worst", summary.worst)):
            vehicle = f"{end.manufacturer} {end.label}"
            cards.append((title, _fuel(end.mpg, units, end.electric), vehicle))
    cards.append(("Hidden", str(summary.hidden), "missing a value on an axis"))
    return cards


def _format(value: Any) -> str:
    """A stored value as text: whole numbers without ".0", others to three figures."""
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:.3g}"
    return str(value)


#: Each detail's unit; the fuel figures' is MPGe for electric vehicles.
DETAIL_UNITS = {
    "horsepower": "hp",
    "city_mpg": "mpg",
    "highway_mpg": "mpg",
    "combined_mpg": "mpg",
    "displacement": "L",
    "weight": "lb",
    "acceleration": "s (0-60 mph)",
    "co2_g_per_mile": "g/mile",
    "annual_fuel_cost_usd": "USD a year",
    "electric_range_miles": "miles",
}
#: What the details panel calls each field.
DETAIL_LABELS = {
    "id": "fueldash id",
    "dataset": "Dataset",
    "manufacturer": "Manufacturer",
    "model": "Model",
    "year": "Model year",
    "vehicle_class": "Vehicle class",
    "powertrain": "Powertrain",
    "fuel_type": "Fuel type",
    "horsepower": "Horsepower",
    "city_mpg": "City fuel economy",
    "highway_mpg": "Highway fuel economy",
    "combined_mpg": "Combined fuel economy",
    "cylinders": "Cylinders",
    "displacement": "Displacement",
    "weight": "Weight",
    "acceleration": "Acceleration",
    "drive": "Drive",
    "transmission": "Transmission",
    "origin": "Origin",
    "co2_g_per_mile": "CO₂",
    "annual_fuel_cost_usd": "Annual fuel cost",
    "electric_range_miles": "Electric range",
    "source_id": "Source id",
}
#: Short words a lower-case model name writes in capitals ("chevelle malibu (sw)").
MODEL_ABBREVIATIONS = frozenset({"sw", "gl", "dl", "gt", "gs", "lx", "ii", "iii", "se", "le"})


def model_name(model: str) -> str:
    """A model name as the page shows it: title-cased when stored all in lower case
    ("corolla 1200" becomes "Corolla 1200"), otherwise exactly as stored ("RX-7")."""
    if model != model.lower():
        return model

    def word(text: str) -> str:
        bare = text.strip("()")
        if bare in MODEL_ABBREVIATIONS:
            return text.upper()
        return text[:1].upper() + text[1:] if not text.startswith("(") else "(" + word(text[1:])

    return " ".join(word(w) for w in model.split(" "))


def vehicle_name(vehicle: dict[str, Any]) -> str:
    """ "1972 Volvo 411 (SW)": year first, so a model's own brackets are never doubled."""
    year = f"{vehicle['year']} " if vehicle.get("year") is not None else ""
    return f"{year}{vehicle['manufacturer']} {model_name(str(vehicle['model']))}"


def _fuel_spans(mpg: float, unit: str) -> list[html.Span]:
    """A fuel figure in both units; the page shows the one the units switch picks (CSS)."""
    return [
        html.Span(f"{_format(float(mpg))} {unit}", className="u-mpg"),
        html.Span(f"{L100KM_PER_MPG / mpg:.1f} L/100 km", className="u-l100km"),
    ]


def detail_text(details: dict[str, Any], name: str) -> str:
    """One field of a vehicle as the details panel shows it, with its unit."""
    value = details[name]
    if value is None:
        return "unknown"
    unit = DETAIL_UNITS.get(name)
    if unit == "mpg" and is_electric(details):
        unit = "MPGe"
    text = f"{_format(value)} {unit}" if unit else _format(value)
    if name == "combined_mpg" and details.get("combined_mpg_derived"):
        text += " (derived from city and highway)"
    return text


def detail_value(details: dict[str, Any], name: str) -> Any:
    """One field's value for the panel: fuel figures in mpg and L/100 km, the units
    switch showing one of them."""
    value = details[name]
    fuel = name in ("city_mpg", "highway_mpg", "combined_mpg") and not is_electric(details)
    if fuel and isinstance(value, int | float) and value > 0:
        derived = name == "combined_mpg" and details.get("combined_mpg_derived")
        return [*_fuel_spans(value, "mpg"), " (derived from city and highway)" if derived else ""]
    if name == "model" and isinstance(value, str):
        return model_name(value)
    return detail_text(details, name)


def _similar_item(vehicle: dict[str, Any]) -> html.Li:
    mpg = vehicle.get("combined_mpg")
    fuel: list[Any] = _fuel_spans(mpg, "mpg") if isinstance(mpg, int | float) and mpg > 0 else []
    return html.Li(
        [
            html.Span(vehicle_name(vehicle), className="similar-name"),
            ": ",
            *fuel,
            f", {_format(vehicle.get('horsepower'))} hp, {_format(vehicle.get('weight'))} lb",
        ]
    )


def swatch(manufacturer: str) -> html.Span:
    """A dot in the manufacturer's chart colour."""
    return html.Span(
        className="swatch",
        style={"backgroundColor": manufacturer_colour(manufacturer)},
        **aria(hidden="true"),
    )


def details_panel(details: dict[str, Any], similar: list[dict[str, Any]]) -> list[Any]:
    """A vehicle's every field with its unit, its API link and the similar vehicles."""
    api_url = f"/api/v1/vehicles/{details['id']}"
    return [
        html.Div(
            className="details-head",
            children=[
                html.H2([swatch(str(details["manufacturer"])), vehicle_name(details)]),
                html.Button(
                    "Close",
                    id=CLOSE_DETAILS_ID,
                    className="btn btn-sm btn-outline-secondary close-details",
                    **aria(label="Close the vehicle details"),
                ),
            ],
        ),
        dcc.Store(
            id=DETAILS_VEHICLE_ID, data={"id": details["id"], "label": vehicle_name(details)}
        ),
        html.Button(
            "Add to comparison", id=COMPARE_ADD_ID, className="btn btn-sm btn-outline-primary my-2"
        ),
        html.Dl(
            className="fields",
            children=[
                part
                for name in DETAIL_FIELDS
                if name != "combined_mpg_derived"  # said beside the combined figure
                for part in (
                    html.Dt(DETAIL_LABELS.get(name, name.replace("_", " ").capitalize())),
                    html.Dd(detail_value(details, name)),
                )
            ],
        ),
        html.P(["API: ", html.A(api_url, href=api_url, id="vehicle-api-link")]),
        html.H3("Similar vehicles (closest in horsepower and weight, best mpg first)"),
        html.Ol(
            id="similar-vehicles",
            children=[_similar_item(v) for v in similar]
            or [html.Li("No comparable vehicles: this one lacks horsepower or weight.")],
        ),
    ]
