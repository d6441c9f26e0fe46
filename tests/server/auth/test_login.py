"""Signing in and out: the form, generic failures, the rate limit, safe ``next``, cookies."""

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.auth.views import LOGIN_FAILED, safe_next
from tests.conftest import TEST_PASSWORD, AuthActions


def test_login_page_is_a_plain_form_with_csrf(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert 'name="username"' in html
    assert 'type="password"' in html
    assert 'name="csrf_token"' in html


def test_login_then_admin_then_logout(client: FlaskClient, auth: AuthActions) -> None:
    assert client.get("/admin/vehicles").status_code == 302
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/vehicles"
    assert client.get("/admin/vehicles").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/admin/vehicles").status_code == 302


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong password"), ("nobody", TEST_PASSWORD)]
)
def test_failures_get_one_generic_message(
    client: FlaskClient, auth: AuthActions, username: str, password: str
) -> None:
    response = auth.login(username, password)
    assert response.status_code == 200
    assert LOGIN_FAILED in response.get_data(as_text=True)
    assert client.get("/admin/vehicles").status_code == 302


def test_login_without_csrf_token_is_refused(client: FlaskClient, auth: AuthActions) -> None:
    response = client.post("/login", data={"username": "admin", "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/vehicles").status_code == 302


def test_logout_needs_csrf(client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    client.post("/logout")
    assert client.get("/admin/vehicles").status_code == 200


def test_repeated_failures_are_rate_limited(make_app: Any, users: Any) -> None:
    app = make_app(LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    auth = AuthActions(client)
    statuses = [auth.login("admin", "wrong").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # Even the right password waits until the window has passed.
    assert auth.login().status_code == 429


def test_successful_logins_do_not_count(make_app: Any, users: Any) -> None:
    app = make_app(LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    auth = AuthActions(client)
    for _ in range(4):
        assert auth.login().status_code == 302
        auth.logout()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/audit", "/admin/audit"),
        ("/dash/", "/dash/"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_next_accepts_only_local_paths(target: str, expected: str | None) -> None:
    assert safe_next(target) == expected


def test_login_redirects_to_local_next_only(client: FlaskClient, auth: AuthActions) -> None:
    assert auth.login(next_url="/admin/audit").headers["Location"] == "/admin/audit"
    auth.logout()
    response = auth.login(next_url="https://evil.example/")
    assert response.headers["Location"] == "/admin/vehicles"


def test_session_cookie_flags(client: FlaskClient, auth: AuthActions) -> None:
    response = auth.login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # not production


def test_cookies_are_secure_in_production(make_app: Any, users: Any) -> None:
    app = make_app(ENV_NAME="production", SESSION_COOKIE_SECURE=None)
    from server.config import secure_cookies_default

    secure_cookies_default(app.config)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    override = make_app(ENV_NAME="production", SESSION_COOKIE_SECURE=False)
    assert override.config["SESSION_COOKIE_SECURE"] is False


def test_production_config_from_create_app(monkeypatch: pytest.MonkeyPatch, make_app: Any) -> None:
    monkeypatch.setenv("FUELDASH_ENV", "production")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    app = make_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.parametrize("path", ["/", "/login", "/dash/", "/healthz", "/admin/vehicles"])
def test_security_headers_everywhere(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_editor_cannot_manage_tokens(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("editor")
    assert client.get("/admin/vehicles").status_code == 200
    assert client.get("/admin/tokens").status_code == 403


def test_login_redirect_for_signed_in_user(client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    assert client.get("/login").status_code == 302


def test_app_without_users_still_serves_login(empty_app: Flask) -> None:
    assert empty_app.test_client().get("/login").status_code == 200


REDIS_URI = "redis://127.0.0.1:6379/4"


def _redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URI, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis at 127.0.0.1:6379")
def test_workers_share_failure_counts_through_redis(make_app: Any, users: Any) -> None:
    """Two apps (as two gunicorn workers) count failures from one client together."""
    import random

    config = {"LOGIN_RATE_LIMIT": "3 per minute", "RATELIMIT_STORAGE_URI": REDIS_URI}
    # Counts are kept per client address; a fresh one keeps earlier runs' counts out.
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"

    def client(app: Flask) -> AuthActions:
        test_client = app.test_client()
        test_client.environ_base["REMOTE_ADDR"] = address
        return AuthActions(test_client)

    first = client(make_app(**config))
    assert [first.login("admin", "wrong").status_code for _ in range(2)] == [200, 200]
    second = client(make_app(**config))
    assert second.login("admin", "wrong").status_code == 200
    assert second.login("admin", "wrong").status_code == 429
