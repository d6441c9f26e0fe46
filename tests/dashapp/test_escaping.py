"""Text from the store reaches plotly escaped: plotly renders a subset of HTML in names,
titles and hover labels, so markup in a model or manufacturer name must show as text."""

from pathlib import Path
from typing import Any

import numpy as np

from dashapp.figures import plot_text, selection_figure
from models.explore import Selection, Series
from tests.dashapp.helpers import marker_traces

BUNDLE = Path(__file__).resolve().parents[2] / "dashapp/assets/plotly-basic-4.1.1.min.js"
MARKUP = "<span style=font-size:90px>big</span> <b>bold</b> <a href='//x'>link</a>"


def _series(name: str, labels: list[str]) -> Series:
    n = len(labels)
    return Series(
        manufacturer=name,
        ids=np.arange(1, n + 1, dtype=np.int64),
        x=np.linspace(50, 100, n).astype(np.float32),
        y=np.linspace(20, 30, n).astype(np.float32),
        mpg=np.linspace(20, 30, n).astype(np.float32),
        label=np.asarray(labels, dtype=object),
        hidden=0,
    )


def test_plot_text_escapes_markup_but_not_quotes() -> None:
    assert plot_text('Say "Hi" & <b>') == 'Say "Hi" &amp; &lt;b&gt;'
    assert plot_text("O'Brien") == "O'Brien"


def test_hover_labels_show_markup_as_text() -> None:
    series = _series("Acme", [MARKUP, "plain (1970)"])
    figure = selection_figure(Selection("horsepower", "combined_mpg", (series,), ()))
    trace = marker_traces(figure)[0]
    assert "%{text}" not in trace["hovertemplate"]
    assert "%{hovertext}" in trace["hovertemplate"]
    assert trace["hovertext"][0] == (
        "&lt;span style=font-size:90px&gt;big&lt;/span&gt; &lt;b&gt;bold&lt;/b&gt; "
        "&lt;a href='//x'&gt;link&lt;/a&gt;"
    )
    assert trace["hovertext"][1] == "plain (1970)"
    # The table below the chart reads the labels as plain text, so they stay raw there.
    assert trace["text"] == [MARKUP, "plain (1970)"]


def test_a_quote_in_a_manufacturer_shows_as_a_quote() -> None:
    series = _series('Say "Hi" <Motors> & Co', ["a (1970)", "b (1971)"])
    figure = selection_figure(Selection("horsepower", "combined_mpg", (series,), ()))
    escaped = 'Say "Hi" &lt;Motors&gt; &amp; Co'
    traces = figure["data"]
    assert traces[0]["name"] == escaped
    assert traces[1]["name"].startswith(escaped + " trend")
    assert figure["layout"]["title"]["text"].startswith(escaped + ":")
    assert "&quot;" not in str(figure)


def test_plotly_shows_the_escaped_text_as_text(page: Any) -> None:
    """In Chromium, with the plotly.js bundle the dashboard serves: the hover label and
    the legend show the names as typed, markup and quotes included."""
    import json

    series = _series('Say "Hi" <b>&</b>', [MARKUP, "plain (1970)"])
    figure = selection_figure(Selection("horsepower", "combined_mpg", (series,), ()))
    trace = marker_traces(figure)[0]
    keys = ("type", "mode", "name", "text", "hovertext", "hovertemplate")
    plain = {key: trace[key] for key in keys if key in trace}
    plain |= {"x": [60.0, 80.0], "y": [20.0, 30.0]}
    page.set_content("<div id='plot' style='width:800px;height:500px'></div>")
    page.add_script_tag(path=str(BUNDLE))
    page.evaluate(
        "async (trace) => { await Plotly.newPlot('plot', [trace], "
        "{showlegend: true, hovermode: 'closest'}); "
        "Plotly.Fx.hover('plot', [{curveNumber: 0, pointNumber: 0}]); }",
        json.loads(json.dumps(plain)),
    )
    hover = page.locator(".hoverlayer").text_content()
    assert "<span style=font-size:90px>big</span> <b>bold</b>" in hover
    assert page.locator(".hoverlayer [style*='90px']").count() == 0
    assert page.locator(".hoverlayer a").count() == 0
    assert page.locator(".legendtext").first.text_content() == 'Say "Hi" <b>&</b>'
