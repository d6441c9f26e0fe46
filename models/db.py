"""The SQLAlchemy handle and declarative base every model shares.

``db`` lives with the models, so ``import models`` needs neither the app nor its other
extensions; the app factory binds it with ``db.init_app(app)``.

``db.session`` can send a read-only request's queries to a read replica: the app marks
such a request's session (``READS_FROM_REPLICA``, see server/replica.py) and configures
the replica as the ``READ_BIND`` bind (``DATABASE_READ_URL``).
"""

import sqlite3
from typing import TYPE_CHECKING, Any

from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Connection, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import UpdateBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLITE_BUSY_TIMEOUT_MS = 5000


class Base(DeclarativeBase):
    """Declarative base shared by every model; constraint names are stable across dialects."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: The Flask-SQLAlchemy bind key of the optional read replica.
READ_BIND = "read"
#: ``Session.info`` key set on a request's session when all it does is read.
READS_FROM_REPLICA = "reads_from_replica"


class ReplicaRoutingSession(FlaskSession):
    """A session that reads from the replica when its request only reads.

    Flushes and INSERT/UPDATE/DELETE statements always go to the primary, as in
    SQLAlchemy's own routing-session example; without a replica nothing changes.
    """

    def get_bind(
        self,
        mapper: Any | None = None,
        clause: Any | None = None,
        bind: Engine | Connection | None = None,
        **kwargs: Any,
    ) -> Engine | Connection:
        if (
            bind is None
            and self.info.get(READS_FROM_REPLICA)
            and not self._flushing
            and not isinstance(clause, UpdateBase)
            and (replica := self._db.engines.get(READ_BIND)) is not None
        ):
            return replica
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"class_": ReplicaRoutingSession})

# ``db.Model`` is made at run time, so type checkers see the declarative base it extends.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Let several gunicorn workers share one SQLite file: WAL, a busy timeout, real FKs."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Take transaction control away from pysqlite so that BEGIN is ours to emit (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(conn: Connection) -> None:
    """Emit BEGIN ourselves; ``sqlite_begin="IMMEDIATE"`` takes the write lock up front."""
    if conn.dialect.name != "sqlite":
        return
    mode = conn.get_execution_options().get("sqlite_begin", "")
    conn.exec_driver_sql(f"BEGIN {mode}".strip())
