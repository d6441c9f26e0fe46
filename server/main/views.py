"""Routes for ``/`` (a landing page), ``/favicon.ico`` and ``/healthz`` (database and Redis
status for load balancers).

``/healthz`` answers within ``HEALTH_DEADLINE`` seconds whatever its dependencies do: each
check runs on a small thread pool and one that has not answered by then counts as
unavailable (it goes on until its own connect or socket timeout ends it).
"""

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template
from flask_caching.backends import NullCache, SimpleCache
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from dashapp.cache import cache
from models import count_unplottable, current_data_version, manufacturer_summaries
from models.db import db
from server.auth.throttle import EXTENSION_KEY

bp = Blueprint("main", __name__)

#: Seconds /healthz waits for all its checks together.
HEALTH_DEADLINE = 1.5
_checks = ThreadPoolExecutor(max_workers=8, thread_name_prefix="healthz")


@bp.get("/")
def index() -> str:
    """Say what fueldash is and link to its surfaces."""
    manufacturers: int | None
    hidden: int | None
    total: int | None
    try:
        with db.engine.connect() as conn:
            manufacturers = len(manufacturer_summaries(conn))
            hidden, total = count_unplottable(conn)
    except SQLAlchemyError:
        manufacturers = hidden = total = None
    return render_template("index.html", manufacturers=manufacturers, hidden=hidden, total=total)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site's one icon, where browsers look for it first (the Dash page links it too)."""
    return current_app.send_static_file("favicon.ico")


def _database_status(engine: Engine) -> dict[str, Any]:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        reason = f"cannot reach the database ({error.__class__.__name__})"
        return {"status": "unavailable", "detail": reason}
    try:
        with engine.connect() as conn:
            version = current_data_version(conn)
    except SQLAlchemyError:
        detail = "the schema is missing; run `flask --app wsgi db upgrade`"
        return {"status": "unavailable", "detail": detail}
    return {"status": "ok", "data_version": version}


def _redis_checks() -> dict[str, Callable[[], bool]]:
    """A check per Redis client the app uses: the figure cache and the login throttle."""
    checks: dict[str, Callable[[], bool]] = {}
    backend = cache.cache
    if not isinstance(backend, NullCache | SimpleCache):

        def cache_answers() -> bool:
            backend.get("healthz")  # raises when Redis does not answer
            return True

        checks["cache"] = cache_answers
    limiter, _ = current_app.extensions[EXTENSION_KEY]
    if not str(current_app.config["RATELIMIT_STORAGE_URI"]).startswith("memory"):
        checks["login_throttle"] = limiter.storage.check
    return checks


def _outcome(future: Future[Any], timeout: float, failed: Any) -> Any:
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        return failed
    except Exception:  # a check that raises reports its store as unavailable
        return failed


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers and is migrated, 503 with the reason when not.

    Redis, when configured, is reported too; it being down makes the status ``degraded``
    (200), as the site works without it, only slower and unthrottled.
    """
    engine = db.engine
    started = time.monotonic()
    database = _checks.submit(_database_status, engine)
    redis = {name: _checks.submit(check) for name, check in _redis_checks().items()}

    def left() -> float:
        return max(0.0, HEALTH_DEADLINE - (time.monotonic() - started))

    timed_out = {"status": "unavailable", "detail": "the database did not answer in time"}
    database_status = _outcome(database, left(), timed_out)
    body: dict[str, Any] = {
        "status": "ok",
        "database": {"backend": engine.dialect.name, **database_status},
    }
    if redis:
        answered = {name: _outcome(future, left(), False) for name, future in redis.items()}
        down = sorted(name for name, ok in answered.items() if not ok)
        body["redis"] = {"status": "unavailable", "failing": down} if down else {"status": "ok"}
        if down:
            body["status"] = "degraded"
    if database_status["status"] != "ok":
        body["status"] = "error"
        return jsonify(body), 503
    return jsonify(body), 200
