"""The API docs page, without a browser: its dark theme is a local stylesheet whose every
rule applies only under the site's dark switch, and nothing inverts the page."""

import re

from flask.testing import FlaskClient


def top_level_selectors(rule: str) -> list[str]:
    """A rule's selectors, split at the commas outside :is(...) and the like."""
    selectors, depth, start = [], 0, 0
    for at, char in enumerate(rule):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            selectors.append(rule[start:at].strip())
            start = at + 1
    return [*selectors, rule[start:].strip()]


def test_the_docs_dark_theme_is_local_and_scoped_to_dark(client: FlaskClient) -> None:
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert html.count("<header") == 1
    link = re.search(r'href="(/static/api-docs-dark\.css)\?m=[\d.]+"', html)
    assert link, "the dark theme is not linked"
    response = client.get(link.group(1))
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    css = re.sub(r"/\*.*?\*/", "", response.get_data(as_text=True), flags=re.S)
    selectors = [rule.strip() for rule in re.findall(r"([^{}]+)\{[^{}]*\}", css)]
    assert len(selectors) > 20
    for rule in selectors:
        for selector in top_level_selectors(rule):
            assert selector.startswith('[data-bs-theme="dark"] .swagger-ui'), selector
    for sheet in ("api-docs.css", "api-docs-dark.css"):
        assert "invert" not in client.get(f"/static/{sheet}").get_data(as_text=True)
