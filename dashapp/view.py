"""What the dashboard shows for one view: the figure, drawn from a query, cached per version
of the (dataset, manufacturer) data it shows.

The main callback and the API's figure endpoint both call this module, so both surfaces
draw the same chart from one code path.
"""

import secrets
from typing import Any

from flask import current_app
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from dashapp.budget import point_budget
from dashapp.cache import cached_by_versions
from dashapp.figures import Figure, empty_figure, selection_figure, summarize
from dashapp.layout import TABLE_LIMIT, card_texts, table_columns
from dashapp.state import ViewState, export_url, from_controls
from models.datasets import default_axes
from models.db import db
from models.explore import Selection, plot_series
from models.summary import versions

#: The figure cache's namespace. Bump its version whenever the figure's shape changes, so
#: that a shared Redis cache never serves a figure drawn by older code.
FIGURE_CACHE = "dash-figure-v2"
UNAVAILABLE = "The vehicle store is unavailable right now; try again shortly."


def selection_for(conn: Connection, state: ViewState, budget: int | None) -> Selection | str:
    """The plotted series for a view, or why there are none to show."""
    if not state.manufacturers:
        if state.problems:
            return "That selection cannot be plotted: " + "; ".join(state.problems) + "."
        return "Pick a manufacturer to plot its vehicles."
    return plot_series(conn, state.vehicle_filter(), state.x, state.y, budget)


def draw_view(state: ViewState, selection: Selection | str) -> Figure:
    """The figure for a view, carrying in ``layout.meta.view`` what the page draws beside it.

    ``view`` holds the summary cards as (title, value, detail) texts, the CSV link, the
    table's columns, whether the table may list every plotted row, and a token that is
    new with every drawing (a cached figure keeps its own), so the browser redraws the
    cards and the table only for a figure it has not drawn them from yet.
    """
    if isinstance(selection, str):
        figure, cards, plotted = empty_figure(selection), [], 0
    else:
        figure = selection_figure(selection, state.units, state.trend)
        cards, plotted = card_texts(summarize(selection), state.units), selection.plotted
    figure["layout"]["meta"]["view"] = {
        "token": secrets.token_hex(8),
        "cards": cards,
        "csv": export_url(state),
        "columns": table_columns(state.x, state.y, state.units),
        "rows": plotted <= TABLE_LIMIT,
    }
    return figure


def view_figure(state: ViewState) -> Figure:
    """The dashboard's figure for a view, from the cache when the store has not changed."""
    budget = point_budget(current_app.config)
    try:
        conn = db.session.connection()
        # Cached per (view, versions of its makers' data): a write to those vehicles or a
        # rename of their maker makes a new key, a write to others leaves it be, so a
        # stale figure is never served (dashapp/cache.py; Redis with REDIS_URL).
        return cached_by_versions(
            FIGURE_CACHE,
            (state, budget),
            lambda: versions(conn, state.manufacturers, (state.dataset,)),
            lambda: draw_view(state, selection_for(conn, state, budget)),
        )
    except SQLAlchemyError:
        db.session.rollback()
        return draw_view(state, UNAVAILABLE)


def stored_default_axes() -> dict[str, tuple[str, str]]:
    """Each dataset's default axes as stored; none (the shipped ones apply) when the store
    cannot be read, which the figure then reports."""
    try:
        return default_axes(db.session.connection())
    except SQLAlchemyError:
        db.session.rollback()
        return {}


def figure_for(value: Any, dataset: str | None = None) -> Figure:
    """The figure the dashboard shows for a dropdown value alone, whatever the client sent,
    without what it carries for the page around the chart.

    The API's figure endpoint calls this, so both surfaces draw the same chart.
    """
    state = from_controls(value, dataset=dataset, known=stored_default_axes())
    figure = view_figure(state)
    meta = {key: item for key, item in figure["layout"]["meta"].items() if key != "view"}
    return {**figure, "layout": {**figure["layout"], "meta": meta}}
