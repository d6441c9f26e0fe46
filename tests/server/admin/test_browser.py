"""End to end in headless Chromium: sign in, edit a vehicle's mpg, see the point move."""

from typing import Any

import pytest
from flask import Flask

from tests.conftest import TEST_PASSWORD
from tests.server.admin.helpers import first_vehicle_id, snapshot

pytestmark = pytest.mark.browser

GRAPH = "#fuel-efficiency-vs-horsepower-graph"
NEW_MPG = 55.5  # exact in float32, and above every Toyota in the sample


def plotted_points(page: Any) -> list[list[float]]:
    """[hp, mpg] of every point plotly.js drew, read from ``gd._fullData``."""
    return page.evaluate(
        """(selector) => {
            const gd = document.querySelector(selector + ' .js-plotly-plot');
            if (!gd || !gd._fullData) return [];
            return gd._fullData.flatMap(t => Array.from(t.x || [], (x, i) => [x, t.y[i]]));
        }""",
        GRAPH,
    )


def wait_for_point(page: Any, hp: float, mpg: float) -> None:
    page.wait_for_function(
        """([selector, hp, mpg]) => {
            const gd = document.querySelector(selector + ' .js-plotly-plot');
            return !!gd && !!gd._fullData && gd._fullData.some(t =>
                Array.from(t.x || []).some((x, i) => x === hp && t.y[i] === mpg));
        }""",
        arg=[GRAPH, hp, mpg],
        timeout=20_000,
    )


def test_edit_mpg_moves_the_point(page: Any, live_url: str, app: Flask, users: Any) -> None:
    vehicle_id = first_vehicle_id(app, "corolla 1200")
    before = snapshot(app, vehicle_id)
    assert before is not None and before["manufacturer"] == "Toyota"
    hp, old_mpg = before["horsepower"], before["combined_mpg"]

    page.goto(f"{live_url}/dash/")
    wait_for_point(page, hp, old_mpg)
    drawn = plotted_points(page)
    assert [hp, NEW_MPG] not in drawn
    at_old_spot = drawn.count([hp, old_mpg])

    page.goto(f"{live_url}/login?next=/admin/vehicles/{vehicle_id}/edit")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/admin/vehicles/{vehicle_id}/edit")
    page.get_by_label("Combined fuel economy").fill(str(NEW_MPG))
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=saved")
    assert snapshot(app, vehicle_id)["combined_mpg"] == NEW_MPG  # type: ignore[index]

    page.goto(f"{live_url}/dash/")
    wait_for_point(page, hp, NEW_MPG)
    points = plotted_points(page)
    assert len(points) == 26
    assert [hp, NEW_MPG] in points
    assert points.count([hp, old_mpg]) == at_old_spot - 1  # ours left its old spot
