"""End to end in real headless Chromium: the dashboard draws, and redraws on a new pick."""

from typing import Any

import pytest

pytestmark = pytest.mark.browser

GRAPH = "#fuel-efficiency-vs-horsepower-graph"


def drawn_points(page: Any) -> int:
    """Points plotly.js has drawn in the graph (works for SVG and WebGL traces)."""
    return page.evaluate(
        """(selector) => {
            const gd = document.querySelector(selector + ' .js-plotly-plot');
            if (!gd || !gd._fullData) return -1;
            return gd._fullData.reduce((n, trace) => n + (trace._length || 0), 0);
        }""",
        GRAPH,
    )


def wait_for_points(page: Any, count: int) -> None:
    page.wait_for_function(
        """([selector, count]) => {
            const gd = document.querySelector(selector + ' .js-plotly-plot');
            return !!gd && !!gd._fullData &&
                gd._fullData.reduce((n, t) => n + (t._length || 0), 0) === count;
        }""",
        arg=[GRAPH, count],
        timeout=20_000,
    )


def test_dashboard_draws_and_redraws(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/")
    wait_for_points(page, 26)  # Toyota, the default
    assert page.locator(f"{GRAPH} .gtitle").text_content().startswith("Toyota")
    assert page.locator(f"{GRAPH} .scatterlayer .point").count() == 26
    assert "14 of 406 vehicles lack horsepower or mpg" in page.locator("#store-notice").inner_text()

    page.locator("#manufacturer-dropdown").click()
    page.get_by_role("option", name="Honda (13)").click()
    wait_for_points(page, 13)
    assert drawn_points(page) == 13
    assert page.locator(f"{GRAPH} .gtitle").text_content().startswith("Honda")

    page.locator("#manufacturer-dropdown").click()
    page.get_by_role("option", name="Chevrolet (47)").click()
    wait_for_points(page, 47)
    assert page.locator(f"{GRAPH} .scatterlayer .point").count() == 47
