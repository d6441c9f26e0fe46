"""Configuration: defaults, then the environment, then the ``test_config`` a caller passes.

Production mode (``FUELDASH_ENV=production``) refuses to start with the development
secret key, so a forgotten ``SECRET_KEY`` cannot sign real sessions.

Deployment settings live here too: how many proxies to trust (``TRUSTED_PROXIES``), and
the PostgreSQL connection pool and statement preparation (``DATABASE_POOL_SIZE`` ...,
``DATABASE_PREPARE_THRESHOLD``) and read replica (``DATABASE_READ_URL``), which
``engine_defaults`` turns into engine options.

``API_SEARCH_COUNT_CAP`` (10,000) bounds the count behind a ``q=`` search's total in the
API. The job settings (``JOBS_TIMEOUT``, ``JOBS_STALE_SECONDS`` ...) are read by
``server/jobs.py``'s ``init_jobs``.
"""

import os
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from dashapp.budget import DEFAULT_POINT_BUDGET
from dashapp.cache import CACHE_DEFAULTS, cache_environment
from models.api_queries import SEARCH_COUNT_CAP
from models.db import READ_BIND

DEV_SECRET_KEY = "dev-only-insecure-secret-key"

#: Seconds to wait on the database and Redis before answering that they are unavailable.
TIMEOUT_DEFAULTS: dict[str, float] = {
    "DATABASE_CONNECT_TIMEOUT": 3,
    "DATABASE_STATEMENT_TIMEOUT": 10,
    "DATABASE_POOL_TIMEOUT": 3,
    "REDIS_SOCKET_TIMEOUT": 0.5,
}


#: Pool settings (PostgreSQL only) and the SQLAlchemy engine option each one sets.
POOL_SETTINGS: dict[str, str] = {
    "DATABASE_POOL_SIZE": "pool_size",
    "DATABASE_MAX_OVERFLOW": "max_overflow",
    "DATABASE_POOL_RECYCLE": "pool_recycle",
    "DATABASE_POOL_PRE_PING": "pool_pre_ping",
}
#: The smallest whole number each numeric pool setting accepts.
POOL_MINIMUMS: dict[str, int] = {
    "DATABASE_POOL_SIZE": 1,
    "DATABASE_MAX_OVERFLOW": 0,
    "DATABASE_POOL_RECYCLE": 1,
}
#: Words DATABASE_POOL_PRE_PING may be written as.
FLAG_WORDS = frozenset({"1", "true", "yes", "on", "0", "false", "no", "off"})
#: psycopg's connection argument, also accepted (as text) in DATABASE_URL's query.
PREPARE_THRESHOLD = "prepare_threshold"


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


def default_config(instance_path: str) -> dict[str, Any]:
    """Settings that hold when nothing else is said."""
    return {
        "ENV_NAME": "development",
        "SECRET_KEY": DEV_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(instance_path) / 'fueldash.sqlite3'}",
        # pool_pre_ping is added for server databases by engine_defaults.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # A replica for dashboard and API reads (server/replica.py); None: all on the primary.
        "DATABASE_READ_URL": None,
        "DASH_DEFAULT_MANUFACTURER": "Toyota",
        "SEED_SAMPLE_ON_START": False,
        "JSON_SORT_KEYS": False,
        # Proxies in front that set X-Forwarded-For/-Proto/-Host (see server/__init__.py).
        "TRUSTED_PROXIES": 0,
        # Accounts and sessions (see server/security.py).
        "ADMIN_USERNAME": None,
        "ADMIN_PASSWORD": None,
        "SESSION_COOKIE_SECURE": None,  # None: Secure exactly in production
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "LOGIN_RATE_LIMIT": "5 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_KEY_PREFIX": "fueldash",
        "DASH_LOGIN_REQUIRED": False,
        # A private deployment: every read needs sign-in or a token (server/auth/access.py).
        "FUELDASH_PRIVATE": False,
        "IMPORT_MAX_BYTES": 512 * 1024 * 1024,
        # Every other request body: Dash callbacks, API JSON, forms (see server/__init__.py).
        "REQUEST_MAX_BYTES": 1024 * 1024,
        # Outages fail fast (seconds): see engine_defaults, dashapp/cache.py, throttle.py.
        **TIMEOUT_DEFAULTS,
        # The figure cache (dashapp/cache.py) and the point budget (dashapp/budget.py).
        **CACHE_DEFAULTS,
        "DASH_POINT_BUDGET": DEFAULT_POINT_BUDGET,
        # A q= search's API total counts at most this many matches (models/api_queries.py).
        "API_SEARCH_COUNT_CAP": SEARCH_COUNT_CAP,
    }


def normalize_database_url(url: str) -> str:
    """Point bare ``postgres://``/``postgresql://`` URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def environment_config(instance_path: str) -> dict[str, Any]:
    """Settings read from the process environment."""
    config: dict[str, Any] = {}
    if env_name := os.environ.get("FUELDASH_ENV"):
        config["ENV_NAME"] = env_name
    if url := os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(url)
    if read_url := os.environ.get("DATABASE_READ_URL"):
        config["DATABASE_READ_URL"] = normalize_database_url(read_url)
    if secret := os.environ.get("SECRET_KEY"):
        config["SECRET_KEY"] = secret
    else:
        # `make run` writes a random key here, so every worker signs with the same one.
        key_file = Path(instance_path) / "secret_key"
        if key_file.is_file() and (key := key_file.read_text().strip()):
            config["SECRET_KEY"] = key
    if manufacturer := os.environ.get("DASH_DEFAULT_MANUFACTURER"):
        config["DASH_DEFAULT_MANUFACTURER"] = manufacturer
    config.update(_account_config())
    config.update(_timeout_config())
    # REDIS_URL / CACHE_TYPE / CACHE_KEY_PREFIX, and the dashboard's point budget.
    config.update(cache_environment(os.environ))
    if budget := os.environ.get("DASH_POINT_BUDGET"):
        config["DASH_POINT_BUDGET"] = budget
    if max_bytes := os.environ.get("REQUEST_MAX_BYTES"):
        config["REQUEST_MAX_BYTES"] = int(max_bytes)
    if cap := os.environ.get("API_SEARCH_COUNT_CAP"):
        config["API_SEARCH_COUNT_CAP"] = whole_number("API_SEARCH_COUNT_CAP", cap, minimum=1)
    if proxies := os.environ.get("TRUSTED_PROXIES"):
        config["TRUSTED_PROXIES"] = whole_number("TRUSTED_PROXIES", proxies, minimum=0)
    config.update(_database_config())
    return config


def whole_number(name: str, value: str, minimum: int) -> int:
    """``value`` as an int of at least ``minimum``, or a ConfigError naming ``name``."""
    try:
        number = int(value.strip())
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise ConfigError(f"{name}={value!r} must be a whole number of at least {minimum}")
    return number


def prepare_threshold(name: str, value: str) -> int | None:
    """psycopg's ``prepare_threshold`` from text: a whole number, or ``none`` (never prepare)."""
    if value.strip().lower() == "none":
        return None
    try:
        return whole_number(name, value, minimum=0)
    except ConfigError:
        raise ConfigError(
            f"{name}={value!r} must be a whole number of at least 0, or 'none' to never "
            "prepare statements (what PgBouncer in transaction pooling mode needs)"
        ) from None


def _database_config() -> dict[str, Any]:
    """The PostgreSQL pool and statement-preparation settings from the environment."""
    config: dict[str, Any] = {}
    for name, minimum in POOL_MINIMUMS.items():
        if value := os.environ.get(name):
            config[name] = whole_number(name, value, minimum)
    if value := os.environ.get("DATABASE_POOL_PRE_PING"):
        if value.strip().lower() not in FLAG_WORDS:
            raise ConfigError(f"DATABASE_POOL_PRE_PING={value!r} must be 1 or 0 (true or false)")
        config["DATABASE_POOL_PRE_PING"] = _flag(value)
    if value := os.environ.get("DATABASE_PREPARE_THRESHOLD"):
        config["DATABASE_PREPARE_THRESHOLD"] = prepare_threshold(
            "DATABASE_PREPARE_THRESHOLD", value
        )
    return config


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _account_config() -> dict[str, Any]:
    """Login, rate limiting and session-cookie settings from the environment."""
    config: dict[str, Any] = {}
    for name in ("ADMIN_USERNAME", "ADMIN_PASSWORD", "LOGIN_RATE_LIMIT"):
        if value := os.environ.get(name):
            config[name] = value
    # Several workers must share one counter store, or each counts failures apart.
    if storage := os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL"):
        config["RATELIMIT_STORAGE_URI"] = storage
    for name in ("DASH_LOGIN_REQUIRED", "SESSION_COOKIE_SECURE", "FUELDASH_PRIVATE"):
        if (value := os.environ.get(name)) is not None:
            config[name] = _flag(value)
    return config


def _timeout_config() -> dict[str, float]:
    """The database and Redis timeouts from the environment, in seconds."""
    config: dict[str, float] = {}
    for name in TIMEOUT_DEFAULTS:
        if value := os.environ.get(name):
            try:
                seconds = float(value)
            except ValueError:
                seconds = -1
            if not 0 < seconds < 86400:
                raise ConfigError(f"{name}={value!r} must be a number of seconds above 0")
            config[name] = seconds
    return config


def secure_cookies_default(config: dict[str, Any]) -> None:
    """Cookies are Secure in production unless SESSION_COOKIE_SECURE says otherwise."""
    if "SESSION_COOKIE_SECURE" not in config or config["SESSION_COOKIE_SECURE"] is None:
        config["SESSION_COOKIE_SECURE"] = config.get("ENV_NAME") == "production"
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]


def engine_defaults(config: dict[str, Any]) -> None:
    """Test pooled connections before use, where a server can drop them (PostgreSQL), and
    bound every wait on it, so an outage answers 503 in seconds rather than hanging.

    An SQLite file has no server to go away, so there the ping would only add a query
    to every request. The pool settings (``DATABASE_POOL_SIZE`` ...) and
    ``DATABASE_PREPARE_THRESHOLD`` apply to PostgreSQL too; options given outright in
    ``SQLALCHEMY_ENGINE_OPTIONS`` win over them. A read replica (``DATABASE_READ_URL``)
    gets the same options.
    """
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})  # never the caller's dict
    if not str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        for setting, option in POOL_SETTINGS.items():
            if config.get(setting) is not None:
                options.setdefault(option, config[setting])
        options.setdefault("pool_pre_ping", True)
        timeouts = {**TIMEOUT_DEFAULTS, **config}
        options.setdefault("pool_timeout", timeouts["DATABASE_POOL_TIMEOUT"])
        connect_seconds = timeouts["DATABASE_CONNECT_TIMEOUT"]
        statement_ms = round(timeouts["DATABASE_STATEMENT_TIMEOUT"] * 1000)
        connect_args = dict(options.get("connect_args") or {})
        # libpq takes whole seconds (at least 2 are used); tcp_user_timeout ends a
        # connection whose sends go unacknowledged (a partition) instead of waiting ~15 min.
        connect_args.setdefault("connect_timeout", max(1, round(connect_seconds)))
        connect_args.setdefault("tcp_user_timeout", round(connect_seconds * 1000))
        connect_args.setdefault("options", f"-c statement_timeout={statement_ms}")
        if "DATABASE_PREPARE_THRESHOLD" in config:
            connect_args.setdefault(PREPARE_THRESHOLD, config["DATABASE_PREPARE_THRESHOLD"])
        config["SQLALCHEMY_DATABASE_URI"] = _prepare_threshold_from_url(
            config["SQLALCHEMY_DATABASE_URI"], "DATABASE_URL", connect_args
        )
        options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if read_url := config.get("DATABASE_READ_URL"):
        _read_replica_bind(config, read_url, options)


def _prepare_threshold_from_url(url: str, setting: str, connect_args: dict[str, Any]) -> str:
    """``url`` without its ``?prepare_threshold=``, which moves into ``connect_args``.

    SQLAlchemy hands URL query values to psycopg as text, which psycopg then compares
    with a number (a TypeError on the first query); as a connect argument it is typed.
    A value given as a setting wins over the URL's.
    """
    parsed = make_url(url)
    if PREPARE_THRESHOLD not in parsed.query:
        return url
    given = parsed.query[PREPARE_THRESHOLD]
    text = given if isinstance(given, str) else given[-1]  # repeated: the last one counts
    threshold = prepare_threshold(f"{setting}'s prepare_threshold", text)
    connect_args.setdefault(PREPARE_THRESHOLD, threshold)
    without = parsed.difference_update_query([PREPARE_THRESHOLD])
    return without.render_as_string(hide_password=False)


def _read_replica_bind(config: dict[str, Any], read_url: str, options: dict[str, Any]) -> None:
    """Make DATABASE_READ_URL the ``READ_BIND`` engine, with the primary's engine options
    (Flask-SQLAlchemy gives a bind none of SQLALCHEMY_ENGINE_OPTIONS by itself)."""
    replica = {**options, "url": read_url}
    if "connect_args" in options:
        connect_args = dict(options["connect_args"])
        replica["url"] = _prepare_threshold_from_url(read_url, "DATABASE_READ_URL", connect_args)
        replica["connect_args"] = connect_args
    binds = dict(config.get("SQLALCHEMY_BINDS") or {})
    binds.setdefault(READ_BIND, replica)
    config["SQLALCHEMY_BINDS"] = binds


def check_config(config: dict[str, Any]) -> None:
    """Refuse settings that would be unsafe in production."""
    if config.get("ENV_NAME") == "production" and config.get("SECRET_KEY") in (
        DEV_SECRET_KEY,
        "",
        None,
    ):
        raise ConfigError(
            "SECRET_KEY is unset or the development default while FUELDASH_ENV=production. "
            "Set SECRET_KEY in the environment (or run `make run`, which writes "
            "instance/secret_key)."
        )
