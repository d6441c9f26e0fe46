"""Failed sign-ins counted per client address with the ``limits`` library.

The address is ``request.remote_addr``. Behind a load balancer set ``TRUSTED_PROXIES``
(server/__init__.py wraps the app in Werkzeug's ProxyFix), or every client counts as the
proxy's address and one attacker locks everyone out.

Only the login form is limited, so the count is checked in that view alone, not in hooks
that run on every request (bench/optimisations.md says why Flask-Limiter went).

Counts live in ``RATELIMIT_STORAGE_URI``: ``memory://`` keeps them per worker, Redis
shares them across workers and machines. If the store cannot be reached, sign-in keeps
working unthrottled and the failure is logged: the limit slows guessing, it is not what
keeps accounts safe. Redis gets ``REDIS_SOCKET_TIMEOUT`` seconds to connect and answer, so
a hung Redis delays a sign-in by that much rather than by minutes.
"""

import logging
import math
import time

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from server.config import ConfigError

log = logging.getLogger(__name__)
EXTENSION_KEY = "fueldash.login_throttle"


def init_login_throttle(app: Flask) -> None:
    """Bind a failure counter for the login form to ``app``'s configured store."""
    try:
        limits = parse_many(app.config["LOGIN_RATE_LIMIT"])
    except ValueError:
        raise ConfigError(
            f"LOGIN_RATE_LIMIT={app.config['LOGIN_RATE_LIMIT']!r} is not a rate limit; "
            "write it like '5 per minute' or '5 per minute; 20 per hour'"
        ) from None
    uri = app.config["RATELIMIT_STORAGE_URI"]
    options: dict[str, float] = {}
    if uri.startswith(("redis", "valkey")):  # limits hands these on to the Redis client
        seconds = app.config["REDIS_SOCKET_TIMEOUT"]
        options = {"socket_timeout": seconds, "socket_connect_timeout": seconds}
    try:
        storage = storage_from_string(uri, **options)
    except Exception as error:
        raise ConfigError(
            f"RATELIMIT_STORAGE_URI={app.config['RATELIMIT_STORAGE_URI']!r} cannot be used: {error}"
        ) from None
    app.extensions[EXTENSION_KEY] = (FixedWindowRateLimiter(storage), limits)


def _counter() -> tuple[FixedWindowRateLimiter, list[RateLimitItem], tuple[str, ...]]:
    limiter, limits = current_app.extensions[EXTENSION_KEY]
    identity = (current_app.config["RATELIMIT_KEY_PREFIX"], "login", request.remote_addr or "")
    return limiter, limits, identity


def seconds_until_retry() -> int | None:
    """Seconds until this client may try again, or None while it has attempts left."""
    limiter, limits, identity = _counter()
    try:
        used_up = [limit for limit in limits if not limiter.test(limit, *identity)]
        if not used_up:
            return None
        reset_at = max(limiter.get_window_stats(lim, *identity).reset_time for lim in used_up)
    except Exception:  # the store is down: do not lock everyone out
        log.warning("login rate-limit store unreachable; not throttling", exc_info=True)
        return None
    return max(1, math.ceil(reset_at - time.time()))


def record_failure() -> None:
    """Count one failed sign-in against this client."""
    limiter, limits, identity = _counter()
    try:
        for limit in limits:
            limiter.hit(limit, *identity)
    except Exception:
        log.warning("login rate-limit store unreachable; failure not counted", exc_info=True)
