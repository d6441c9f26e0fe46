"""The pure figure builders, without a database or a server."""

import numpy as np

from dashapp.figures import (
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


def test_large_selections_stay_svg_scatter_for_the_cartesian_bundle() -> None:
    # The page ships plotly's cartesian bundle, which has no scattergl.
    figure = fuel_efficiency_figure(make_points(6000))
    assert figure["data"][0]["type"] == "scatter"


def test_a_thinned_selection_says_how_many_points_out_of_how_many() -> None:
    points = make_points(3, hidden=1)
    thinned = PlotPoints(**{**_fields(points), "available": 120_000})
    figure = fuel_efficiency_figure(thinned)
    subtitle = figure["layout"]["title"]["subtitle"]["text"]
    assert subtitle.startswith("showing a sample of 3 of 120,000 vehicles")
    assert "DASH_POINT_BUDGET" in subtitle
    assert figure["layout"]["meta"] == {"plotted": 3, "hidden": 1, "available": 120_000}


def _fields(points: PlotPoints) -> dict[str, object]:
    return {name: getattr(points, name) for name in PlotPoints.__dataclass_fields__}


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
