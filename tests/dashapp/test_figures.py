"""The pure figure builders, without a database or a server."""

import numpy as np

from dashapp.figures import (
    WEBGL_THRESHOLD,
    X_TITLE,
    Y_TITLE,
    empty_figure,
    fuel_efficiency_figure,
    typed_array,
)
from models import PlotPoints
from tests.dashapp.helpers import decode_array


def make_points(n: int, hidden: int = 0, name: str = "Toyota") -> PlotPoints:
    return PlotPoints(
        manufacturer=name,
        horsepower=np.arange(1, n + 1, dtype=np.float32) * 10,
        mpg=np.linspace(40, 10, n, dtype=np.float32),
        label=[f"model {i} (1970)" for i in range(n)],
        hidden=hidden,
    )


def test_scatter_of_mpg_against_horsepower() -> None:
    figure = fuel_efficiency_figure(make_points(3, hidden=2))
    (trace,) = figure["data"]
    assert trace["type"] == "scatter"
    assert trace["mode"] == "markers"
    assert decode_array(trace["x"]).tolist() == [10.0, 20.0, 30.0]
    assert decode_array(trace["y"]).tolist() == [40.0, 25.0, 10.0]
    assert trace["text"] == ["model 0 (1970)", "model 1 (1970)", "model 2 (1970)"]
    assert "%{text}" in trace["hovertemplate"]
    layout = figure["layout"]
    assert layout["xaxis"]["title"]["text"] == X_TITLE == "Horsepower (hp)"
    assert "mpg" in layout["yaxis"]["title"]["text"] and Y_TITLE.startswith("Fuel efficiency")
    assert layout["title"]["subtitle"]["text"] == (
        "3 vehicles plotted, 2 more hidden: missing horsepower or mpg"
    )
    assert layout["meta"] == {"plotted": 3, "hidden": 2}


def test_large_selections_switch_to_webgl() -> None:
    figure = fuel_efficiency_figure(make_points(WEBGL_THRESHOLD + 1))
    assert figure["data"][0]["type"] == "scattergl"


def test_no_plottable_points_gives_an_empty_state() -> None:
    figure = fuel_efficiency_figure(make_points(0, hidden=1, name="Citroen"))
    assert figure["data"] == []
    assert "Citroen has no vehicles" in figure["layout"]["annotations"][0]["text"]
    assert "(1 hidden)" in figure["layout"]["annotations"][0]["text"]


def test_manufacturer_names_are_escaped() -> None:
    figure = fuel_efficiency_figure(make_points(1, name="<script>alert(1)</script>"))
    assert "<script>" not in figure["layout"]["title"]["text"]
    assert "&lt;script&gt;" in figure["layout"]["title"]["text"]


def test_empty_figure_hides_axes() -> None:
    figure = empty_figure("nothing here")
    assert figure["layout"]["xaxis"]["visible"] is False
    assert figure["layout"]["annotations"][0]["text"] == "nothing here"


def test_typed_array_round_trips() -> None:
    values = np.array([1.5, -2.25, 130.0], dtype=np.float32)
    spec = typed_array(values)
    assert spec["dtype"] == "f4"
    assert decode_array(spec).tolist() == [1.5, -2.25, 130.0]
    big_endian = values.astype(">f4")
    assert decode_array(typed_array(big_endian)).tolist() == [1.5, -2.25, 130.0]
