"""The streamed API CSV (``/api/v1/vehicles?format=csv``) under gunicorn, as production
serves it: when the database goes away mid-stream, the response ends without its last
chunk, so a client sees an incomplete download instead of a short file that looks whole.

The database connection is cut with ``tests.faultproxy`` (PostgreSQL only: the export
streams from a server-side cursor there, so rows are still being fetched when it is cut).
"""

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from models.db import db
from models.jobs import without_statement_timeout
from models.vehicle import Vehicle
from tests.faultproxy import FaultProxy

PG_URL = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
ROOT = Path(__file__).resolve().parents[3]
#: Copies of the 406-car sample: enough rows (about 10 MB of CSV) that the stream is
#: still fetching when the connection is cut, whatever the sockets buffer.
COPIES = 150
ROWS = 406 * (COPIES + 1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def big_store(app: Flask) -> None:
    """The sample and COPIES copies of it (written in SQL; the reset before the next test
    removes them)."""
    with app.app_context(), db.engine.begin() as conn:
        without_statement_timeout(conn)  # a bulk insert, not a request
        columns = [c.name for c in Vehicle.__table__.columns if c.name not in ("id", "source_id")]
        listed = ", ".join(columns)
        conn.execute(
            text(
                f"INSERT INTO vehicles ({listed}) SELECT {listed} "
                f"FROM vehicles, generate_series(1, {COPIES})"
            )
        )


@pytest.fixture
def served(big_store: None, tmp_path: Path) -> Iterator[tuple[int, FaultProxy]]:
    """gunicorn (one sync worker) on the test database through a fault proxy."""
    assert PG_URL
    url = make_url(PG_URL)
    with FaultProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        port = _free_port()
        config = tmp_path / "gunicorn.conf.py"
        config.write_text("")  # not the repo's: one worker, no access log
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("REDIS_URL", "FUELDASH_ENV", "FUELDASH_PRIVATE")
        }
        env.update(DATABASE_URL=proxied, SECRET_KEY="test-secret-key")
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--config",
                str(config),
                "--chdir",
                str(ROOT),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "120",
                "wsgi:app",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_until_up(port)
            yield port, proxy
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)


def _open_csv(port: int) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/api/v1/vehicles?format=csv")
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    return connection, response


def test_the_whole_stream_arrives_complete(served: tuple[int, FaultProxy]) -> None:
    port, _proxy = served
    connection, response = _open_csv(port)
    body = response.read()
    connection.close()
    assert body.count(b"\r\n") == ROWS + 1  # the header and every row


def test_a_database_cut_mid_stream_ends_the_response_visibly_incomplete(
    served: tuple[int, FaultProxy],
) -> None:
    port, proxy = served
    connection, response = _open_csv(port)
    start = response.read(64 * 1024)
    assert start.startswith(b"fueldash_id,")
    proxy.set_mode("reset")
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        response.read()
    connection.close()
