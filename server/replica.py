"""Dashboard and API reads from a read replica, when ``DATABASE_READ_URL`` names one.

A request that only reads marks its session (``models.db.READS_FROM_REPLICA``), whose
queries then go to the replica's engine; writes, and every other request, use the
primary. Those reads may trail the primary by the replica's lag.

On these paths a write must go through the session (a flush, or ``db.session.execute``
of an INSERT/UPDATE/DELETE), which routes it to the primary; a statement run on
``db.session.connection()`` goes wherever that connection is, here the replica.
"""

from flask import Flask, request

from models.db import READS_FROM_REPLICA, db

#: Requests that only read: the dashboard's page and callbacks, and the API's GETs.
DASHBOARD_PREFIX = "/dash/"
API_PREFIX = "/api/v1/"


def reads_only() -> bool:
    """Whether this request is a dashboard or API read."""
    if request.path.startswith(DASHBOARD_PREFIX):
        return True
    return request.method in ("GET", "HEAD") and request.path.startswith(API_PREFIX)


def init_read_replica(app: Flask) -> None:
    """Send dashboard and API reads to the replica, if ``app`` has one."""
    if not app.config.get("DATABASE_READ_URL"):
        return

    @app.before_request
    def read_from_replica() -> None:
        if reads_only():
            db.session().info[READS_FROM_REPLICA] = True
