"""``flask --app wsgi users set-password NAME``: a new password through ``User.set_password``,
which ends every session signed in before."""

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from models.db import db
from models.user import User
from tests.conftest import TEST_PASSWORD, AuthActions

NEW_PASSWORD = "a fresh password from the shell"


def _password_hash(app: Flask, user_id: int) -> str:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return user.password_hash


def test_set_password_from_stdin_ends_earlier_sessions(
    app: Flask,
    runner: FlaskCliRunner,
    client: FlaskClient,
    auth: AuthActions,
    users: dict[str, int],
) -> None:
    assert auth.login().status_code == 302
    assert client.get("/admin/vehicles").status_code == 200

    result = runner.invoke(
        args=["users", "set-password", "admin", "--password-stdin"], input=f"{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Set a new password for 'admin'" in result.output

    # The session signed in before the change is over, on the server side.
    response = client.get("/admin/vehicles")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    with app.app_context():
        user = db.session.get(User, users["admin"])
        assert user is not None
        assert user.session_generation == 2
        assert user.check_password(NEW_PASSWORD) and not user.check_password(TEST_PASSWORD)
    fresh = AuthActions(app.test_client())
    assert fresh.login(password=TEST_PASSWORD).status_code == 200  # the form again
    assert fresh.login(password=NEW_PASSWORD).status_code == 302
    # The other user is untouched.
    editor = AuthActions(app.test_client())
    assert editor.login("editor", TEST_PASSWORD).status_code == 302


def test_set_password_prompts_twice(
    app: Flask, runner: FlaskCliRunner, users: dict[str, int]
) -> None:
    result = runner.invoke(
        args=["users", "set-password", "editor"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    with app.app_context():
        user = db.session.get(User, users["editor"])
        assert user is not None and user.check_password(NEW_PASSWORD)


def test_set_password_refuses_unknown_users_and_short_passwords(
    app: Flask,
    runner: FlaskCliRunner,
    client: FlaskClient,
    auth: AuthActions,
    users: dict[str, int],
) -> None:
    before = _password_hash(app, users["admin"])
    assert auth.login().status_code == 302

    unknown = runner.invoke(
        args=["users", "set-password", "nobody", "--password-stdin"], input=f"{NEW_PASSWORD}\n"
    )
    assert unknown.exit_code == 1
    assert "there is no user named 'nobody'" in unknown.output

    short = runner.invoke(args=["users", "set-password", "admin", "--password-stdin"], input="x\n")
    assert short.exit_code == 1
    assert "the password must be at least" in short.output

    # Nothing changed: same hash, and the signed-in session goes on.
    assert _password_hash(app, users["admin"]) == before
    assert client.get("/admin/vehicles").status_code == 200
