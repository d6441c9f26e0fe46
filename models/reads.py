"""One long-lived read connection per thread, for the dashboard's hot path.

Checking a connection out of SQLAlchemy's pool and back in costs about 50 µs in a busy
worker: more than both queries of a 406-car view. The dashboard's reads therefore keep
one connection per thread and reuse it.

The connection runs in autocommit mode, so every statement sees the latest committed
data, and the connection never sits inside a transaction between requests (no idle
transaction on PostgreSQL, no stale read snapshot on SQLite). If a read on it fails (the
database restarted, say), the connection is discarded and the read runs once more on a
new one; a second failure is the caller's to handle.

Only reads belong here: writes go through the ORM session and its transactions.
"""

import atexit
import logging
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")
log = logging.getLogger(__name__)


class _HeldConnection:
    """A thread's connection and the engine it came from; closed when the thread ends."""

    def __init__(self, engine: Engine, conn: Connection) -> None:
        self.engine = engine
        self.conn = conn

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


def _held_connection(engine: Engine) -> Connection:
    held = _per_thread.held
    if held is None or held.engine is not engine or held.conn.closed:
        release_read_connection()
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        held = _per_thread.held = _HeldConnection(engine, conn)
    return held.conn


def release_read_connection(*, broken: bool = False) -> None:
    """Give this thread's read connection back (or discard it if ``broken``)."""
    held, _per_thread.held = _per_thread.held, None
    if held is not None:
        held.release(broken=broken)


# A worker that exits (gunicorn recycles them) says goodbye to the database properly.
atexit.register(release_read_connection)


def read_with(engine: Engine, read: Callable[[Connection], T]) -> T:
    """``read(conn)`` on this thread's read connection to ``engine``.

    A database error discards the connection and ``read`` runs once more on a new one,
    which rides out a connection the server closed; a second error propagates.
    """
    try:
        return _finish(read(_held_connection(engine)))
    except DBAPIError:
        release_read_connection(broken=True)
    return _finish(read(_held_connection(engine)))


def _finish(value: T) -> T:
    held = _per_thread.held
    if held is not None and held.conn.in_transaction():
        held.conn.rollback()  # a Core execute opened one: end it before the next request
    return value
