"""DASH_LOGIN_REQUIRED puts /dash/ behind the login: the page redirects, XHR answers 401."""

from typing import Any

import pytest
from flask import Flask

from tests.conftest import AuthActions
from tests.dashapp.helpers import UPDATE_URL, callback_payload, point_count, post_figure

DASH_XHR = [
    ("GET", "/dash/_dash-layout"),
    ("GET", "/dash/_dash-dependencies"),
    ("GET", "/dash/_dash-component-suites/dash/deps/polyfill@7.v4_4_1m1.min.js"),
    ("GET", "/dash/assets/dashboard.css"),
    ("GET", "/dash/_reload-hash"),
]


@pytest.fixture
def gated(make_app: Any, users: Any) -> Flask:
    return make_app(DASH_LOGIN_REQUIRED=True)


def test_off_by_default(client: Any) -> None:
    assert client.get("/dash/").status_code == 200
    assert client.get("/dash/_dash-layout").status_code == 200


def test_page_redirects_to_login(gated: Flask) -> None:
    response = gated.test_client().get("/dash/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/dash/"


@pytest.mark.parametrize(("method", "path"), DASH_XHR)
def test_xhr_routes_answer_401_json(gated: Flask, method: str, path: str) -> None:
    response = gated.test_client().open(path, method=method)
    assert response.status_code == 401
    assert response.get_json()["status"] == 401


def test_callbacks_answer_401_then_work_after_login(gated: Flask) -> None:
    client = gated.test_client()
    response = client.post(UPDATE_URL, json=callback_payload("Toyota"))
    assert response.status_code == 401
    AuthActions(client).login(next_url="/dash/")
    assert client.get("/dash/").status_code == 200
    assert client.get("/dash/_dash-layout").status_code == 200
    assert point_count(post_figure(client, "Toyota")) == 26
