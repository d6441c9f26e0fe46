"""The users pages: admins list, create, change role, reset password and deactivate;
editors get 403 on every one of them."""

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models.audit import AuditEntry
from models.db import db
from models.user import User, issue_token
from server.auth.views import DEACTIVATED
from tests.conftest import TEST_PASSWORD, AuthActions
from tests.server.admin.helpers import post_form
from tests.server.admin.test_access import protected_routes

NEW_PASSWORD = "a different long password"


def user_row(app: Flask, username: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


def test_editors_get_403_on_every_users_route(app: Flask, client: FlaskClient, auth: Any) -> None:
    routes = [(m, p) for m, p in protected_routes(app) if p.startswith("/admin/users")]
    assert {("GET", "/admin/users/"), ("POST", "/admin/users/1/active")} <= set(routes)
    auth.login("editor")
    token = auth.csrf("/admin/vehicles")
    for method, path in routes:
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 403, (method, path)
    assert "/admin/users/" not in client.get("/admin/vehicles").get_data(as_text=True)


def test_admins_see_every_user(client: FlaskClient, auth: AuthActions, users: Any) -> None:
    auth.login("admin")
    html = client.get("/admin/users/").get_data(as_text=True)
    names = re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', html)
    assert names == ["admin", "editor"]
    assert re.search(r'<input autocomplete="new-password" [^>]*name="password"', html)
    assert 'href="/admin/users/"' in client.get("/admin/vehicles").get_data(as_text=True)


def test_create_a_user_who_can_then_sign_in(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("admin")
    data = {"username": "carol", "role": "editor", "password": NEW_PASSWORD}
    created = post_form(client, "/admin/users/", data)
    assert created.status_code == 302
    carol = user_row(app, "carol")
    assert carol is not None and carol.role == "editor" and carol.is_active
    auth.logout()
    assert auth.login("carol", NEW_PASSWORD).status_code == 302
    assert client.get("/admin/vehicles").status_code == 200


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"username": "editor", "role": "editor", "password": NEW_PASSWORD}, "already exists"),
        ({"username": "dave", "role": "editor", "password": "short"}, "at least 8 characters"),
        ({"username": "dave", "role": "owner", "password": NEW_PASSWORD}, "Not a valid choice"),
    ],
)
def test_a_bad_new_user_is_refused_with_the_reason(
    app: Flask, client: FlaskClient, auth: AuthActions, data: dict[str, str], reason: str
) -> None:
    auth.login("admin")
    response = post_form(client, "/admin/users/", data)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert user_row(app, "dave") is None


def test_change_role(app: Flask, client: FlaskClient, auth: AuthActions, users: Any) -> None:
    auth.login("admin")
    url = f"/admin/users/{users['editor']}"
    assert post_form(client, f"{url}/role", {"role": "admin"}, url).status_code == 302
    assert user_row(app, "editor").role == "admin"  # type: ignore[union-attr]
    # An admin cannot demote themselves, so some admin always remains.
    own = f"/admin/users/{users['admin']}"
    response = post_form(client, f"{own}/role", {"role": "editor"}, own)
    assert response.status_code == 400
    assert "cannot change your own role" in response.get_data(as_text=True)
    assert user_row(app, "admin").role == "admin"  # type: ignore[union-attr]


def test_reset_password_ends_the_users_sessions(
    app: Flask, client: FlaskClient, auth: AuthActions, users: Any
) -> None:
    editor = app.test_client()
    AuthActions(editor).login("editor")
    assert editor.get("/admin/vehicles").status_code == 200
    auth.login("admin")
    url = f"/admin/users/{users['editor']}"
    short = post_form(client, f"{url}/password", {"password": "short"}, url)
    assert short.status_code == 400
    assert editor.get("/admin/vehicles").status_code == 200  # nothing changed
    assert post_form(client, f"{url}/password", {"password": NEW_PASSWORD}, url).status_code == 302
    assert editor.get("/admin/vehicles").status_code == 302  # signed out
    assert AuthActions(editor).login("editor", TEST_PASSWORD).status_code == 200  # refused
    assert AuthActions(editor).login("editor", NEW_PASSWORD).status_code == 302


def test_deactivate_ends_sessions_refuses_sign_in_and_tokens(
    app: Flask, client: FlaskClient, auth: AuthActions, users: Any
) -> None:
    with app.app_context():
        _token, secret = issue_token(db.session(), db.session.get(User, users["editor"]), "t")
        db.session.commit()
    bearer = {"Authorization": f"Bearer {secret}"}
    editor = app.test_client()
    AuthActions(editor).login("editor")
    auth.login("admin")
    url = f"/admin/users/{users['editor']}"
    assert post_form(client, f"{url}/active", {}, url).status_code == 302
    assert not user_row(app, "editor").is_active  # type: ignore[union-attr]
    assert editor.get("/admin/vehicles").status_code == 302
    refused = AuthActions(editor).login("editor")
    assert refused.status_code == 403
    assert DEACTIVATED in refused.get_data(as_text=True)
    assert editor.get("/admin/vehicles").status_code == 302
    assert client.delete("/api/v1/vehicles/1", headers=bearer).status_code == 401
    # Reactivated, the same password works again.
    assert post_form(client, f"{url}/active", {}, url).status_code == 302
    assert AuthActions(editor).login("editor").status_code == 302


def test_deactivating_a_user_twice_leaves_them_deactivated(
    app: Flask, client: FlaskClient, auth: AuthActions, users: Any
) -> None:
    """Two admins pressing "Deactivate" on one user at once: the second request finds the
    user already deactivated and must not turn the button into "Reactivate"."""
    auth.login("admin")
    url = f"/admin/users/{users['editor']}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="active" value="0"' in page
    assert post_form(client, f"{url}/active", {"active": "0"}, url).status_code == 302
    assert post_form(client, f"{url}/active", {"active": "0"}, url).status_code == 302
    assert not user_row(app, "editor").is_active  # type: ignore[union-attr]
    assert "already deactivated; nothing changed" in client.get(url).get_data(as_text=True)
    assert post_form(client, f"{url}/active", {"active": "1"}, url).status_code == 302
    assert post_form(client, f"{url}/active", {"active": "1"}, url).status_code == 302
    assert user_row(app, "editor").is_active  # type: ignore[union-attr]
    refused = post_form(client, f"{url}/active", {"active": "maybe"}, url)
    assert refused.status_code == 400
    assert user_row(app, "editor").is_active  # type: ignore[union-attr]


def test_an_admin_cannot_deactivate_themselves(
    app: Flask, client: FlaskClient, auth: AuthActions, users: Any
) -> None:
    auth.login("admin")
    url = f"/admin/users/{users['admin']}"
    response = post_form(client, f"{url}/active", {}, url)
    assert response.status_code == 302
    assert "cannot deactivate yourself" in client.get(url).get_data(as_text=True)
    assert user_row(app, "admin").is_active  # type: ignore[union-attr]


def test_users_forms_need_their_csrf_token(
    app: Flask, client: FlaskClient, auth: AuthActions, users: Any
) -> None:
    auth.login("admin")
    url = f"/admin/users/{users['editor']}"
    for action, data in (("role", {"role": "admin"}), ("password", {"password": NEW_PASSWORD})):
        assert client.post(f"{url}/{action}", data=data).status_code == 400
    assert client.post(f"{url}/active").status_code == 400
    assert user_row(app, "editor").role == "editor"  # type: ignore[union-attr]


def test_each_change_to_a_user_is_audited_without_the_password(
    app: Flask, client: FlaskClient, auth: AuthActions, users: Any
) -> None:
    auth.login("admin")
    post_form(
        client, "/admin/users/", {"username": "dan", "role": "editor", "password": NEW_PASSWORD}
    )
    url = f"/admin/users/{users['editor']}"
    post_form(client, f"{url}/role", {"role": "admin"}, url)
    post_form(client, f"{url}/password", {"password": NEW_PASSWORD}, url)
    post_form(client, f"{url}/active", {}, url)
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        logged = [(e.actor, e.action, e.before, e.after) for e in entries]
    assert logged == [
        ("admin", "user-create", None, {"user": "dan", "role": "editor"}),
        (
            "admin",
            "user-role",
            {"user": "editor", "role": "editor"},
            {"user": "editor", "role": "admin"},
        ),
        ("admin", "user-password", None, {"user": "editor"}),
        (
            "admin",
            "user-deactivate",
            {"user": "editor", "active": True},
            {"user": "editor", "active": False},
        ),
    ]
    assert NEW_PASSWORD not in client.get("/admin/audit").get_data(as_text=True)


@pytest.mark.parametrize("user_id", ["0", "2147483648", "99999999999999999999"])
def test_a_user_id_no_user_can_have_is_a_404(
    client: FlaskClient, auth: AuthActions, users: Any, user_id: str
) -> None:
    auth.login("admin")
    assert client.get(f"/admin/users/{user_id}").status_code == 404
    token = auth.csrf("/admin/users/")
    response = client.post(f"/admin/users/{user_id}/active", data={"csrf_token": token})
    assert response.status_code == 404


def test_a_name_taken_between_the_check_and_the_commit_is_refused(
    client: FlaskClient, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As when another admin creates the same name at the same moment: the check finds no
    # such user, and the database's unique constraint refuses the second insert.
    auth.login("admin")
    monkeypatch.setattr("models.user.find_user", lambda _session, _name: None)
    data = {"username": "editor", "role": "editor", "password": NEW_PASSWORD}
    response = post_form(client, "/admin/users/", data)
    assert response.status_code == 400
    assert "Not created: a user named &#39;editor&#39; exists." in response.get_data(as_text=True)
