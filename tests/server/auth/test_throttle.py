"""The login form's failure count: what counts, where counts live, and bad settings."""

import logging
import uuid
from typing import Any

import pytest

from server.auth.views import TOO_MANY_FAILURES
from server.config import ConfigError
from tests.conftest import TEST_PASSWORD, AuthActions

REDIS_URL = "redis://127.0.0.1:6379/3"


def test_forged_posts_count_as_failures(make_app: Any, users: Any) -> None:
    client = make_app(LOGIN_RATE_LIMIT="2 per minute").test_client()
    no_token = {"username": "admin", "password": TEST_PASSWORD}
    assert [client.post("/login", data=no_token).status_code for _ in range(3)] == [400, 400, 429]
    assert TOO_MANY_FAILURES in client.post("/login", data=no_token).get_data(as_text=True)


def test_a_refused_attempt_says_when_to_retry(make_app: Any, users: Any) -> None:
    auth = AuthActions(make_app(LOGIN_RATE_LIMIT="1 per minute").test_client())
    assert auth.login("admin", "wrong").status_code == 200
    refused = auth.login()
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert TOO_MANY_FAILURES in refused.get_data(as_text=True)


def test_every_limit_of_a_combined_setting_counts(make_app: Any, users: Any) -> None:
    auth = AuthActions(make_app(LOGIN_RATE_LIMIT="5 per minute; 2 per hour").test_client())
    assert [auth.login("admin", "wrong").status_code for _ in range(3)] == [200, 200, 429]
    assert int(auth.login().headers["Retry-After"]) > 60  # the hourly window decides


def test_the_limit_is_per_client_address(make_app: Any, users: Any) -> None:
    client = make_app(LOGIN_RATE_LIMIT="1 per minute").test_client()
    auth = AuthActions(client)
    assert auth.login("admin", "wrong").status_code == 200
    assert auth.login("admin", "wrong").status_code == 429
    token = auth.csrf("/login")
    elsewhere = client.post(
        "/login",
        data={"username": "admin", "password": TEST_PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert elsewhere.status_code == 302


def test_workers_sharing_redis_share_the_count(make_app: Any, users: Any) -> None:
    shared = {
        "LOGIN_RATE_LIMIT": "2 per minute",
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"fueldash-test-{uuid.uuid4().hex}",
    }
    first = AuthActions(make_app(**shared).test_client())
    second = AuthActions(make_app(**shared).test_client())
    assert first.login("admin", "wrong").status_code == 200
    assert second.login("admin", "wrong").status_code == 200
    assert first.login().status_code == 429
    assert second.login().status_code == 429


def test_an_unreachable_store_does_not_lock_anyone_out(
    make_app: Any, users: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(LOGIN_RATE_LIMIT="1 per minute", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    auth = AuthActions(app.test_client())
    with caplog.at_level(logging.WARNING, logger="server.auth.throttle"):
        assert auth.login("admin", "wrong").status_code == 200
        assert auth.login().status_code == 302
    assert "rate-limit store unreachable" in caplog.text


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("LOGIN_RATE_LIMIT", "five a minute", "is not a rate limit"),
        ("RATELIMIT_STORAGE_URI", "carrier-pigeon://loft", "cannot be used"),
    ],
)
def test_bad_settings_stop_the_app_with_a_clear_message(
    make_app: Any, setting: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        make_app(**{setting: value})
