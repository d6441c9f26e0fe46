"""API tokens at /admin/tokens: created by admins, shown once, stored hashed, revocable."""

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models.db import db
from models.user import ApiToken, hash_token
from tests.server.admin.helpers import post_form


def create_token(client: FlaskClient, name: str = "laptop") -> str:
    """Create a token through the page and return the secret it shows once."""
    html = post_form(client, "/admin/tokens", {"name": name}).get_data(as_text=True)
    found = re.search(r'<pre class="secret" id="new-token">([^<]+)</pre>', html)
    assert found, html[-800:]
    return found.group(1)


def test_token_is_shown_once_and_stored_hashed(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    secret = create_token(client)
    assert len(secret) > 40
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.token_hash == hash_token(secret)
        assert secret not in token.token_hash
    again = client.get("/admin/tokens").get_data(as_text=True)
    assert secret not in again
    assert "laptop" in again and "active" in again


def test_revoke(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    create_token(client)
    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).one()
    response = post_form(client, f"/admin/tokens/{token_id}/revoke", {}, "/admin/tokens")
    assert response.status_code == 302
    assert "revoked" in client.get("/admin/tokens").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None  # type: ignore[union-attr]


def test_cannot_revoke_someone_elses_token(
    app: Flask, client: FlaskClient, auth: Any, make_app: Any
) -> None:
    auth.login()
    create_token(client)
    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).one()
        db.session.execute(
            ApiToken.__table__.update().values(
                user_id=db.session.scalar(select(ApiToken.user_id)) + 1
            )
        )
        db.session.commit()
    response = post_form(client, f"/admin/tokens/{token_id}/revoke", {}, "/admin/tokens")
    assert response.status_code == 404
