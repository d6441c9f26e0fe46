"""A Dash app whose callback returns a constant figure: the floor for a callback round trip.

Same component ids as fueldash and the baseline, served by gunicorn the same way, so the
benchmark can report fueldash's callback time as a ratio to this one.
"""

from typing import Any

from dash import Dash, Input, Output, dcc, html

from dashapp.figures import GRAPH_ID
from dashapp.layout import DROPDOWN_ID

CONSTANT_FIGURE: dict[str, Any] = {"data": [], "layout": {"title": {"text": "no-op"}}}

app = Dash(__name__, url_base_pathname="/dash/")
server = app.server
app.layout = html.Div([dcc.Dropdown(id=DROPDOWN_ID), dcc.Graph(id=GRAPH_ID)])


@app.callback(Output(GRAPH_ID, "figure"), Input(DROPDOWN_ID, "value"))
def constant_figure(_manufacturer: Any) -> dict[str, Any]:
    return CONSTANT_FIGURE
