"""The interactive API docs render in real headless Chromium with no network beyond the app,
and follow the site's light/dark switch with a theme of their own, not an inversion."""

import re
from typing import Any
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser


def test_docs_page_works_offline(page: Any, live_url: str) -> None:
    app_host = urlparse(live_url).netloc
    outside: list[str] = []

    def only_the_app(route: Any) -> None:
        if urlparse(route.request.url).netloc == app_host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    page.goto(f"{live_url}/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/api/v1/vehicles", "/api/v1/stats", "/api/v1/manufacturers"} <= {
        path.replace("\u200b", "") for path in paths
    }
    assert outside == []


def luminance(css_colour: str) -> float:
    """WCAG relative luminance of a computed ``rgb(...)``/``rgba(...)`` colour."""
    red, green, blue = (int(part) / 255 for part in re.findall(r"[\d.]+", css_colour)[:3])

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def colours(page: Any) -> dict[str, Any]:
    """The computed colours a reader sees, and every element drawn through a CSS filter."""
    return dict(
        page.evaluate(
            """() => {
                const style = (selector) => getComputedStyle(document.querySelector(selector));
                const code = document.querySelector(".opblock.is-open pre.microlight");
                return {
                    theme: document.documentElement.dataset.bsTheme,
                    body: style("body").backgroundColor,
                    path: style(".opblock-summary-path").color,
                    description: style(".opblock-summary-description").color,
                    title: style(".info .title").color,
                    panel: style(".scheme-container").backgroundColor,
                    code: [getComputedStyle(code).backgroundColor, getComputedStyle(code).color],
                    tokens: [...code.querySelectorAll("span")]
                        .map((s) => getComputedStyle(s).color),
                    filtered: [...document.querySelectorAll("*")]
                        .filter((e) => getComputedStyle(e).filter !== "none")
                        .map((e) => e.tagName + "." + e.className),
                };
            }"""
        )
    )


def check_scheme(page: Any, scheme: str) -> None:
    seen = colours(page)
    assert seen["theme"] == scheme
    assert seen["filtered"] == []  # a theme, not an inversion
    dark = scheme == "dark"
    assert (luminance(seen["body"]) < 0.05) == dark, seen["body"]
    assert (luminance(seen["panel"]) < 0.05) == dark, seen["panel"]
    for text in ("path", "description", "title"):
        assert (luminance(seen[text]) > 0.5) == dark, (text, seen[text])
        assert contrast(seen[text], seen["body"]) >= 4.5, (text, seen[text], seen["body"])
    # The highlighted samples are dark in both schemes, their text and tokens readable.
    background, text = seen["code"]
    assert luminance(background) < 0.05
    assert contrast(text, background) >= 4.5
    assert seen["tokens"] and min(contrast(t, background) for t in seen["tokens"]) >= 3


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_docs_follow_the_light_dark_switch(page: Any, live_url: str, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    page.goto(f"{live_url}/api/v1/docs")
    page.locator(".opblock-summary", has_text="/api/v1/datasets").click()
    page.wait_for_selector(".opblock.is-open pre.microlight span", timeout=15_000)
    check_scheme(page, scheme)
    # The system's preference changes while the page is open: theme.js switches the site.
    other = "light" if scheme == "dark" else "dark"
    page.emulate_media(color_scheme=other)
    page.wait_for_function(f"document.documentElement.dataset.bsTheme === '{other}'")
    check_scheme(page, other)
