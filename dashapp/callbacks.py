"""Dash callbacks, registered on one Dash app by ``register_callbacks``.

Callbacks stay thin: validate the input, run a typed query from ``models``, hand the rows
to a pure builder in ``dashapp.figures``.
"""

from typing import Any

from dash import Dash, Input, Output
from flask import current_app
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from dashapp.budget import point_budget
from dashapp.figures import GRAPH_ID, Figure, empty_figure, fuel_efficiency_figure, plot_text
from dashapp.layout import DROPDOWN_ID
from models import vehicles_for
from models.queries import MAX_MANUFACTURER_NAME
from server.caching import cached_by_data_version
from server.extensions import db


def manufacturer_from_input(value: Any) -> str | None:
    """The dropdown's value as a manufacturer name, or None for an empty or malformed one."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def figure_for(value: Any) -> Figure:
    """The figure the dashboard shows for a dropdown value, whatever the client sent."""
    name = manufacturer_from_input(value)
    if name is None:
        return empty_figure("Pick a manufacturer to plot its vehicles.")
    if len(name) > MAX_MANUFACTURER_NAME:
        return empty_figure("That manufacturer name is too long to exist.")
    budget = point_budget(current_app.config)
    try:
        # [issue-5] a plain pooled connection, not the ORM session: the read needs no unit
        # of work. The figure is cached by (selection, data version): server/caching.py.
        with db.engine.connect() as conn:
            return cached_by_data_version(
                conn, "dash-figure", (name, budget), lambda: _figure_from_store(conn, name, budget)
            )
    except SQLAlchemyError:
        return empty_figure("The vehicle store is unavailable right now; try again shortly.")


def _figure_from_store(conn: Connection, name: str, budget: int | None) -> Figure:
    points = vehicles_for(conn, name, budget)
    if points is None:
        return empty_figure(f"No manufacturer named “{plot_text(name)}” is in the store.")
    return fuel_efficiency_figure(points)


def register_callbacks(dash_app: Dash) -> None:
    """Wire the dashboard's callbacks onto ``dash_app`` (not Dash's global registry)."""

    @dash_app.callback(Output(GRAPH_ID, "figure"), Input(DROPDOWN_ID, "value"))
    def update_fuel_efficiency_graph(manufacturer: Any) -> Figure:
        return figure_for(manufacturer)
