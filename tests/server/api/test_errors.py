"""Every API error is RFC 9457 problem JSON: 404, 405, 406, 422 and 500, debug mode or not."""

import gc
from typing import Any

import pytest
from dash import Dash
from flask import Flask
from flask.testing import FlaskClient

from tests.server.api.helpers import API, vehicle_id

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.content_type == PROBLEM
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<html" not in text.lower()
    return body


def dash_app_of(app: Flask) -> Dash:
    """The Dash app the factory mounted on ``app``."""
    return next(o for o in gc.get_objects() if isinstance(o, Dash) and o.server is app)


def break_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the manufacturers query fail the way a bug would."""

    def broken(*_args: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("server.api.views.manufacturer_summaries", broken)


def check_every_error(client: FlaskClient) -> None:
    assert_problem(client.get(f"{API}/no-such-thing"), 404)
    assert_problem(client.get(f"{API}/vehicles/{vehicle_id(client, last=True) + 1}"), 404)
    not_allowed = assert_problem(client.delete(f"{API}/vehicles"), 405)
    assert not_allowed["title"] == "Method Not Allowed"
    assert_problem(client.get(f"{API}/vehicles", headers={"Accept": "application/xml"}), 406)
    assert_problem(client.get(f"{API}/vehicles?limit=abc"), 422)
    failure = assert_problem(client.get(f"{API}/manufacturers"), 500)
    assert "secret internal detail" not in failure["detail"]


def test_errors_are_problem_details(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    break_the_store(monkeypatch)
    check_every_error(client)
    assert "secret internal detail" in caplog.text  # logged for us, not shown to clients


def test_errors_are_problem_details_with_dash_debug_on(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    dash_app_of(app).enable_dev_tools(debug=True, dev_tools_hot_reload=False)
    # Dash's debug mode took over the app-wide handler of unexpected exceptions.
    assert app.error_handler_spec[None][None][Exception].__name__ == "_wrap_errors"
    break_the_store(monkeypatch)
    client = app.test_client()
    check_every_error(client)
    # Dash's own error pages are Dash's business; they still answer with debug tooling.
    assert client.get("/no/such/page").status_code == 404


def test_405_names_the_allowed_methods(client: FlaskClient) -> None:
    response = client.post(f"{API}/stats?group_by=year")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_non_api_errors_keep_their_html_page(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")


def test_sql_looking_text_is_just_text(client: FlaskClient) -> None:
    for query in ("q='; DROP TABLE vehicles; --", "manufacturer=x') OR ('1'='1"):
        body = client.get(f"{API}/vehicles?{query}").get_json()
        assert body["total"] == 0
    assert client.get(f"{API}/vehicles").get_json()["total"] == 406


def test_json_errors_outside_the_api_have_the_same_shape(client: FlaskClient) -> None:
    as_json = {"Accept": "application/json"}
    body = assert_problem(client.get("/no/such/page", headers=as_json), 404)
    assert (body["type"], body["title"]) == ("about:blank", "Not Found")
    wrong_method = client.delete("/healthz")
    assert_problem(wrong_method, 405)
    assert "GET" in wrong_method.headers["Allow"]
