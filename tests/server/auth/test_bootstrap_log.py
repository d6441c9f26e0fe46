"""The admin bootstrap's log says why it was skipped: the database is unreachable, or it
is reachable but not migrated yet."""

import logging
from pathlib import Path
from typing import Any

import pytest

from server.auth.bootstrap import bootstrap_admin

ADMIN = {"ADMIN_USERNAME": "root", "ADMIN_PASSWORD": "first-password"}


def _messages(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "server.auth.bootstrap")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-fueldash-dir/sub/fueldash.sqlite3",
        "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2",
    ],
)
def test_an_unreachable_database_is_called_unreachable(
    make_app: Any, caplog: pytest.LogCaptureFixture, url: str
) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=url, **ADMIN)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="server.auth.bootstrap"):
        assert bootstrap_admin(app) == "unreachable"
    logged = _messages(caplog)
    assert "unreachable" in logged
    assert "migrated" not in logged


def test_an_unmigrated_database_is_called_unmigrated(
    make_app: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/unmigrated.sqlite3", **ADMIN)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="server.auth.bootstrap"):
        assert bootstrap_admin(app) == "no users table"
    logged = _messages(caplog)
    assert "no users table" in logged and "flask db upgrade" in logged
    assert "unreachable" not in logged
