"""There is always an active admin: two admins demoting or deactivating each other at the
same moment leave one of them an admin (PostgreSQL, two real concurrent requests), and a
change the check refuses is a 409 with the reason, never a 500."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, select, text, update

from models.db import db
from models.user import AdminChangeRefused, User, check_admin_change
from tests.conftest import AuthActions, csrf_token

NO_LONGER = "you are no longer an active admin"


@pytest.fixture
def admins(app: Flask, users: dict[str, int], password_hash: str) -> dict[str, int]:
    """Two admins, "admin" and "bob", and the editor."""
    with app.app_context():
        bob = User(username="bob", role="admin", password_hash=password_hash)
        db.session.add(bob)
        db.session.commit()
        return {**users, "bob": bob.id}


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302
    return client


def active_admins(app: Flask) -> list[str]:
    with app.app_context():
        found = select(User.username).where(User.role == "admin", User.active).order_by(User.id)
        return list(db.session.scalars(found))


def change(client: FlaskClient, user_id: int, action: str) -> tuple[int, str]:
    """What the users page answers to demoting (``role``) or deactivating ``user_id``."""
    url = f"/admin/users/{user_id}"
    data = {"role": "editor"} if action == "role" else {}
    data["csrf_token"] = csrf_token(client, "/")  # the header's sign-out form has one
    response = client.post(f"{url}/{action}", data=data)
    return response.status_code, response.get_data(as_text=True)


def test_one_after_the_other_the_demoted_admin_is_refused(
    app: Flask, admins: dict[str, int]
) -> None:
    alice, bob = signed_in(app, "admin"), signed_in(app, "bob")
    assert change(bob, admins["admin"], "role")[0] == 302
    assert change(alice, admins["bob"], "role")[0] == 403  # no longer an admin at the door
    assert change(alice, admins["bob"], "active")[0] == 403
    assert active_admins(app) == ["bob"]


def test_the_check_sees_a_demotion_committed_after_the_request_read(
    app: Flask, admins: dict[str, int]
) -> None:
    with app.app_context():
        bob = db.session.get(User, admins["bob"])
        alice = db.session.get(User, admins["admin"])
        assert bob is not None and alice is not None and bob.is_admin
        # Another admin's request demotes bob after bob's request has let him in.
        with db.engine.begin() as other:
            other.execute(update(User).where(User.id == admins["bob"]).values(role="editor"))
        with pytest.raises(AdminChangeRefused, match=NO_LONGER):
            check_admin_change(db.session(), bob, alice)
        db.session.rollback()
    assert active_admins(app) == ["admin"]


def test_the_last_active_admin_cannot_be_taken_away(app: Flask, users: dict[str, int]) -> None:
    with app.app_context():
        only = db.session.get(User, users["admin"])
        editor = db.session.get(User, users["editor"])
        assert only is not None and editor is not None
        with pytest.raises(AdminChangeRefused, match="admin is the last active admin"):
            check_admin_change(db.session(), None, only)
        check_admin_change(db.session(), None, editor)  # promoting someone is fine
        check_admin_change(db.session(), only, editor)
        db.session.rollback()


@pytest.mark.parametrize("bobs_action", ["role", "active"])
def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    app: Flask, admins: dict[str, int], database_url: str, bobs_action: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL's row locks (SQLite has one writer at a time)")
    alice, bob = signed_in(app, "admin"), signed_in(app, "bob")
    engine = create_engine(database_url)
    try:
        with engine.connect() as holder, ThreadPoolExecutor(2) as pool:
            # Hold both admins' rows so that both requests get past the sign-in check and
            # then wait on the rows together; letting go starts the race.
            holder.execute(
                select(User.id)
                .where(User.id.in_([admins["admin"], admins["bob"]]))
                .with_for_update()
            )
            futures = [
                pool.submit(change, alice, admins["bob"], "role"),
                pool.submit(change, bob, admins["admin"], bobs_action),
            ]
            wait_until_waiting_on_locks(engine, 2, futures)
            holder.rollback()
            answers = [future.result(timeout=60) for future in futures]
    finally:
        engine.dispose()
    statuses = sorted(status for status, _page in answers)
    assert statuses == [302, 409], answers
    refusal = next(page for status, page in answers if status == 409)
    assert "Not changed: you are no longer an active admin" in refusal
    assert len(active_admins(app)) == 1


def wait_until_waiting_on_locks(engine: Engine, count: int, futures: list[Any]) -> None:
    """Poll PostgreSQL until ``count`` sessions of this database wait on a lock."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 60
    # Each poll in a transaction of its own: the activity view is read once per transaction.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        while watcher.scalar(waiting) < count:
            finished = [future for future in futures if future.done()]
            assert not finished, [future.result() for future in finished]
            assert time.monotonic() < deadline, "the requests never waited on the locked rows"
            time.sleep(0.05)
