"""A cache for what the store answers, keyed by (selection, versions), via Flask-Caching.

With ``REDIS_URL`` set, every gunicorn worker (and every machine) shares one Redis cache.
Without it each worker keeps a small in-process ``SimpleCache``; ``CACHE_TYPE=NullCache``
turns caching off. A key digests the selection with the versions of the data it shows
(for a figure, each (dataset, manufacturer) summary row's version: ``models.summary``),
so a write makes unreachable only the entries of what it touched; entries also expire
after ``CACHE_DEFAULT_TIMEOUT`` seconds. Keys are short: the namespace and a 32-digit
digest.

Values are stored as the JSON plotly would send (NumPy arrays as base64 typed arrays), so
a hit is decoded with orjson rather than unpickled. (Flask-Caching's backends still pickle
what they store, here bytes.)

A cache is only an optimisation: when the backend fails, the value is built and served
anyway, and the failure is logged, once per ``FAILURE_LOG_INTERVAL`` seconds rather than
with a traceback per request. Redis gets ``REDIS_SOCKET_TIMEOUT`` (0.5 s by default) to
connect and to answer, so a hung Redis slows a request by that much, not by minutes.
"""

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from flask import Flask
from flask_caching import Cache
from flask_caching.backends import NullCache
from plotly.io.json import to_json_plotly

JsonObject = dict[str, Any]
log = logging.getLogger(__name__)

cache = Cache()

#: Settings that hold unless the environment or the caller say otherwise.
CACHE_DEFAULTS: dict[str, Any] = {
    "CACHE_TYPE": "SimpleCache",
    "CACHE_DEFAULT_TIMEOUT": 300,
    # SimpleCache only: at most this many figures per worker (each at most ~200 KB).
    "CACHE_THRESHOLD": 200,
    "CACHE_KEY_PREFIX": "fueldash:",
    "CACHE_NO_NULL_WARNING": True,  # NullCache is a deliberate choice (benchmarks, tests)
}


def cache_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Cache settings read from the process environment."""
    config: dict[str, Any] = {}
    if redis_url := environ.get("REDIS_URL"):
        config["CACHE_TYPE"] = "RedisCache"
        config["CACHE_REDIS_URL"] = redis_url
    if cache_type := environ.get("CACHE_TYPE"):
        config["CACHE_TYPE"] = cache_type
    if prefix := environ.get("CACHE_KEY_PREFIX"):
        config["CACHE_KEY_PREFIX"] = prefix
    return config


#: Seconds Redis gets to connect and to answer, unless REDIS_SOCKET_TIMEOUT says otherwise.
DEFAULT_REDIS_TIMEOUT = 0.5


def with_socket_timeouts(url: str, seconds: float) -> str:
    """``url`` with redis-py's ``socket_timeout`` and ``socket_connect_timeout`` query
    parameters, unless it already sets them."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("socket_timeout", str(seconds))
    query.setdefault("socket_connect_timeout", str(seconds))
    return urlunsplit(parts._replace(query=urlencode(query)))


def init_cache(app: Flask) -> None:
    """Bind the shared cache to ``app`` with its configured backend."""
    config = dict(app.config)
    if url := config.get("CACHE_REDIS_URL"):
        config["CACHE_REDIS_URL"] = with_socket_timeouts(
            url, config.get("REDIS_SOCKET_TIMEOUT", DEFAULT_REDIS_TIMEOUT)
        )
    cache.init_app(app, config)


#: Seconds between two warnings about cache failures.
FAILURE_LOG_INTERVAL = 60.0
_failures = {"last_logged": -FAILURE_LOG_INTERVAL, "unlogged": 0}
_failures_lock = threading.Lock()


def _log_failure(action: str, error: Exception) -> None:
    """Warn about a failing cache backend at most once per interval, saying how many
    failures went unlogged since, so an outage logs a line a minute, not one per request."""
    now = time.monotonic()
    with _failures_lock:
        if now - _failures["last_logged"] < FAILURE_LOG_INTERVAL:
            _failures["unlogged"] += 1
            return
        unlogged = int(_failures["unlogged"])
        _failures.update(last_logged=now, unlogged=0)
    log.warning(
        "cache %s failed (%s: %s); serving uncached; %d more failures since the last warning",
        action,
        error.__class__.__name__,
        error,
        unlogged,
    )


def selection_key(namespace: str, versions: object, selection: object) -> str:
    """A short, stable key for one selection of the data at ``versions``."""
    digest = hashlib.blake2b(repr((selection, versions)).encode(), digest_size=16).hexdigest()
    return f"{namespace}:{digest}"


def cached_by_versions(
    namespace: str,
    selection: object,
    versions: Callable[[], object],
    build: Callable[[], JsonObject],
) -> JsonObject:
    """``build()``'s value for ``selection`` at the data's current ``versions()``, cached.

    A value read from the cache is its JSON form: equal to what ``build()`` returned once
    serialized, with NumPy arrays as ``{"dtype", "bdata"}`` typed arrays.
    """
    if isinstance(cache.cache, NullCache):  # caching is off: no key, no version to read
        return build()
    key = selection_key(namespace, versions(), selection)
    try:
        stored = cache.get(key)
    except Exception as error:  # any backend failure: serve uncached, not fail the request
        _log_failure("read", error)
        return build()
    if isinstance(stored, bytes):
        return orjson.loads(stored)
    value = build()
    try:
        cache.set(key, to_json_plotly(value).encode())
    except Exception as error:
        _log_failure("write", error)
    return value
