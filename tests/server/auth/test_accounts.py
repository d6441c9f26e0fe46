"""Accounts: the ``users create`` command and the ADMIN_USERNAME bootstrap."""

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from models.db import db
from models.user import User, find_user
from server.auth.bootstrap import bootstrap_admin


def _user(app: Flask, name: str) -> User | None:
    with app.app_context():
        user = find_user(db.session, name)
        if user is not None:
            db.session.expunge(user)
        return user


def test_users_create_reads_password_from_stdin(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "alice", "--role", "admin", "--password-stdin"],
        input="s3cret-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin 'alice'" in result.output
    user = _user(app, "alice")
    assert user is not None and user.role == "admin"
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("s3cret-password")


def test_users_create_prompts_twice(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "bob"], input="long-enough-pw\nlong-enough-pw\n"
    )
    assert result.exit_code == 0, result.output
    assert _user(app, "bob").role == "editor"  # type: ignore[union-attr]


def test_users_create_refuses_duplicates_and_short_passwords(
    app: Flask, runner: FlaskCliRunner
) -> None:
    args = ["users", "create", "carol", "--password-stdin"]
    assert runner.invoke(args=args, input="short\n").exit_code == 1
    assert runner.invoke(args=args, input="long-enough-pw\n").exit_code == 0
    again = runner.invoke(args=args, input="another-password\n")
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert "Traceback" not in again.output


@pytest.mark.parametrize("username", ["bad\udcffname", "nul\x00name"])
def test_users_create_refuses_names_that_cannot_be_stored(
    app: Flask, runner: FlaskCliRunner, username: str
) -> None:
    # A byte that is not UTF-8 reaches Python's argv as a lone surrogate.
    result = runner.invoke(
        args=["users", "create", username, "--password-stdin"], input="pw-long-enough\n"
    )
    assert result.exit_code == 1
    assert "cannot hold NUL or bytes that are not UTF-8" in result.output
    assert "Traceback" not in result.output


def test_bootstrap_creates_the_admin_once(make_app: Any, app: Flask) -> None:
    booted = make_app(ADMIN_USERNAME="root", ADMIN_PASSWORD="first-password")
    user = _user(booted, "root")
    assert user is not None and user.role == "admin"
    assert user.check_password("first-password")
    # A restart with another password must not change the existing user's.
    again = make_app(ADMIN_USERNAME="root", ADMIN_PASSWORD="second-password")
    assert bootstrap_admin(again) == "exists"
    assert _user(again, "root").check_password("first-password")  # type: ignore[union-attr]
    with again.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_bootstrap_without_tables_does_not_crash(make_app: Any, tmp_path: Path) -> None:
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/unmigrated.sqlite3",
        ADMIN_USERNAME="root",
        ADMIN_PASSWORD="first-password",
    )
    assert bootstrap_admin(app) == "no users table"
    assert app.test_client().get("/login").status_code == 200


def test_bootstrap_unconfigured_does_nothing(app: Flask) -> None:
    assert bootstrap_admin(app) == "not configured"
