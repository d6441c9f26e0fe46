"""Sessions end on the server: a cookie copied before sign-out or a password change no
longer signs anyone in, the CSRF secret changes at sign-in, and a Secure cookie over
plain HTTP gets a hint on the login page."""

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from models.db import db
from models.user import User
from server.auth.views import SECURE_COOKIE_HINT
from tests.conftest import CSRF_FIELD, TEST_PASSWORD, AuthActions, csrf_token

PLAIN = "http://fueldash.example"
HTTPS = "https://fueldash.example"


def form(token: str) -> dict[str, str]:
    return {"username": "admin", "password": TEST_PASSWORD, "csrf_token": token}


def session_cookie(client: FlaskClient, app: Flask) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def replay(app: Flask, cookie: str) -> Any:
    """Open /admin/ from a fresh client that only has the copied cookie."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return other.get("/admin/")


def test_a_copied_cookie_is_dead_after_sign_out(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    copied = session_cookie(client, app)
    assert replay(app, copied).status_code in (200, 302)
    assert "/login" not in replay(app, copied).headers.get("Location", "")
    auth.logout()
    response = replay(app, copied)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_signing_in_again_after_sign_out_works(client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    auth.logout()
    assert auth.login().status_code == 302
    assert client.get("/admin/vehicles").status_code == 200


def test_a_copied_cookie_is_dead_after_a_password_change(
    app: Flask, client: FlaskClient, auth: AuthActions, users: dict[str, int]
) -> None:
    auth.login()
    copied = session_cookie(client, app)
    with app.app_context():
        user = db.session.get(User, users["admin"])
        assert user is not None
        user.set_password("a brand new password")
        db.session.commit()
    response = replay(app, copied)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.get("/admin/vehicles").status_code == 302
    assert auth.login(password="a brand new password").status_code == 302


def test_other_users_sessions_survive_a_sign_out(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    other = app.test_client()
    assert AuthActions(other).login("editor").status_code == 302
    auth.logout()
    assert other.get("/admin/vehicles").status_code == 200


def test_the_csrf_secret_changes_at_sign_in(client: FlaskClient, auth: AuthActions) -> None:
    csrf_token(client)
    with client.session_transaction() as before:
        secret_before = before["csrf_token"]
    auth.login()
    csrf_token(client, "/")
    with client.session_transaction() as after:
        assert after["csrf_token"] != secret_before


def test_secure_cookie_over_plain_http_gets_a_hint(make_app: Any, users: Any) -> None:
    app = make_app(SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    page = client.get("/login", base_url=PLAIN)
    assert "Secure" in page.headers["Set-Cookie"]
    found = CSRF_FIELD.search(page.get_data(as_text=True))
    assert found
    # A browser does not send a Secure cookie back over plain HTTP.
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"], domain="fueldash.example")
    response = client.post("/login", data=form(found.group(1)), base_url=PLAIN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert SECURE_COOKIE_HINT in html
    assert "SESSION_COOKIE_SECURE=0" in html


def test_no_hint_when_the_cookie_is_not_the_cause(client: FlaskClient, auth: AuthActions) -> None:
    response = client.post("/login", data=form(""))
    assert response.status_code == 400
    assert SECURE_COOKIE_HINT not in response.get_data(as_text=True)


def test_no_hint_over_https(make_app: Any, users: Any) -> None:
    app = make_app(SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    response = client.post("/login", data=form(""), base_url=HTTPS)
    assert response.status_code == 400
    assert SECURE_COOKIE_HINT not in response.get_data(as_text=True)
    found = CSRF_FIELD.search(client.get("/login", base_url=HTTPS).get_data(as_text=True))
    assert found
    assert client.post("/login", data=form(found.group(1)), base_url=HTTPS).status_code == 302
