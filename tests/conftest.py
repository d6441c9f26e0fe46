"""Shared fixtures: a real database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set),
migrated once per session and reset to the 406-car sample before each test."""

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Connection, create_engine, delete, inspect, text, update

from models import DataVersion, seed_sample
from models.db import db
from server import create_app


def pytest_report_header() -> str:
    return f"fueldash database: {'PostgreSQL' if os.environ.get('TEST_DATABASE_URL') else 'SQLite'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database every test runs on, migrated from an empty schema."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        drop_everything(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'fueldash-test.sqlite3'}"
    app = create_app(_test_config(url))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return url


def drop_everything(url: str) -> None:
    """Empty a PostgreSQL test database, whatever an earlier run left in it."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in inspect(conn).get_table_names():
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()


def _test_config(url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        **overrides,
    }


def reset_store(conn: Connection) -> None:
    """Delete every row the app owns and put the data version back to 1."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name != DataVersion.__tablename__:
            conn.execute(delete(table))
    conn.execute(update(DataVersion).values(version=1))


@pytest.fixture
def make_app(database_url: str) -> Iterator[Any]:
    """Build apps on the test database, with extra config where a test needs it."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = create_app(_test_config(database_url, **overrides))
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def empty_app(make_app: Any) -> Flask:
    """An app whose store holds no rows at all."""
    app = make_app()
    with app.app_context(), db.engine.begin() as conn:
        reset_store(conn)
    return app


@pytest.fixture
def app(empty_app: Flask) -> Flask:
    """An app whose store holds exactly the 406-car sample."""
    with empty_app.app_context(), db.engine.begin() as conn:
        assert seed_sample(conn) == 406
    return empty_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def conn(app: Flask) -> Iterator[Connection]:
    """A connection to the seeded store, for query tests."""
    with app.app_context(), db.engine.connect() as connection:
        yield connection


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The seeded app served over real HTTP on loopback."""
    from tests.browser import live_server

    with live_server(app) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session, driven by Playwright."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page that fails the test on any page error."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


# --- accounts ------------------------------------------------------------------------------

TEST_PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One real scrypt hash of TEST_PASSWORD, computed once (hashing is slow on purpose)."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(TEST_PASSWORD, method="scrypt")


@pytest.fixture
def users(app: Flask, password_hash: str) -> dict[str, int]:
    """An admin called "admin" and an editor called "editor", both with TEST_PASSWORD."""
    from models.user import User

    with app.app_context():
        accounts = [
            User(username=name, role=name, password_hash=password_hash)
            for name in ("admin", "editor")
        ]
        db.session.add_all(accounts)
        db.session.commit()
        return {user.username: user.id for user in accounts}


def csrf_token(client: FlaskClient, url: str = "/login") -> str:
    """The CSRF token a page's form carries, as a browser would read it."""
    response = client.get(url)
    found = CSRF_FIELD.search(response.get_data(as_text=True))
    assert found, f"no CSRF token in {url} ({response.status_code})"
    return found.group(1)


class AuthActions:
    """Sign the test client in and out through the real login form."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(
        self, username: str = "admin", password: str = TEST_PASSWORD, next_url: str | None = None
    ) -> Any:
        url = "/login" if next_url is None else f"/login?next={next_url}"
        token = csrf_token(self._client, "/login")
        return self._client.post(
            url, data={"username": username, "password": password, "csrf_token": token}
        )

    def logout(self) -> Any:
        token = csrf_token(self._client, "/")
        return self._client.post("/logout", data={"csrf_token": token})

    def csrf(self, url: str) -> str:
        return csrf_token(self._client, url)


@pytest.fixture
def token(app: Flask, users: dict[str, int]) -> str:
    """The secret of an API token belonging to the admin."""
    from models.user import User, issue_token

    with app.app_context():
        _token, secret = issue_token(db.session(), db.session.get(User, users["admin"]), "test")
        db.session.commit()
    return secret


@pytest.fixture
def auth(client: FlaskClient, users: dict[str, int]) -> AuthActions:
    """``auth.login()`` / ``auth.logout()`` for the ``client`` fixture."""
    return AuthActions(client)
