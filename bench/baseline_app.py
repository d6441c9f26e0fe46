"""The seed-style baseline: the tutorial's approach, served by gunicorn for comparison.

The whole store is read into a pandas DataFrame at start-up; the callback filters it in
memory and draws with ``plotly.express.scatter``. Component ids match fueldash's, so the
same ``_dash-update-component`` body works against both.

    DATABASE_URL=sqlite:///bench/data/store-406-....sqlite3 \
        gunicorn -c gunicorn.conf.py bench.baseline_app:server
"""

import os

import pandas as pd
import plotly.express as px
from dash import Dash, Input, Output, dcc, html
from sqlalchemy import create_engine

from dashapp.figures import GRAPH_ID
from dashapp.layout import DROPDOWN_ID

QUERY = """
SELECT m.name AS manufacturer, v.model, v.year, v.horsepower, v.combined_mpg AS mpg
FROM vehicles v JOIN manufacturers m ON m.id = v.manufacturer_id
"""


def load_frame(url: str) -> pd.DataFrame:
    """Every vehicle with its manufacturer's name, as the tutorial keeps it: in memory."""
    engine = create_engine(url)
    with engine.connect() as conn:
        frame = pd.read_sql_query(QUERY, conn)
    engine.dispose()
    return frame


df = load_frame(os.environ["DATABASE_URL"])
app = Dash(__name__, url_base_pathname="/dash/")
server = app.server
app.layout = html.Div(
    [
        html.H1("Fuel efficiency vs horsepower"),
        dcc.Dropdown(id=DROPDOWN_ID, options=sorted(df["manufacturer"].unique()), value="Toyota"),
        dcc.Graph(id=GRAPH_ID),
    ]
)


@app.callback(Output(GRAPH_ID, "figure"), Input(DROPDOWN_ID, "value"))
def update_graph(manufacturer: str):
    selected = df[df["manufacturer"] == manufacturer]
    return px.scatter(
        selected,
        x="horsepower",
        y="mpg",
        hover_name="model",
        title=f"{manufacturer}: fuel efficiency vs horsepower",
    )
