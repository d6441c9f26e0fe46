"""FUELDASH_PRIVATE puts every read behind sign-in or a bearer token: /dash/ as with
DASH_LOGIN_REQUIRED, and every GET/HEAD under /api/v1; the API docs, /healthz and /login
stay open."""

from typing import Any

import pytest
from flask import Flask

from tests.conftest import AuthActions
from tests.dashapp.helpers import UPDATE_URL, callback_payload
from tests.server.api.helpers import bearer

READS = ["/api/v1/vehicles", "/api/v1/manufacturers", "/api/v1/stats", "/api/v1/vehicles/1"]
OPEN = ["/api/v1/openapi.json", "/api/v1/docs", "/healthz", "/login"]


@pytest.fixture
def private(make_app: Any, app: Flask, users: dict[str, int]) -> Flask:
    """An app on the seeded store, with the users, in private mode."""
    built: Flask = make_app(FUELDASH_PRIVATE=True)
    return built


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_anonymous_api_reads_answer_401(private: Flask, method: str, path: str) -> None:
    response = private.test_client().open(path, method=method)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if method == "GET":
        assert response.get_json()["status"] == 401
        assert "/login" in response.get_json()["detail"]


def test_unknown_token_answers_401(private: Flask) -> None:
    response = private.test_client().get("/api/v1/vehicles", headers=bearer("fd_not-a-token"))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_bearer_token_reads(private: Flask, token: str) -> None:
    response = private.test_client().get("/api/v1/vehicles", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["items"]
    # The answer depends on who asks: no shared cache may keep it.
    assert "private" in response.headers["Cache-Control"]


def test_signed_in_session_reads(private: Flask) -> None:
    client = private.test_client()
    AuthActions(client).login(username="editor")
    response = client.get("/api/v1/vehicles")
    assert response.status_code == 200
    assert "private" in response.headers["Cache-Control"]
    assert client.get("/api/v1/manufacturers").status_code == 200


@pytest.mark.parametrize("path", OPEN)
def test_docs_health_and_login_stay_open(private: Flask, path: str) -> None:
    assert private.test_client().get(path).status_code == 200


def test_dash_page_redirects_to_login(private: Flask) -> None:
    response = private.test_client().get("/dash/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/dash/"


def test_dash_callbacks_answer_401(private: Flask) -> None:
    client = private.test_client()
    assert client.post(UPDATE_URL, json=callback_payload("Toyota")).status_code == 401
    assert client.get("/dash/_dash-layout").status_code == 401
    AuthActions(client).login()
    assert client.post(UPDATE_URL, json=callback_payload("Toyota")).status_code == 200


def test_off_by_default_everything_reads_anonymously(app: Flask) -> None:
    client = app.test_client()
    assert not app.config["FUELDASH_PRIVATE"]
    response = client.get("/api/v1/vehicles")
    assert response.status_code == 200
    assert "private" not in response.headers["Cache-Control"]
    assert client.get("/dash/").status_code == 200
    assert client.post(UPDATE_URL, json=callback_payload("Toyota")).status_code == 200
    # Writes still need a token.
    assert client.post("/api/v1/vehicles", json={}).status_code == 401


def test_dash_login_required_alone_leaves_the_api_open(make_app: Any, app: Flask) -> None:
    gated = make_app(DASH_LOGIN_REQUIRED=True).test_client()
    assert gated.get("/dash/").status_code == 302
    assert gated.get("/api/v1/vehicles").status_code == 200


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False), ("yes", True)])
def test_environment_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, value: str, expected: bool
) -> None:
    from server.config import environment_config

    monkeypatch.setenv("FUELDASH_PRIVATE", value)
    assert environment_config(str(tmp_path))["FUELDASH_PRIVATE"] is expected
