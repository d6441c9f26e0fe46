"""The exploration view's pure builders: figure, trend lines, summary and table rows."""

import statistics

import numpy as np
import pytest

from dashapp.figures import (
    L100KM_TITLES,
    PALETTE,
    manufacturer_colour,
    manufacturer_symbol,
    selection_figure,
    summarize,
    trend_line,
)
from models.explore import Selection, Series
from tests.dashapp.helpers import annotation_text, decode_array, marker_traces, point_count


def make_series(name: str, hp: list[float], mpg: list[float], hidden: int = 0) -> Series:
    n = len(hp)
    return Series(
        manufacturer=name,
        ids=np.arange(1, n + 1, dtype=np.int64) + 100 * len(name),
        x=np.asarray(hp, dtype=np.float32),
        y=np.asarray(mpg, dtype=np.float32),
        mpg=np.asarray(mpg, dtype=np.float32),
        label=np.asarray([f"{name.lower()} {i} (1970)" for i in range(n)], dtype=object),
        hidden=hidden,
    )


TOYOTA = make_series("Toyota", [60, 80, 100], [35, 30, 25], hidden=1)
HONDA = make_series("Honda", [50, 70], [40, 33])


def test_one_trace_and_colour_per_manufacturer() -> None:
    figure = selection_figure(Selection("horsepower", "combined_mpg", (TOYOTA, HONDA), ()))
    traces = marker_traces(figure)
    assert [t["name"] for t in traces] == ["Toyota", "Honda"]
    assert [t["marker"]["color"] for t in traces] == [
        manufacturer_colour("Toyota"),
        manufacturer_colour("Honda"),
    ]
    assert point_count(figure) == 5
    assert decode_array(traces[1]["customdata"]).tolist() == [501, 502]
    assert decode_array(traces[1]["customdata"]).dtype == np.int32
    assert figure["layout"]["showlegend"] is True
    assert figure["layout"]["title"]["text"] == "Toyota, Honda: fuel efficiency vs horsepower"
    assert figure["layout"]["title"]["subtitle"]["text"] == (
        "5 vehicles plotted, 1 more hidden: missing horsepower or mpg"
    )


def test_trend_lines_are_least_squares_and_hidden_until_asked() -> None:
    figure = selection_figure(Selection("horsepower", "combined_mpg", (TOYOTA,), ()))
    (line,) = [t for t in figure["data"] if t.get("meta", {}).get("trend")]
    assert line["visible"] is False
    assert line["meta"]["slope"] == pytest.approx(-0.25)
    assert "-0.25 mpg per hp" in line["name"]
    assert decode_array(line["y"]).tolist() == pytest.approx([35.0, 25.0])
    shown = selection_figure(Selection("horsepower", "combined_mpg", (TOYOTA,), ()), trend=True)
    assert [t["visible"] for t in shown["data"] if t.get("meta", {}).get("trend")] == [True]


def test_a_manufacturer_keeps_its_colour_whatever_else_is_plotted() -> None:
    alone = marker_traces(selection_figure(Selection("horsepower", "combined_mpg", (TOYOTA,), ())))
    second = marker_traces(
        selection_figure(Selection("horsepower", "combined_mpg", (HONDA, TOYOTA), ()))
    )
    assert alone[0]["marker"]["color"] == second[1]["marker"]["color"]
    assert alone[0]["marker"]["symbol"] == second[1]["marker"]["symbol"]
    # Derived from the name, ignoring case, within the colour-blind-safe palette.
    assert manufacturer_colour("toyota") == manufacturer_colour("Toyota") in PALETTE
    assert manufacturer_colour("Honda") != manufacturer_colour("Datsun")
    biggest = ["Ford", "Chevrolet", "Plymouth", "AMC", "Dodge", "Toyota", "Datsun", "Volkswagen"]
    assert len({manufacturer_colour(name) for name in biggest}) == len(PALETTE)
    assert manufacturer_symbol("Toyota") == manufacturer_symbol(" TOYOTA ")


def test_trend_slopes_say_their_units() -> None:
    weight = make_series("Toyota", [2000, 2500, 3000], [35, 30, 25])
    figure = selection_figure(Selection("weight", "combined_mpg", (weight,), ()), units="l100km")
    (line,) = [t for t in figure["data"] if t.get("meta", {}).get("trend")]
    assert line["name"].endswith("L/100 km per lb)")


def test_trend_needs_two_distinct_x_values() -> None:
    assert trend_line(np.array([1.0]), np.array([2.0])) is None
    assert trend_line(np.array([3.0, 3.0]), np.array([1.0, 2.0])) is None
    slope, intercept = trend_line(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]))
    assert (slope, intercept) == pytest.approx((2.0, 1.0))


def test_litres_per_100_km() -> None:
    figure = selection_figure(Selection("horsepower", "combined_mpg", (HONDA,), ()), units="l100km")
    (trace,) = marker_traces(figure)
    assert decode_array(trace["y"]).tolist() == pytest.approx([235.215 / 40, 235.215 / 33])
    assert figure["layout"]["yaxis"]["title"]["text"] == L100KM_TITLES["combined_mpg"]
    assert "L/100 km" in trace["hovertemplate"]


def test_axis_titles_carry_units() -> None:
    figure = selection_figure(Selection("weight", "acceleration", (HONDA,), ()))
    assert figure["layout"]["xaxis"]["title"]["text"] == "Weight (lb)"
    assert figure["layout"]["yaxis"]["title"]["text"] == "Acceleration (0-60 mph, s)"


def test_large_selections_stay_svg_for_the_basic_bundle() -> None:
    """The shipped plotly.js bundle has no scattergl; the point budget bounds SVG instead."""
    big = [make_series(n, list(range(1, 3001)), [20.0] * 3000) for n in ("A", "B")]
    figure = selection_figure(Selection("horsepower", "combined_mpg", tuple(big), ()))
    assert {t["type"] for t in marker_traces(figure)} == {"scatter"}
    assert sum(len(decode_array(t["x"])) for t in marker_traces(figure)) == 6000


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (Selection("horsepower", "combined_mpg", (), ()), "Pick a manufacturer"),
        (
            Selection("horsepower", "combined_mpg", (), ("<b>x</b>",)),
            "No manufacturer named “&lt;b&gt;",
        ),
        (
            Selection("horsepower", "combined_mpg", (make_series("Citroen", [], [], 1),), ()),
            "no vehicles with both horsepower and mpg",
        ),
    ],
)
def test_empty_selections_explain_themselves(selection: Selection, message: str) -> None:
    figure = selection_figure(selection)
    assert figure["data"] == []
    assert message in annotation_text(figure)


def test_summary_of_a_selection() -> None:
    summary = summarize(Selection("horsepower", "combined_mpg", (TOYOTA, HONDA), ()))
    assert (summary.vehicles, summary.hidden, summary.median_mpg) == (5, 1, 33.0)
    assert summary.best is not None and summary.worst is not None
    assert (summary.best.mpg, summary.best.manufacturer, summary.best.label) == (
        40.0,
        "Honda",
        "honda 0 (1970)",
    )
    assert (summary.worst.mpg, summary.worst.manufacturer) == (25.0, "Toyota")


def test_summary_skips_missing_mpg_and_empty_selections() -> None:
    gappy = Series(
        "X",
        np.array([1, 2]),
        *[np.array(v, np.float32) for v in ([1, 2], [3, 4])],
        mpg=np.array([np.nan, 20.0], np.float32),
        label=np.array(["a", "b"], dtype=object),
        hidden=0,
    )
    summary = summarize(Selection("weight", "acceleration", (gappy,), ()))
    assert (summary.vehicles, summary.median_mpg) == (2, 20.0)
    empty = summarize(Selection("horsepower", "combined_mpg", (), ()))
    assert (empty.vehicles, empty.median_mpg, empty.best) == (0, None, None)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ([20, 30, 30], [10, 30]),  # even count, a tie for best across series
        ([18, 18], [25]),  # a tie for worst
        ([21.5, 19, 33.25, 40, 40, 12], [12, 7.5, 40]),
    ],
)
def test_summary_median_and_extremes_match_a_plain_python_reading(
    first: list[float], second: list[float]
) -> None:
    a = make_series("A", list(range(len(first))), first)
    b = make_series("B", list(range(len(second))), second)
    summary = summarize(Selection("horsepower", "combined_mpg", (a, b), ()))
    values = first + second
    labels = list(a.label) + list(b.label)
    assert summary.median_mpg == pytest.approx(statistics.median(values))
    assert summary.best is not None and summary.worst is not None
    # Ties go to the earlier point, counting series in order.
    assert summary.best.label == labels[values.index(max(values))]
    assert summary.worst.label == labels[values.index(min(values))]
    assert (summary.best.mpg, summary.worst.mpg) == (max(values), min(values))
