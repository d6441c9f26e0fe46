"""A cache for what the store answers, keyed by (selection, data version), via Flask-Caching.

With ``REDIS_URL`` set, every gunicorn worker (and every machine) shares one Redis cache.
Without it each worker keeps a small in-process ``SimpleCache``; ``CACHE_TYPE=NullCache``
turns caching off. Keys carry the store's data version, which every write bumps, so a
write makes every older entry unreachable at once; entries also expire after
``CACHE_DEFAULT_TIMEOUT`` seconds.

Values are stored as the JSON plotly would send (NumPy arrays as base64 typed arrays), so
a hit is decoded with orjson rather than unpickled. (Flask-Caching's backends still pickle
what they store, here bytes.)

A cache is only an optimisation: when the backend fails, the value is built and served
anyway, and the failure is logged.
"""

import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from flask import Flask
from flask_caching import Cache
from flask_caching.backends import NullCache
from plotly.io.json import to_json_plotly
from sqlalchemy import Connection

from models.vehicle import current_data_version

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


def init_cache(app: Flask) -> None:
    """Bind the shared cache to ``app`` with its configured backend."""
    cache.init_app(app)


def selection_key(namespace: str, version: int, selection: object) -> str:
    """A short, stable key for one selection of one version of the store."""
    digest = hashlib.blake2b(repr(selection).encode(), digest_size=16).hexdigest()
    return f"{namespace}:v{version}:{digest}"


def cached_by_data_version(
    conn: Connection, namespace: str, selection: object, build: Callable[[], JsonObject]
) -> JsonObject:
    """``build()``'s value for ``selection`` at the store's current data version, cached.

    A value read from the cache is its JSON form: equal to what ``build()`` returned once
    serialized, with NumPy arrays as ``{"dtype", "bdata"}`` typed arrays.
    """
    if isinstance(cache.cache, NullCache):  # caching is off: no key, no version to read
        return build()
    key = selection_key(namespace, current_data_version(conn), selection)
    try:
        stored = cache.get(key)
    except Exception:  # any backend failure: serve uncached rather than fail the request
        log.warning("cache read failed for %s", key, exc_info=True)
        return build()
    if isinstance(stored, bytes):
        return orjson.loads(stored)
    value = build()
    try:
        cache.set(key, to_json_plotly(value).encode())
    except Exception:
        log.warning("cache write failed for %s", key, exc_info=True)
    return value
