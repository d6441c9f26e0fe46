"""The dashboard's layout, built per page load so the manufacturer list is always current."""

from typing import Any

from dash import dcc, html
from flask import current_app, has_app_context
from sqlalchemy.exc import SQLAlchemyError

from dashapp.figures import (
    AXIS_TITLES,
    GRAPH_ID,
    L100KM_PER_MPG,
    Summary,
    axis_title,
)
from dashapp.state import DEFAULT_X, DEFAULT_Y
from models import count_unplottable
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
#: A link from the address bar that the controls are to be set from (dashapp/callbacks.py).
LINK_ID = "view-link"
#: The dataset a link just set, whose axes and filters the link gave (dashapp/callbacks.py).
LINKED_DATASET_ID = "linked-dataset"
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
    return {
        "manufacturers": [
            {"label": f"{name} ({count})", "value": name, "search": name}
            for name, count in dataset.manufacturers
        ],
        "axes": axes,
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


def _year_slider(years: YearSpan) -> dcc.RangeSlider:
    low = years[0] if years[0] is not None else 1970
    high = years[1] if years[1] is not None else low
    return dcc.RangeSlider(
        id=YEARS_ID,
        min=low,
        max=high,
        step=1,
        value=[low, high],
        marks={year: f"'{year % 100:02d}" for year in range(low, high + 1, 2)},
        tooltip={"placement": "bottom", "always_visible": False},
        allowCross=False,
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
                "control wide",
            ),
            _labelled(
                "Manufacturers",
                DROPDOWN_ID,
                dcc.Dropdown(
                    id=DROPDOWN_ID,
                    options=options["manufacturers"],
                    value=[default] if default else [],
                    multi=True,
                    placeholder="Pick one or more manufacturers",
                    clearable=True,
                ),
                "control wide",
            ),
            _labelled("Model years", YEARS_ID, _year_slider(years), "control wide"),
            *(
                _labelled(title, control_id, _multi(control_id, options[key], blank))
                for key, control_id, title, blank in DATASET_FILTERS
            ),
            _labelled("X axis", X_AXIS_ID, _axis_dropdown(X_AXIS_ID, options, "x")),
            _labelled("Y axis", Y_AXIS_ID, _axis_dropdown(Y_AXIS_ID, options, "y")),
            html.Fieldset(
                className="control",
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
        className="page",
        children=[
            dcc.Location(id=URL_ID, refresh="callback-nav"),
            dcc.Store(id=DEFAULTS_ID, data=[default] if default else []),
            dcc.Store(id=SELECTED_ID),
            dcc.Store(id=LINK_ID),
            dcc.Store(id=LINKED_DATASET_ID),
            html.Header(
                className="page-header",
                children=[
                    html.H1("Fuel efficiency explorer"),
                    html.A("fueldash home", href="/", className="home-link"),
                ],
            ),
            html.P(id=URL_NOTICE_ID, className="notice warning", role="status"),
            dcc.Store(id=CHOICES_ID, data=options),
            _controls(datasets, shown.slug, dataset_options(shown), default, years),
            html.P(notice, id=STORE_NOTICE_ID, className="notice"),
            html.Section(id=SUMMARY_ID, className="cards", **aria(live="polite")),
            dcc.Loading(
                type="circle",
                delay_show=150,
                children=dcc.Graph(
                    id=GRAPH_ID,
                    config={
                        "displaylogo": False,
                        "responsive": True,
                        "toImageButtonOptions": {
                            "format": "png",
                            "filename": "fueldash",
                            "scale": 2,
                        },
                    },
                    style={"height": "70vh", "minHeight": "360px"},
                ),
            ),
            html.Div(
                className="actions",
                children=[
                    html.A(
                        "Download these vehicles as CSV",
                        id=DOWNLOAD_ID,
                        href="",
                        className="button",
                        download="fueldash-vehicles.csv",
                    ),
                ],
            ),
            html.Section(
                id=DETAILS_ID,
                className="details",
                **aria(live="polite"),
                children=html.P("Click a point to see that vehicle's details."),
            ),
            html.H2("Plotted vehicles"),
            # The grid is created in the browser when asked for (dashapp/assets/fueldash.js),
            # so its script is not part of the first page load.
            dcc.Store(id=TABLE_SPEC_ID, data=table_spec()),
            html.Button(
                "Show the plotted vehicles as a table",
                id=TABLE_TOGGLE_ID,
                className="button",
                n_clicks=0,
            ),
            html.Div(id=TABLE_CONTAINER_ID),
        ],
    )


def table_spec() -> dict[str, Any]:
    """The table's AgGrid properties, but for its rows and columns, which follow the figure."""
    return {
        "id": TABLE_ID,
        "defaultColDef": {"sortable": True, "resizable": True, "filter": True},
        "dashGridOptions": {"rowSelection": {"mode": "singleRow"}, "animateRows": False},
        "getRowId": "params.data.id",
        "className": "ag-theme-quartz fueldash-grid",
        "style": {"height": "24rem"},
    }


def table_columns(x_field: str, y_field: str, units: str) -> list[dict[str, Any]]:
    """Column definitions for the plotted-vehicles table, titled like the chart's axes."""
    columns: list[dict[str, Any]] = [
        {"field": "manufacturer", "headerName": "Manufacturer"},
        {"field": "vehicle", "headerName": "Vehicle (year)", "flex": 2},
        {"field": "x", "headerName": axis_title(x_field, units), "type": "numericColumn"},
    ]
    if y_field != x_field:
        columns.append(
            {"field": "y", "headerName": axis_title(y_field, units), "type": "numericColumn"}
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
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return f"{value:g}"
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


def details_panel(details: dict[str, Any], similar: list[dict[str, Any]]) -> list[Any]:
    """A vehicle's every field, its API link and the list of similar vehicles."""
    api_url = f"/api/v1/vehicles/{details['id']}"
    return [
        html.H2(f"{details['manufacturer']} {details['model']}"),
        html.Dl(
            className="fields",
            children=[
                part
                for name in DETAIL_FIELDS
                if name != "combined_mpg_derived"  # said beside the combined figure
                for part in (html.Dt(name), html.Dd(detail_text(details, name)))
            ],
        ),
        html.P(["API: ", html.A(api_url, href=api_url, id="vehicle-api-link")]),
        html.H3("Similar vehicles (closest in horsepower and weight, best mpg first)"),
        html.Ol(
            id="similar-vehicles",
            children=[
                html.Li(
                    f"{v['manufacturer']} {v['model']} ({_format(v['year'])}): "
                    f"{_format(v['combined_mpg'])} mpg, {_format(v['horsepower'])} hp, "
                    f"{_format(v['weight'])} lb"
                )
                for v in similar
            ]
            or [html.Li("No comparable vehicles: this one lacks horsepower or weight.")],
        ),
    ]
