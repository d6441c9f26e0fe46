"""PostgreSQL pool and statement-preparation settings: from the environment into the
engine's options, bad values refused with a message, and ``?prepare_threshold=`` in
DATABASE_URL typed rather than a TypeError on the first query."""

import os
from typing import Any

import pytest
from sqlalchemy import text

from models.db import db
from server.config import ConfigError, default_config, engine_defaults, environment_config

POSTGRES = "postgresql+psycopg://app@db.example/fueldash"
needs_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL (PostgreSQL)"
)


def engine_options(url: str = POSTGRES, **settings: Any) -> dict[str, Any]:
    """The engine options create_app would use for ``url`` with ``settings``."""
    config = {**default_config("/tmp"), "SQLALCHEMY_DATABASE_URI": url, **settings}
    engine_defaults(config)
    options: dict[str, Any] = config["SQLALCHEMY_ENGINE_OPTIONS"]
    return options


def test_pool_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_SIZE", "8")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "0")
    monkeypatch.setenv("DATABASE_POOL_RECYCLE", "1800")
    monkeypatch.setenv("DATABASE_POOL_PRE_PING", "off")
    monkeypatch.setenv("DATABASE_PREPARE_THRESHOLD", "none")
    options = engine_options(**environment_config("/tmp"))
    assert options["pool_size"] == 8
    assert options["max_overflow"] == 0
    assert options["pool_recycle"] == 1800
    assert options["pool_pre_ping"] is False
    assert options["connect_args"]["prepare_threshold"] is None


def test_without_settings_the_pool_keeps_sqlalchemys_defaults() -> None:
    options = engine_options()
    assert options["pool_pre_ping"] is True
    assert not {"pool_size", "max_overflow", "pool_recycle"} & options.keys()
    assert "prepare_threshold" not in options["connect_args"]  # psycopg's own default


def test_a_prepare_threshold_may_be_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_PREPARE_THRESHOLD", "0")
    options = engine_options(**environment_config("/tmp"))
    assert options["connect_args"]["prepare_threshold"] == 0


def test_engine_options_given_outright_win_over_the_settings() -> None:
    given = {"pool_size": 3, "connect_args": {"prepare_threshold": 7}}
    options = engine_options(
        SQLALCHEMY_ENGINE_OPTIONS=given, DATABASE_POOL_SIZE=9, DATABASE_PREPARE_THRESHOLD=None
    )
    assert options["pool_size"] == 3
    assert options["connect_args"]["prepare_threshold"] == 7


def test_sqlite_ignores_the_postgres_pool_settings() -> None:
    options = engine_options("sqlite:///x.db", DATABASE_POOL_SIZE=9, DATABASE_PREPARE_THRESHOLD=0)
    assert options == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_POOL_SIZE", "many"),
        ("DATABASE_MAX_OVERFLOW", "-1"),
        ("DATABASE_POOL_RECYCLE", "0"),
        ("DATABASE_POOL_RECYCLE", "1h"),
        ("DATABASE_POOL_PRE_PING", "maybe"),
        ("DATABASE_PREPARE_THRESHOLD", "never"),
        ("DATABASE_PREPARE_THRESHOLD", "-5"),
    ],
)
def test_bad_database_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"{name}='{value}' must be"):
        environment_config("/tmp")


@pytest.mark.parametrize(("given", "threshold"), [("0", 0), ("none", None), ("12", 12)])
def test_the_urls_prepare_threshold_becomes_a_typed_connect_argument(
    given: str, threshold: int | None
) -> None:
    config = {"SQLALCHEMY_DATABASE_URI": f"{POSTGRES}?prepare_threshold={given}&sslmode=prefer"}
    engine_defaults(config)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"{POSTGRES}?sslmode=prefer"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["prepare_threshold"] == threshold


def test_the_setting_wins_over_the_urls_prepare_threshold() -> None:
    options = engine_options(f"{POSTGRES}?prepare_threshold=0", DATABASE_PREPARE_THRESHOLD=None)
    assert options["connect_args"]["prepare_threshold"] is None


def test_a_bad_prepare_threshold_in_the_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="prepare_threshold='soon' must be"):
        engine_options(f"{POSTGRES}?prepare_threshold=soon")


@needs_postgres
@pytest.mark.parametrize("given", ["0", "none"])
def test_a_database_url_with_prepare_threshold_answers_queries(
    make_app: Any, database_url: str, given: str
) -> None:
    """Before, psycopg compared the URL's text with a number: a TypeError on every query."""
    app = make_app(SQLALCHEMY_DATABASE_URI=f"{database_url}?prepare_threshold={given}")
    with app.app_context(), db.engine.connect() as conn:
        for _ in range(3):  # past psycopg's default threshold, where preparing would start
            assert conn.execute(text("SELECT count(*) FROM vehicles")).scalar_one() >= 0
        assert conn.connection.driver_connection.prepare_threshold == (
            None if given == "none" else 0
        )
