"""The admin's list and vehicle form in real Chromium: select-all ticks the page's rows,
"New…" reveals the name to type, and nothing is wider than a desktop screen."""

from typing import Any

import pytest

from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page: Any, live_url: str, path: str) -> None:
    page.goto(f"{live_url}/login?next={path}")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{path}")


def test_select_all_and_the_new_choice(page: Any, live_url: str, users: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_url, "/admin/vehicles")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    rows = page.locator("input[name=ids]")
    assert rows.count() == 50
    select_all = page.get_by_label("Select every vehicle on this page")
    select_all.check()
    assert all(rows.nth(i).is_checked() for i in range(rows.count()))
    assert page.locator("[data-selected-count]").inner_text() == "50 selected"
    rows.first.uncheck()
    assert select_all.evaluate("box => box.indeterminate")
    assert page.locator("[data-selected-count]").inner_text() == "49 selected"
    page.get_by_role("link", name="2", exact=True).click()
    page.wait_for_url("**page=2**")

    page.goto(f"{live_url}/admin/vehicles/new")
    new_name = page.get_by_label("New manufacturer", exact=True)
    assert not new_name.is_visible()
    page.get_by_label("Manufacturer", exact=True).select_option("__new__")
    assert new_name.is_visible()
    assert page.get_by_label("Add it as a new manufacturer").is_visible()
    assert page.locator("#weight").get_attribute("type") == "number"
