"""Through a real PgBouncer in transaction pooling mode, dashboard callbacks, API reads and
API writes answer the real figures and data once psycopg stops preparing statements
(``DATABASE_PREPARE_THRESHOLD=none``), and fail without that setting.

Two app instances stand for two workers; PgBouncer gives them one server connection, so
a statement one of them prepared there is met by the other, as happens in production
whenever there are fewer server connections than client ones.

psycopg prepares a statement on its 5th run on a connection, counting across committed
transactions; a rollback resets the count. Every request here ends with one (the pool
resets the connection), so what trips it is a statement run 5 times between rollbacks:
in one transaction, as an import's batches do, or in committed ones in a row.

Runs in the PostgreSQL pass of CI, which installs Debian's pgbouncer (.ci/run).
"""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError

from dashapp.figures import GRAPH_ID
from dashapp.view import UNAVAILABLE
from models.db import db
from tests.dashapp.helpers import UPDATE_URL, annotation_text, callback_payload, point_count
from tests.server.admin.helpers import first_vehicle_id
from tests.server.api.helpers import bearer

PG_URL = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
MAKERS = ("Ford", "Toyota", "Volkswagen")
API_READS = (
    "/api/v1/manufacturers",
    "/api/v1/vehicles?manufacturer=Ford&sort=-combined_mpg&limit=5",
    "/api/v1/stats?group_by=origin",
)
ROUNDS = 3
#: Writes in a row: past psycopg's default prepare threshold (5 runs of a statement).
WRITES = 6


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def pgbouncer(tmp_path: Path) -> Iterator[str]:
    """PgBouncer in transaction pooling mode with one server connection per database, in
    front of the test database's server; yields the test database's URL through it."""
    assert PG_URL is not None
    assert Path(PGBOUNCER).is_file(), "pgbouncer is not installed (apt-get install pgbouncer)"
    direct = make_url(PG_URL)
    port = free_port()
    userlist = tmp_path / "userlist.txt"
    userlist.write_text(f'"{direct.username}" ""\n')
    config = tmp_path / "pgbouncer.ini"
    # ignore_startup_parameters: PgBouncer refuses the `options` fueldash sends (the
    # statement timeout) unless told to drop it; README's PgBouncer note says the same.
    config.write_text(
        f"""[databases]
* = host={direct.host or "127.0.0.1"} port={direct.port or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {userlist}
pool_mode = transaction
default_pool_size = 1
ignore_startup_parameters = options
logfile =
pidfile =
"""
    )
    # PgBouncer will not run as root; it reads its files first, then becomes `nobody`.
    as_user = ["-u", "nobody"] if os.geteuid() == 0 else []
    log = (tmp_path / "pgbouncer.log").open("w")
    process = subprocess.Popen(
        [PGBOUNCER, *as_user, str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, process, tmp_path / "pgbouncer.log")
        yield direct.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once ``port`` accepts connections; fail with PgBouncer's log if it never does."""
    for _ in range(100):
        assert process.poll() is None, f"pgbouncer exited: {log.read_text()}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"pgbouncer did not listen on {port}: {log.read_text()}")


def read_everything(app: Flask) -> list[Any]:
    """The reads a visitor makes: a chart per maker, then API pages.

    A chart is (maker, plotted points), or (maker, UNAVAILABLE) when the store failed;
    an API read is (path, status, JSON body).
    """
    client = app.test_client()
    answers: list[Any] = []
    for maker in MAKERS:
        response = client.post(UPDATE_URL, json=callback_payload([maker]))
        assert response.status_code == 200
        figure = response.get_json()["response"][GRAPH_ID]["figure"]
        failed = UNAVAILABLE in annotation_text(figure)
        answers.append((maker, UNAVAILABLE if failed else point_count(figure)))
    for path in API_READS:
        response = client.get(path)
        answers.append((path, response.status_code, response.get_json()))
    return answers


def write_burst(app: Flask, token: str, vehicle_id: int) -> list[Any]:
    """WRITES renames of one vehicle in a row; answers are (status, the model stored)."""
    client = app.test_client()
    answers = []
    for number in range(WRITES):
        response = client.patch(
            f"/api/v1/vehicles/{vehicle_id}",
            json={"model": f"corolla 1200 ({number})"},
            headers=bearer(token),
        )
        answers.append((response.status_code, (response.get_json() or {}).get("model")))
    return answers


EXPECTED_WRITES = [(200, f"corolla 1200 ({number})") for number in range(WRITES)]


def use_the_site(workers: list[Flask], token: str, vehicle_id: int) -> list[Any]:
    """ROUNDS rounds in which each worker in turn answers the reads and a burst of writes."""
    return [
        (read_everything(worker), write_burst(worker, token, vehicle_id))
        for _ in range(ROUNDS)
        for worker in workers
    ]


@pytest.mark.parametrize(
    ("url_query", "settings"),
    [
        ("", {"DATABASE_PREPARE_THRESHOLD": None}),  # DATABASE_PREPARE_THRESHOLD=none
        ("?prepare_threshold=none", {}),  # or said in DATABASE_URL
    ],
)
def test_through_pgbouncer_every_request_answers_the_real_data(
    app: Flask,
    make_app: Any,
    token: str,
    pgbouncer: str,
    url_query: str,
    settings: dict[str, Any],
) -> None:
    expected_reads = read_everything(app)  # straight to PostgreSQL
    assert all(points > 0 for _maker, points in expected_reads[: len(MAKERS)])
    assert all(status == 200 for _path, status, _body in expected_reads[len(MAKERS) :])
    workers = [
        make_app(SQLALCHEMY_DATABASE_URI=pgbouncer + url_query, CACHE_TYPE="NullCache", **settings)
        for _ in range(2)
    ]
    answers = use_the_site(workers, token, first_vehicle_id(app, "corolla 1200"))
    assert answers == [(expected_reads, EXPECTED_WRITES)] * (ROUNDS * len(workers))


def repeat_committed(app: Flask) -> None:
    """Run one statement in committed transactions on ``app``'s engine, as imports and
    writes do, past psycopg's prepare threshold."""
    with app.app_context():
        for _ in range(WRITES):
            with db.engine.begin() as conn:
                conn.execute(text("SELECT count(*) FROM vehicles WHERE id > :id"), {"id": 0})


def test_without_the_setting_psycopg_prepares_and_pgbouncer_mixes_them_up(
    app: Flask, make_app: Any, pgbouncer: str
) -> None:
    first, second = (make_app(SQLALCHEMY_DATABASE_URI=pgbouncer) for _ in range(2))
    repeat_committed(first)  # prepares "_pg3_0" on the one server connection
    with pytest.raises(SQLAlchemyError, match='prepared statement "_pg3_0" already exists'):
        repeat_committed(second)


def test_with_the_setting_nothing_is_prepared(app: Flask, make_app: Any, pgbouncer: str) -> None:
    workers = [
        make_app(SQLALCHEMY_DATABASE_URI=pgbouncer, DATABASE_PREPARE_THRESHOLD=None)
        for _ in range(2)
    ]
    for worker in workers * 2:
        repeat_committed(worker)
