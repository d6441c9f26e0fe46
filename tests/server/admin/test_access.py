"""Every admin page and every API write refuses anonymous clients, found by walking the
URL map, so a route added later without protection fails here."""

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _concrete(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", rule)


def protected_routes(app: Flask) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        path = str(rule)
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        if path.startswith("/admin"):
            routes += [(method, _concrete(path)) for method in sorted(methods)]
        elif path.startswith("/api/v1"):
            routes += [(m, _concrete(path)) for m in sorted(methods & WRITE_METHODS)]
    return routes


def test_the_walk_finds_the_admin_surface(app: Flask) -> None:
    routes = protected_routes(app)
    assert ("GET", "/admin/vehicles") in routes
    assert ("POST", "/admin/import/confirm") in routes
    assert {("POST", "/api/v1/vehicles"), ("PATCH", "/api/v1/vehicles/1")} <= set(routes)
    assert ("DELETE", "/api/v1/vehicles/1") in routes
    assert len(routes) >= 20


def test_every_protected_route_refuses_anonymous(app: Flask) -> None:
    client: FlaskClient = app.test_client()
    for method, path in protected_routes(app):
        response = client.open(path, method=method)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path, response.status_code)
        else:
            assert response.status_code == 302, (method, path, response.status_code)
            assert response.headers["Location"].startswith("/login"), (method, path)


@pytest.mark.parametrize("path", ["/admin/tokens", "/admin/users/"])
def test_admin_only_pages_refuse_editors(client: FlaskClient, auth: Any, path: str) -> None:
    auth.login("editor")
    assert client.get(path).status_code == 403
    assert client.post(path, data={"csrf_token": auth.csrf("/admin/vehicles")}).status_code == 403
