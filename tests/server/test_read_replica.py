"""DATABASE_READ_URL: dashboard and API reads go to the replica's engine, writes and every
other request to the primary. The "replica" here is the test database itself, reached
through a second engine, so each statement is seen on the engine that ran it."""

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, select, update

from models import DataVersion
from models.db import READ_BIND, READS_FROM_REPLICA, db
from models.user import User
from server.config import default_config, engine_defaults, environment_config
from tests.dashapp.helpers import point_count, post_figure
from tests.server.admin.helpers import first_vehicle_id
from tests.server.api.helpers import bearer

API_READS = (
    "/api/v1/manufacturers",
    "/api/v1/vehicles?manufacturer=Ford",
    "/api/v1/stats?group_by=origin",
)


class StatementLog:
    """The statements each of an app's two engines runs."""

    def __init__(self, app: Flask) -> None:
        self.primary: list[str] = []
        self.replica: list[str] = []
        with app.app_context():
            self._listen(db.engine, self.primary)
            self._listen(db.engines[READ_BIND], self.replica)

    @staticmethod
    def _listen(engine: Engine, into: list[str]) -> None:
        event.listen(engine, "before_cursor_execute", lambda *args: into.append(args[2]))

    def clear(self) -> None:
        self.primary.clear()
        self.replica.clear()


@pytest.fixture
def replica_app(app: Flask, make_app: Any, database_url: str) -> Flask:
    """The seeded store, with DATABASE_READ_URL naming the same database."""
    replica_app: Flask = make_app(DATABASE_READ_URL=database_url, CACHE_TYPE="NullCache")
    return replica_app


@pytest.fixture
def log(replica_app: Flask) -> Iterator[StatementLog]:
    yield StatementLog(replica_app)


def test_dashboard_and_api_reads_go_to_the_replica(
    app: Flask, replica_app: Flask, log: StatementLog
) -> None:
    client, plain = replica_app.test_client(), app.test_client()
    figure = post_figure(client, ["Ford"])
    assert point_count(figure) == point_count(post_figure(plain, ["Ford"])) > 0
    assert client.get("/dash/").status_code == 200
    for path in API_READS:
        response = client.get(path)
        assert response.status_code == 200
        assert response.get_json() == plain.get(path).get_json()
    assert log.replica
    assert log.primary == []


def test_api_writes_go_to_the_primary(replica_app: Flask, log: StatementLog, token: str) -> None:
    vehicle_id = first_vehicle_id(replica_app, "corolla 1200")
    log.clear()
    response = replica_app.test_client().patch(
        f"/api/v1/vehicles/{vehicle_id}", json={"model": "corolla 1300"}, headers=bearer(token)
    )
    assert response.status_code == 200, response.get_json()
    assert any(s.startswith("UPDATE vehicles") for s in log.primary)
    assert log.replica == []


def test_other_pages_read_the_primary(replica_app: Flask, log: StatementLog) -> None:
    assert replica_app.test_client().get("/").status_code == 200
    assert log.primary
    assert log.replica == []


def test_a_reading_session_still_writes_to_the_primary(
    replica_app: Flask, log: StatementLog, password_hash: str
) -> None:
    with replica_app.app_context():
        session = db.session()
        session.info[READS_FROM_REPLICA] = True
        assert session.scalar(select(DataVersion.version)) is not None
        session.add(User(username="reader", role="editor", password_hash=password_hash))
        session.flush()  # an ORM write
        session.execute(update(DataVersion).values(version=DataVersion.version))  # a Core one
        session.rollback()
    assert [s for s in log.replica if not s.startswith(("SELECT", "BEGIN"))] == []
    assert any(s.startswith("INSERT INTO users") for s in log.primary)
    assert any(s.startswith("UPDATE data_version") for s in log.primary)


def test_without_a_replica_there_is_one_engine(app: Flask) -> None:
    with app.app_context():
        assert READ_BIND not in db.engines


def test_the_replica_gets_the_primarys_engine_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://app@primary.example/fueldash")
    monkeypatch.setenv("DATABASE_READ_URL", "postgres://app@replica.example/fueldash")
    monkeypatch.setenv("DATABASE_POOL_SIZE", "3")
    config = {**default_config("/tmp"), **environment_config("/tmp")}
    config["DATABASE_READ_URL"] += "?prepare_threshold=none"
    engine_defaults(config)
    replica = config["SQLALCHEMY_BINDS"][READ_BIND]
    assert replica["url"] == "postgresql+psycopg://app@replica.example/fueldash"
    assert replica["pool_size"] == 3
    assert replica["pool_pre_ping"] is True
    assert replica["connect_args"]["connect_timeout"] == 3
    assert replica["connect_args"]["prepare_threshold"] is None
    primary_args = config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    assert "prepare_threshold" not in primary_args  # the replica's URL is its own
