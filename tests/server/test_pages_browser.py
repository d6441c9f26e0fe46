"""The site's pages in real Chromium on a 375 by 812 phone, light and dark: nothing wider than
the screen, the header's links reachable, and the system's colour scheme applied."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


@pytest.fixture(params=["light", "dark"])
def phone(request: Any, browser: Any) -> Iterator[Any]:
    """A page on a phone-sized screen whose system prefers light or dark colours."""
    context = browser.new_context(viewport=PHONE, color_scheme=request.param)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.scheme = request.param
    yield page
    context.close()
    assert errors == []


def page_width(page: Any) -> int:
    """How wide the page's content is: wider than the screen means a horizontal scroll."""
    return int(page.evaluate("document.documentElement.scrollWidth"))


def body_is_dark(page: Any) -> bool:
    """Whether the body's background is dark (its channels' mean is under half)."""
    rgb = page.evaluate(
        "getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"
    )
    return sum(rgb) / 3 < 128


def check_look(page: Any) -> None:
    assert page_width(page) <= PHONE["width"]
    assert page.evaluate("document.documentElement.dataset.bsTheme") == page.scheme
    assert body_is_dark(page) == (page.scheme == "dark")
    header = page.locator("header")
    for name in ("Dashboard", "Compare", "API", "Admin"):
        link = header.get_by_role("link", name=name, exact=True)
        assert link.is_visible()
        box = link.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"]


def test_landing_and_docs_fit_a_phone(phone: Any, live_url: str) -> None:
    phone.goto(f"{live_url}/")
    check_look(phone)
    assert phone.get_by_role("link", name="Open the dashboard").is_visible()
    phone.goto(f"{live_url}/api/v1/docs")
    phone.wait_for_selector(".opblock-summary-path", timeout=15_000)
    check_look(phone)


def test_admin_pages_fit_a_phone(phone: Any, live_url: str, users: Any) -> None:
    phone.goto(f"{live_url}/login?next=/admin/vehicles")
    check_look(phone)
    phone.get_by_label("Username").fill("admin")
    phone.get_by_label("Password").fill(TEST_PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url("**/admin/vehicles")
    check_look(phone)
    # The table scrolls inside its own box; the page itself does not.
    assert phone.locator(".table-responsive").first.evaluate("e => e.scrollWidth > e.clientWidth")
    for path in ("/admin/vehicles/new", "/admin/audit", "/admin/manufacturers"):
        phone.goto(f"{live_url}{path}")
        check_look(phone)
