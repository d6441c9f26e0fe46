"""Outages: when PostgreSQL or Redis refuses, resets or black-holes, every surface answers
fast (503 with Retry-After where the database is needed) and recovers without a restart.

Faults are injected with ``tests.faultproxy`` in front of the real servers. Tests that need
PostgreSQL behind the proxy run only when TEST_DATABASE_URL is set; the Redis ones need
the Redis at 127.0.0.1:6379.
"""

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from models.db import db
from server import create_app
from server.config import engine_defaults, environment_config
from tests.conftest import TEST_PASSWORD, AuthActions
from tests.dashapp.helpers import UPDATE_URL, callback_payload
from tests.faultproxy import FaultProxy

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_DB = 12  # this module's own database number
PG_URL = os.environ.get("TEST_DATABASE_URL")
needs_postgres = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
#: A PostgreSQL address where nothing listens.
REFUSING_URL = "postgresql+psycopg://postgres@127.0.0.1:1/fueldash"


def _redis_up() -> bool:
    try:
        socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=0.5).close()
    except OSError:
        return False
    return True


needs_redis = pytest.mark.skipif(not _redis_up(), reason="needs Redis on 127.0.0.1:6379")


def timed(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


@pytest.fixture
def refusing_app() -> Iterator[Flask]:
    """An app whose PostgreSQL refuses every connection."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": REFUSING_URL,
            "DATABASE_CONNECT_TIMEOUT": 1,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


# --- PostgreSQL refusing connections --------------------------------------------------


def test_api_answers_503_problem_with_retry_after(refusing_app: Flask) -> None:
    response = refusing_app.test_client().get("/api/v1/vehicles")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["status"] == 503
    assert "database" in body["detail"].lower()


def test_sign_in_answers_a_friendly_503_page(refusing_app: Flask) -> None:
    response = refusing_app.test_client().post(
        "/login", data={"username": "admin", "password": "x"}
    )
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert "try again" in page.lower()
    assert "Traceback" not in page and "OperationalError" not in page


def test_admin_of_a_signed_in_user_answers_503(refusing_app: Flask) -> None:
    client = refusing_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:1"  # Flask-Login loads the user (id:generation) from the db
    response = client.get("/admin/vehicles")
    assert response.status_code == 503
    assert response.mimetype == "text/html"


def test_healthz_says_the_database_is_unreachable(refusing_app: Flask) -> None:
    response, seconds = timed(refusing_app.test_client().get, "/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"]["status"] == "unavailable"
    assert seconds < 2


# --- Timeout settings -------------------------------------------------------------------


def test_timeouts_have_defaults_and_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config: dict[str, Any] = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://h/db"}
    from server.config import default_config

    config = {**default_config("/tmp"), **config}
    engine_defaults(config)
    options = config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"]["connect_timeout"] == 3
    assert "statement_timeout=10000" in options["connect_args"]["options"]
    assert options["pool_timeout"] == 3

    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT", "1.5")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT", "4")
    monkeypatch.setenv("REDIS_SOCKET_TIMEOUT", "0.25")
    config.update(environment_config("/tmp"), SQLALCHEMY_ENGINE_OPTIONS={})
    engine_defaults(config)
    options = config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"]["connect_timeout"] == 2
    assert "statement_timeout=1500" in options["connect_args"]["options"]
    assert options["pool_timeout"] == 4
    assert config["REDIS_SOCKET_TIMEOUT"] == 0.25


def test_bad_timeout_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from server.config import ConfigError

    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="DATABASE_CONNECT_TIMEOUT"):
        environment_config("/tmp")


def test_sqlite_gets_no_postgres_options() -> None:
    config: dict[str, Any] = {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"}
    engine_defaults(config)
    assert "connect_args" not in config["SQLALCHEMY_ENGINE_OPTIONS"]


@needs_postgres
def test_a_long_statement_is_cancelled(make_app: Any) -> None:
    app = make_app(DATABASE_STATEMENT_TIMEOUT=0.3)
    with (
        app.app_context(),
        db.engine.connect() as conn,
        pytest.raises(OperationalError, match="statement timeout"),
    ):
        conn.execute(text("SELECT pg_sleep(3)"))


# --- Fault injection --------------------------------------------------------------------


@pytest.fixture
def redis_proxy() -> Iterator[FaultProxy]:
    with FaultProxy(REDIS_HOST, REDIS_PORT) as proxy:
        yield proxy


def _redis_config(proxy: FaultProxy) -> dict[str, Any]:
    url = f"redis://127.0.0.1:{proxy.port}/{REDIS_DB}"
    return {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": url,
        "CACHE_KEY_PREFIX": f"outage-{uuid.uuid4().hex}:",
        "RATELIMIT_STORAGE_URI": url,
        "RATELIMIT_KEY_PREFIX": f"outage-{uuid.uuid4().hex}",
    }


@needs_redis
def test_redis_black_hole_neither_hangs_nor_fails(
    make_app: Any, users: Any, redis_proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(**_redis_config(redis_proxy))
    client = app.test_client()
    assert client.post(UPDATE_URL, json=callback_payload("Ford")).status_code == 200
    assert client.get("/healthz").get_json()["redis"]["status"] == "ok"

    redis_proxy.set_mode("blackhole")
    caplog.set_level(logging.WARNING)
    for maker in ("Ford", "Toyota", "Honda"):  # uncached and cached selections alike
        response, seconds = timed(client.post, UPDATE_URL, json=callback_payload(maker))
        assert response.status_code == 200
        assert seconds < 5
    auth = AuthActions(client)
    (signed_in, seconds) = timed(auth.login, "admin", TEST_PASSWORD)
    assert signed_in.status_code == 302 and seconds < 5
    health, seconds = timed(client.get, "/healthz")
    assert seconds < 2
    assert health.status_code == 200  # degraded, not down
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["redis"]["status"] == "unavailable"
    cache_warnings = [r for r in caplog.records if r.name == "dashapp.cache"]
    # One warning per interval (none if an earlier test's failure opened this interval).
    assert len(cache_warnings) <= 1, [r.getMessage() for r in cache_warnings]
    assert all(r.exc_info is None for r in cache_warnings)

    redis_proxy.set_mode("pass")
    health = client.get("/healthz")
    assert health.get_json()["redis"]["status"] == "ok"
    assert health.get_json()["status"] == "ok"


@needs_redis
def test_redis_reset_is_survived(make_app: Any, users: Any, redis_proxy: FaultProxy) -> None:
    client = make_app(**_redis_config(redis_proxy)).test_client()
    redis_proxy.set_mode("reset")
    assert client.post(UPDATE_URL, json=callback_payload("Ford")).status_code == 200
    assert AuthActions(client).login("admin", "wrong").status_code == 200
    assert client.get("/healthz").get_json()["status"] == "degraded"


def _app_reaching_postgres_at(url: URL) -> Flask:
    """An app on the test database at another address, with a 1 s connect timeout."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "DATABASE_CONNECT_TIMEOUT": 1,
            "CACHE_TYPE": "NullCache",
        }
    )


@pytest.fixture
def pg_proxy() -> Iterator[FaultProxy]:
    assert PG_URL
    url = make_url(PG_URL)
    with FaultProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        yield proxy


@needs_postgres
def test_postgres_black_hole_answers_503_fast_and_recovers(
    app: Flask, pg_proxy: FaultProxy
) -> None:
    assert PG_URL
    proxied = make_url(PG_URL).set(host="127.0.0.1", port=pg_proxy.port)
    outage_app = _app_reaching_postgres_at(proxied)
    client = outage_app.test_client()
    try:
        assert client.get("/api/v1/vehicles?limit=1").status_code == 200

        pg_proxy.set_mode("blackhole")
        # A loopback proxy's kernel acknowledges what it is sent, so the pooled
        # connections would wait for a reply forever; in a real partition the unacknowledged
        # send ends them (tcp_user_timeout). New connections meet the black hole here.
        with outage_app.app_context():
            db.engine.dispose()
        response, seconds = timed(client.get, "/api/v1/vehicles?limit=1")
        assert response.status_code == 503, response.data
        assert response.headers["Retry-After"]
        assert seconds < 5
        figure, seconds = timed(client.post, UPDATE_URL, json=callback_payload("Ford"))
        assert figure.status_code == 200 and seconds < 5
        assert "unavailable" in figure.get_data(as_text=True)
        health, seconds = timed(client.get, "/healthz")
        assert health.status_code == 503 and seconds < 2

        pg_proxy.set_mode("pass")
        assert client.get("/api/v1/vehicles?limit=1").status_code == 200
        assert client.get("/healthz").status_code == 200
    finally:
        with outage_app.app_context():
            db.engine.dispose()


# --- A real partition under a pooled connection ---------------------------------------


def _can_partition() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


class NetworkPartition:
    """PostgreSQL reached across a veth pair into a network namespace, whose end can be
    taken down: the packets of open connections are then dropped unanswered, as in a real
    partition (a loopback proxy cannot do this, as the kernel acknowledges what it gets).

    app -> NS_IP:5432 (a forwarder inside the namespace) -> HOST_IP (a FaultProxy) -> the
    real PostgreSQL.
    """

    def __init__(self, pg_host: str, pg_port: int) -> None:
        tag = os.getpid() % 100_000
        self.netns, self.host_end, self.ns_end = f"fd-part-{tag}", f"fdh{tag}", f"fdn{tag}"
        subnet = f"10.213.{tag % 250}"
        self.host_ip, self.ns_ip = f"{subnet}.1", f"{subnet}.2"
        self._run("ip", "netns", "add", self.netns)
        self._run("ip", "link", "add", self.host_end, "type", "veth", "peer", "name", self.ns_end)
        self._run("ip", "link", "set", self.ns_end, "netns", self.netns)
        self._run("ip", "addr", "add", f"{self.host_ip}/24", "dev", self.host_end)
        self._run("ip", "link", "set", self.host_end, "up")
        self._in_netns("ip", "addr", "add", f"{self.ns_ip}/24", "dev", self.ns_end)
        self._in_netns("ip", "link", "set", self.ns_end, "up")
        self.proxy = FaultProxy(pg_host, pg_port, listen_host=self.host_ip)
        forwarder = [sys.executable, "-m", "tests.faultproxy"]
        forwarder += [self.ns_ip, "5432", self.host_ip, str(self.proxy.port)]
        self.forwarder = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, *forwarder],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert self.forwarder.stdout is not None
        self.forwarder.stdout.readline()  # listening

    def _run(self, *command: str) -> None:
        subprocess.run(command, check=True, capture_output=True)

    def _in_netns(self, *command: str) -> None:
        self._run("ip", "netns", "exec", self.netns, *command)

    def cut(self) -> None:
        self._in_netns("ip", "link", "set", self.ns_end, "down")

    def heal(self) -> None:
        self._in_netns("ip", "link", "set", self.ns_end, "up")

    def close(self) -> None:
        self.forwarder.kill()
        self.forwarder.wait()
        self.proxy.close()
        subprocess.run(["ip", "link", "del", self.host_end], check=False, capture_output=True)
        subprocess.run(["ip", "netns", "del", self.netns], check=False, capture_output=True)


@pytest.fixture
def partition() -> Iterator[NetworkPartition]:
    assert PG_URL
    url = make_url(PG_URL)
    split = NetworkPartition(url.host or "127.0.0.1", url.port or 5432)
    try:
        yield split
    finally:
        split.close()


@needs_postgres
@pytest.mark.skipif(not _can_partition(), reason="needs root and iproute2 (ip netns)")
def test_a_partition_under_a_pooled_connection_answers_503_fast(
    app: Flask, partition: NetworkPartition
) -> None:
    assert PG_URL
    across = make_url(PG_URL).set(host=partition.ns_ip, port=5432)
    outage_app = _app_reaching_postgres_at(across)
    client = outage_app.test_client()
    try:
        assert client.get("/api/v1/vehicles?limit=1").status_code == 200
        with outage_app.app_context():
            assert db.engine.pool.checkedin() == 1  # the next request reuses it

        partition.cut()
        # The pooled connection's ping goes unacknowledged until tcp_user_timeout ends it;
        # the new connection's SYN goes unanswered until connect_timeout.
        response, seconds = timed(client.get, "/api/v1/vehicles?limit=1")
        assert response.status_code == 503, response.data
        assert response.headers["Retry-After"]
        assert seconds < 5
        health, seconds = timed(client.get, "/healthz")
        assert health.status_code == 503 and seconds < 5

        partition.heal()
        assert client.get("/api/v1/vehicles?limit=1").status_code == 200
    finally:
        with outage_app.app_context():
            db.engine.dispose()
