"""The factory, configuration, landing page, health check and error pages."""

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from models.db import db
from server import create_app
from server.config import (
    DEV_SECRET_KEY,
    ConfigError,
    engine_defaults,
    normalize_database_url,
)


def test_landing_page_links_to_the_dashboard(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/dash/"' in page
    assert "406 vehicles from 30 manufacturers" in page
    assert "14 of them lack horsepower or mpg" in page


def test_healthz_ok(client: FlaskClient, app: Flask) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    with app.app_context():
        assert body["database"]["backend"] == db.engine.dialect.name
    assert body["database"]["data_version"] >= 2


def test_healthz_database_unreachable(make_app: Any, tmp_path: Path) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/no/such/dir/x.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["database"]["status"] == "unavailable"
    assert "cannot reach the database" in body["database"]["detail"]


def test_healthz_unmigrated_schema(make_app: Any, tmp_path: Path) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/empty.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "db upgrade" in response.get_json()["database"]["detail"]


def test_not_found_page_has_no_traceback(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)
    problem = client.get("/no/such/page", headers={"Accept": "application/json"}).get_json()
    assert (problem["status"], problem["title"]) == (404, "Not Found")
    assert problem["detail"].startswith("The requested URL was not found")


def test_error_pages_keep_the_headers_their_error_carries(client: FlaskClient) -> None:
    wrong_method = client.delete("/login")
    assert wrong_method.status_code == 405
    assert set(wrong_method.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert "Traceback" not in wrong_method.get_data(as_text=True)


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri == f"sqlite:///{Path(app.instance_path) / 'fueldash.sqlite3'}"


def test_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example:5432/fuel")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example:5432/fuel"
    with app.app_context():
        assert db.engine.dialect.driver == "psycopg"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://a@b/c", "postgresql+psycopg://a@b/c"),
        ("postgresql://a@b/c", "postgresql+psycopg://a@b/c"),
        ("postgresql+psycopg://a@b/c", "postgresql+psycopg://a@b/c"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_normalize_database_url(url: str, expected: str) -> None:
    assert normalize_database_url(url) == expected


@pytest.mark.parametrize(
    ("url", "pre_ping"),
    [("sqlite:///x.db", None), ("postgresql+psycopg://u@h/db", True)],
)
def test_pooled_connections_are_pinged_only_where_a_server_can_drop_them(
    url: str, pre_ping: bool | None
) -> None:
    given = {"echo": False}
    config = {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": given}
    engine_defaults(config)
    assert config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping") is pre_ping
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["echo"] is False
    assert given == {"echo": False}  # the caller's dict is left alone


def test_test_config_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nowhere/x")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUELDASH_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": DEV_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == "a-real-secret"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(make_app: Any, tmp_path: Path) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/wal.sqlite3")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
