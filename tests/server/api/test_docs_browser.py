"""The interactive API docs render in real headless Chromium with no network beyond the app."""

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
