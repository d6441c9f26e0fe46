"""The dashboard's layout, built per page load so the manufacturer list is always current."""

from dash import dcc, html
from flask import current_app, has_app_context
from sqlalchemy.exc import SQLAlchemyError

from dashapp.figures import GRAPH_ID
from models import ManufacturerSummary, count_unplottable, manufacturer_summaries
from server.extensions import db

DROPDOWN_ID = "manufacturer-dropdown"
STORE_NOTICE_ID = "store-notice"


def _read_store() -> tuple[list[ManufacturerSummary], int, int] | None:
    # Dash calls the layout function once when it is assigned, outside any request and
    # possibly before migrations ran, so a missing app context or table is expected here.
    if not has_app_context():
        return None
    try:
        conn = db.session.connection()
        summaries = manufacturer_summaries(conn)
        hidden, total = count_unplottable(conn)
    except SQLAlchemyError:
        db.session.rollback()
        return None
    return summaries, hidden, total


def default_manufacturer(summaries: list[ManufacturerSummary]) -> str | None:
    """The configured default if it has points, else the maker with the most points."""
    preferred = current_app.config.get("DASH_DEFAULT_MANUFACTURER", "")
    plottable = [s for s in summaries if s.plottable]
    for summary in plottable:
        if summary.name.lower() == str(preferred).lower():
            return summary.name
    if plottable:
        return max(plottable, key=lambda s: s.plottable).name
    return None


def _store_notice(hidden: int, total: int) -> str:
    if total == 0:
        return "The vehicle store is empty: run `flask --app wsgi vehicles seed`."
    if hidden == 0:
        return f"All {total} vehicles have horsepower and mpg."
    return (
        f"{hidden} of {total} vehicles lack horsepower or mpg; they are kept in the store "
        "but not plotted."
    )


def serve_layout() -> html.Div:
    """The page: a manufacturer dropdown above the mpg-vs-horsepower scatter."""
    store = _read_store()
    if store is None:
        summaries: list[ManufacturerSummary] = []
        notice = "The vehicle store is unavailable right now; reload the page in a moment."
        default = None
    else:
        summaries, hidden, total = store
        notice = _store_notice(hidden, total)
        default = default_manufacturer(summaries)
    options = [
        {"label": f"{s.name} ({s.plottable})", "value": s.name, "search": s.name} for s in summaries
    ]
    return html.Div(
        className="page",
        children=[
            html.Header(
                className="page-header",
                children=[
                    html.H1("Fuel efficiency vs horsepower"),
                    html.A("fueldash home", href="/", className="home-link"),
                ],
            ),
            html.Div(
                className="controls",
                children=[
                    html.Label("Manufacturer", htmlFor=DROPDOWN_ID),
                    dcc.Dropdown(
                        id=DROPDOWN_ID,
                        options=options,
                        value=default,
                        placeholder="Pick a manufacturer",
                        clearable=True,
                    ),
                ],
            ),
            html.P(notice, id=STORE_NOTICE_ID, className="notice"),
            dcc.Loading(
                type="circle",
                delay_show=150,
                children=dcc.Graph(
                    id=GRAPH_ID,
                    config={"displaylogo": False, "responsive": True},
                    style={"height": "70vh", "minHeight": "360px"},
                ),
            ),
        ],
    )
