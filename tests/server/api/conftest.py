"""Fixtures for the API tests."""

import pytest
from flask import Flask

from models.db import db
from models.user import User, issue_token


@pytest.fixture
def token(app: Flask, users: dict[str, int]) -> str:
    """The secret of an API token belonging to the admin."""
    with app.app_context():
        _token, secret = issue_token(db.session, db.session.get(User, users["admin"]), "test")
        db.session.commit()
    return secret
