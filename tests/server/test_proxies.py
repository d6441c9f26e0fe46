"""TRUSTED_PROXIES: behind a proxy the throttle counts real clients and links use the
public scheme and host; with the default 0, forwarded headers are ignored."""

from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from server.config import ConfigError, environment_config
from tests.conftest import TEST_PASSWORD, csrf_token

PROXY_ADDRESS = "10.0.0.2"  # every request reaches the app from the proxy's address
PUBLIC = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cars.example.org"}


def login_as_client(client: FlaskClient, forwarded_for: str, password: str = TEST_PASSWORD) -> int:
    """Post the login form as the proxy would pass on a sign-in from ``forwarded_for``."""
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"username": "admin", "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": PROXY_ADDRESS},
    )
    return response.status_code


def external_link_app(make_app: Any, **config: Any) -> Flask:
    """An app with one extra route that answers ``url_for(..., _external=True)``."""
    app: Flask = make_app(**config)
    app.add_url_rule(
        "/external-link", "external_link", lambda: url_for("main.index", _external=True)
    )
    return app


def test_behind_one_proxy_each_client_is_throttled_apart(make_app: Any, users: Any) -> None:
    app = make_app(TRUSTED_PROXIES=1, LOGIN_RATE_LIMIT="2 per minute")
    attacker, bystander = app.test_client(), app.test_client()
    assert [login_as_client(attacker, "198.51.100.9", "wrong") for _ in range(3)] == [
        200,
        200,
        429,
    ]
    # The attacker is locked out; a sign-in from another client through the same proxy is not.
    assert login_as_client(bystander, "203.0.113.5") == 302
    assert login_as_client(attacker, "198.51.100.9") == 429


def test_behind_one_proxy_the_client_cannot_forge_its_address(make_app: Any, users: Any) -> None:
    """The proxy appends the address it saw; only that last entry is trusted."""
    app = make_app(TRUSTED_PROXIES=1, LOGIN_RATE_LIMIT="1 per minute")
    client = app.test_client()
    assert login_as_client(client, "1.1.1.1, 198.51.100.9", "wrong") == 200
    assert login_as_client(client, "2.2.2.2, 198.51.100.9") == 429


def test_two_trusted_proxies_take_the_address_the_outer_one_saw(make_app: Any, users: Any) -> None:
    app = make_app(TRUSTED_PROXIES=2, LOGIN_RATE_LIMIT="1 per minute")
    client = app.test_client()
    assert login_as_client(client, "198.51.100.9, 10.0.0.1", "wrong") == 200
    assert login_as_client(client, "198.51.100.9, 10.0.0.3") == 429  # same client
    assert login_as_client(client, "203.0.113.5, 10.0.0.1") == 302


def test_without_trusted_proxies_forwarded_addresses_are_ignored(make_app: Any, users: Any) -> None:
    app = make_app(LOGIN_RATE_LIMIT="1 per minute")
    assert app.config["TRUSTED_PROXIES"] == 0
    client = app.test_client()
    assert login_as_client(client, "198.51.100.9", "wrong") == 200
    # A client cannot escape its lockout by claiming another address.
    assert login_as_client(client, "203.0.113.5") == 429


def test_behind_a_proxy_links_use_the_public_scheme_and_host(app: Flask, make_app: Any) -> None:
    client = external_link_app(make_app, TRUSTED_PROXIES=1).test_client()
    link = client.get("/external-link", headers=PUBLIC).get_data(as_text=True)
    assert link == "https://cars.example.org/"

    page = client.get("/api/v1/vehicles?limit=2", headers=PUBLIC).get_json()
    assert page["next"].startswith("https://cars.example.org/api/v1/vehicles?")
    assert "cursor=" in page["next"]


def test_without_trusted_proxies_links_ignore_forwarded_headers(app: Flask, make_app: Any) -> None:
    client = external_link_app(make_app).test_client()
    assert (
        client.get("/external-link", headers=PUBLIC).get_data(as_text=True) == "http://localhost/"
    )
    page = client.get("/api/v1/vehicles?limit=2", headers=PUBLIC).get_json()
    assert page["next"].startswith("http://localhost/api/v1/vehicles?")


def test_trusted_proxies_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    assert environment_config("/tmp")["TRUSTED_PROXIES"] == 2


@pytest.mark.parametrize("value", ["nginx", "-1", "1.5"])
def test_a_bad_trusted_proxies_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        environment_config("/tmp")
