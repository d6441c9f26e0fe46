"""Every Flask page has one look: Bootstrap served from this site, one header with the same
links, the dark-mode script, a viewport for phones and one favicon."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions

SITE_LINKS = ["/dash/", "/compare", "/api/v1/docs", "/admin/"]
BOOTSTRAP_CSS = "/bootstrap/static/css/bootstrap.min.css"


def asset_sources(html: str) -> list[str]:
    """Where the page's scripts, styles, icons and images are loaded from."""
    return re.findall(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]*)"', html)


def served_by_this_site(source: str) -> bool:
    return source.startswith("/") and not source.startswith("//")


def header_links(html: str) -> list[str]:
    header = re.search(r"<header.*?</header>", html, re.S)
    assert header, "no site header"
    return re.findall(r'class="nav-link[^"]*" href="([^"]+)"', header.group(0))


@pytest.mark.parametrize(
    "path", ["/", "/login", "/api/v1/docs", "/no-such-page", "/admin/vehicles"]
)
def test_every_page_has_the_one_look(client: FlaskClient, auth: AuthActions, path: str) -> None:
    if path.startswith("/admin"):
        auth.login()
    html = client.get(path).get_data(as_text=True)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert f'<link rel="stylesheet" href="{BOOTSTRAP_CSS}">' in html
    sources = asset_sources(html)
    assert BOOTSTRAP_CSS in sources
    assert [source for source in sources if not served_by_this_site(source)] == []
    assert re.search(r'<script src="/static/theme.js\?m=[\d.]+"></script>', html)
    assert '<link rel="icon" href="/favicon.ico"' in html
    assert [link for link in header_links(html) if link != "/login"] == SITE_LINKS


def test_the_header_marks_the_current_surface(client: FlaskClient) -> None:
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<a class="nav-link active" href="/api/v1/docs" aria-current="page">API</a>' in html
    assert 'aria-current="page"' not in client.get("/").get_data(as_text=True)


def test_the_header_offers_sign_in_or_sign_out(client: FlaskClient, auth: AuthActions) -> None:
    assert "/login" in header_links(client.get("/").get_data(as_text=True))
    auth.login("editor")
    html = client.get("/").get_data(as_text=True)
    assert "/login" not in header_links(html)
    assert re.search(r'<form [^>]*method="post" action="/logout">', html)
    assert ">editor</span>" in html


def test_bootstrap_is_served_from_this_site(client: FlaskClient) -> None:
    css = client.get(BOOTSTRAP_CSS)
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    assert b"Bootstrap  v5.3" in css.data[:200]
    assert b"[data-bs-theme=dark]" in css.data


def test_one_favicon(client: FlaskClient, app: Flask) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"


def test_the_api_docs_page_is_the_sites_own(client: FlaskClient) -> None:
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<div id="swagger-ui-container"></div>' in html
    assert 'href="/api/v1/docs/assets/swagger-ui.css"' in html
    assert re.search(r'href="/static/api-docs.css\?m=[\d.]+"', html)
    assert 'url: "/api/v1/openapi.json"' in html


def test_sign_out_from_a_link_asks_first(client: FlaskClient, auth: AuthActions) -> None:
    assert client.get("/logout").status_code == 302  # nobody to sign out
    auth.login("editor")
    page = client.get("/logout")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sign out editor?" in html
    assert client.get("/admin/vehicles").status_code == 200  # a GET signs nobody out
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token
    assert client.post("/logout", data={"csrf_token": token.group(1)}).status_code == 302
    assert client.get("/admin/vehicles").status_code == 302
