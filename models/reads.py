"""One long-lived read connection per thread, for the dashboard's hot path.

Checking a connection out of SQLAlchemy's pool and back in costs about 50 µs in a busy
worker: more than both queries of a 406-car view. The dashboard's reads therefore keep
one of the pool's connections per thread and reuse it for up to ``MAX_AGE_S`` seconds,
then hand it back (where the pool's pre-ping and recycling apply) and take another.

The connection runs in autocommit mode, so every statement sees the latest committed
data, and the connection never sits inside a transaction between requests (no idle
transaction on PostgreSQL, no stale read snapshot on SQLite). SQLite connections are in
the driver's autocommit mode from the start (server/extensions.py); PostgreSQL ones are
switched to it while held. If the server closed a reused connection (a restart, say),
the read runs once more on a new one; any other error is the caller's to handle.

Only reads belong here: writes go through the ORM session and its transactions.
"""

import atexit
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")
log = logging.getLogger(__name__)
#: How long a thread keeps one connection before taking a fresh one from the pool.
MAX_AGE_S = 300.0


class _HeldConnection:
    """A thread's connection and the engine it came from; closed when the thread ends."""

    def __init__(self, engine: Engine, conn: Connection) -> None:
        self.engine = engine
        self.conn = conn
        self.expires = time.monotonic() + MAX_AGE_S

    def usable_for(self, engine: Engine) -> bool:
        return self.engine is engine and not self.conn.closed and time.monotonic() < self.expires

    def release(self, *, broken: bool = False) -> None:
        try:
            if broken:
                self.conn.invalidate()  # never hand a broken connection back to the pool
            self.conn.close()
        except Exception:  # a connection that cannot even close is gone anyway
            log.debug("read connection did not close cleanly", exc_info=True)

    def __del__(self) -> None:  # the thread ended (threading.local dropped its holder)
        # At interpreter exit the drivers are half torn down; the OS closes the socket.
        if not sys.is_finalizing() and not self.conn.closed:
            self.conn.close()


class _PerThread(threading.local):
    held: _HeldConnection | None = None


_per_thread = _PerThread()


def _connect(engine: Engine) -> Connection:
    conn = engine.connect()
    if engine.dialect.name != "sqlite":  # SQLite's driver already runs in autocommit
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


def _held_connection(engine: Engine) -> tuple[Connection, bool]:
    """This thread's connection to ``engine``, and whether it served an earlier read."""
    held = _per_thread.held
    if held is not None and held.usable_for(engine):
        return held.conn, True
    release_read_connection()
    _per_thread.held = _HeldConnection(engine, _connect(engine))
    return _per_thread.held.conn, False


def release_read_connection(*, broken: bool = False) -> None:
    """Give this thread's read connection back (or discard it if ``broken``)."""
    held, _per_thread.held = _per_thread.held, None
    if held is not None:
        held.release(broken=broken)


# A worker that exits (gunicorn recycles them) says goodbye to the database properly.
atexit.register(release_read_connection)


def _closed_under_us(conn: Connection, error: DBAPIError) -> bool:
    """Whether ``error`` says the server or driver closed the connection."""
    if error.connection_invalidated:
        return True
    try:
        dbapi_connection = conn.connection.dbapi_connection
    except Exception:  # SQLAlchemy already knows it is gone
        return True
    return bool(conn.dialect.is_disconnect(error.orig, dbapi_connection, None))


def read_with(engine: Engine, read: Callable[[Connection], T]) -> T:
    """``read(conn)`` on this thread's read connection to ``engine``.

    If a connection that served earlier reads turns out closed by the server, ``read``
    runs once more on a new one. Any failure discards the connection; errors other than
    that one (bad SQL, a database that cannot be reached) propagate at once.
    """
    conn, reused = _held_connection(engine)
    try:
        return _finish(read(conn))
    except DBAPIError as error:
        retry = reused and _closed_under_us(conn, error)
        release_read_connection(broken=True)
        if not retry:
            raise
    log.info("read connection was closed by the database; reading on a new one")
    conn, _reused = _held_connection(engine)
    return _finish(read(conn))


def _finish(value: T) -> T:
    held = _per_thread.held
    if held is not None and held.conn.in_transaction():
        held.conn.rollback()  # a Core execute opened one: end it before the next request
    return value
