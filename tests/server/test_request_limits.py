"""Request bodies are bounded per route: callback and JSON bodies by REQUEST_MAX_BYTES
(1 MB by default), import uploads by IMPORT_MAX_BYTES."""

import io
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from models import Vehicle
from models.db import db
from models.user import User, issue_token
from tests.conftest import AuthActions, csrf_token
from tests.dashapp.helpers import UPDATE_URL, callback_payload

MB = 1024 * 1024


def padded_callback(size: int) -> bytes:
    """A real callback body, padded with an ignored key to ``size`` bytes."""
    body = callback_payload(["Toyota"])
    body["padding"] = ""
    raw = json.dumps(body).encode()
    body["padding"] = "x" * (size - len(raw))
    return json.dumps(body).encode()


def assert_too_large(response: Any, limit: int) -> None:
    assert response.status_code == 413, response.data[:300]
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 413
    assert f"{limit:,} bytes" in problem["detail"]


def test_a_2_mb_callback_body_is_refused(client: FlaskClient) -> None:
    body = padded_callback(2 * MB)
    response = client.post(UPDATE_URL, data=body, content_type="application/json")
    assert_too_large(response, MB)


def test_a_callback_just_under_the_limit_still_works(client: FlaskClient) -> None:
    response = client.post(
        UPDATE_URL, data=padded_callback(MB - 1024), content_type="application/json"
    )
    assert response.status_code == 200, response.data[:300]


def test_a_2_mb_api_body_is_refused_even_without_a_token(app: Flask, client: FlaskClient) -> None:
    # The size is checked before the token, so nobody can make the server read it.
    body = json.dumps({"manufacturer": "Toyota", "model": "x" * 2 * MB})
    response = client.post("/api/v1/vehicles", data=body, content_type="application/json")
    assert_too_large(response, MB)


def test_a_2_mb_api_body_with_a_token_is_refused_and_writes_nothing(
    app: Flask, client: FlaskClient, users: dict[str, int]
) -> None:
    with app.app_context():
        _token, secret = issue_token(db.session, db.session.get(User, users["admin"]), "test")
        db.session.commit()
        before = db.session.query(Vehicle).count()
    body = json.dumps({"manufacturer": "Toyota", "model": "x" * 2 * MB})
    response = client.post(
        "/api/v1/vehicles",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert_too_large(response, MB)
    with app.app_context():
        assert db.session.query(Vehicle).count() == before


def test_a_body_without_a_length_is_still_bounded(client: FlaskClient) -> None:
    # Chunked transfer sends no Content-Length. Werkzeug then reads no more than the limit,
    # so the body arrives cut short: not JSON, a 400.
    response = client.post(
        UPDATE_URL,
        input_stream=io.BytesIO(padded_callback(2 * MB)),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        # As gunicorn says of a chunked body it has de-chunked.
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_the_limit_is_a_setting(make_app: Any) -> None:
    client = make_app(REQUEST_MAX_BYTES=4096).test_client()
    response = client.post(UPDATE_URL, data=padded_callback(5000), content_type="application/json")
    assert_too_large(response, 4096)


def test_a_form_page_says_too_large_as_a_page(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "x" * 2 * MB, "password": "p"})
    assert response.status_code == 413
    assert response.mimetype == "text/html"


def upload(client: FlaskClient, size: int) -> Any:
    rows = "Make,Model,Year\n" + "Toyota,corolla,1975\n" * (size // 20)
    return client.post(
        "/admin/import",
        data={
            "file": (io.BytesIO(rows.encode()), "cars.csv"),
            "dataset": "auto-mpg",
            "csrf_token": csrf_token(client, "/admin/import"),
        },
        content_type="multipart/form-data",
    )


def test_uploads_are_bounded_by_import_max_bytes_not_the_json_limit(
    make_app: Any, users: dict[str, int]
) -> None:
    client = make_app(IMPORT_MAX_BYTES=3 * MB).test_client()
    AuthActions(client).login()
    assert upload(client, 2 * MB).status_code == 200
    assert upload(client, 3 * MB - 4096).status_code == 200
    assert upload(client, 4 * MB).status_code == 413
