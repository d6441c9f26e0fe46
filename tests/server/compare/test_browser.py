"""The compare page in real Chromium on a 375 by 812 phone: the page never scrolls
sideways (the table scrolls in its own box, field names kept in view), and the cheapest
vehicle is highlighted."""

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.comparisons import ACURA, PRIUS, SILVERADO, TESLA, import_epa_examples

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def epa_ids(app: Flask) -> dict[str, int]:
    """The sample plus four EPA vehicles; the EPA vehicles' ids by EPA id."""
    return import_epa_examples(app)


@pytest.fixture(params=["light", "dark"])
def phone(request: Any, browser: Any) -> Iterator[Any]:
    """A page on a phone-sized screen whose system prefers light or dark colours."""
    context = browser.new_context(viewport=PHONE, color_scheme=request.param)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def test_four_vehicles_fit_a_phone_with_the_cheapest_highlighted(
    phone: Any, live_url: str, epa_ids: dict[str, int]
) -> None:
    ids = ",".join(str(epa_ids[key]) for key in (ACURA, TESLA, PRIUS, SILVERADO))
    phone.goto(f"{live_url}/compare?ids={ids}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = phone.locator(".fd-compare-box")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls inside

    cheapest = phone.locator("#compare-table thead th.fd-cheapest")
    assert cheapest.count() == 1
    assert cheapest.get_attribute("data-vehicle-id") == str(epa_ids[TESLA])
    assert cheapest.get_by_text("Cheapest", exact=True).is_visible()
    plain = phone.locator("#compare-table thead th.fd-vehicle:not(.fd-cheapest)").first
    colour = "e => getComputedStyle(e).backgroundColor"
    assert cheapest.evaluate(colour) != plain.evaluate(colour)

    # Scrolled to the last vehicle, the field names stay at the left edge, readable.
    label = phone.locator("#row-annual-cost th")
    box.evaluate("e => { e.scrollLeft = e.scrollWidth }")
    assert box.evaluate("e => e.scrollLeft") > 0
    label_box = label.bounding_box()
    assert label_box is not None and 0 <= label_box["x"] < 20
    last_cell = phone.locator("#row-annual-cost td").last.bounding_box()
    assert last_cell is not None and last_cell["x"] >= label_box["x"] + label_box["width"] - 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_search_and_settings_fit_a_phone(phone: Any, live_url: str, epa_ids: Any) -> None:
    phone.goto(f"{live_url}/compare")
    phone.get_by_label("Model to find").fill("prius")
    phone.get_by_role("button", name="Search").click()
    phone.wait_for_url("**/compare?q=prius")
    phone.get_by_role("link", name="Add").click()
    phone.get_by_label("Model to find").fill("tesla")
    phone.get_by_role("button", name="Search").click()
    phone.get_by_role("link", name="Add").click()
    phone.wait_for_selector("#compare-table")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.get_by_label("Miles per year").fill("5000")
    phone.get_by_label("Electricity").fill("0.5")
    phone.get_by_role("button", name="Recompute").click()
    phone.wait_for_url("**miles=5000**")
    assert "5,000 miles a year" in phone.locator("#compare-summary").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
