"""RFC 9457 problem details: the one shape of every error the API returns.

The API blueprint handles errors raised in its views; ``server.errors`` hands errors on
``/api/`` paths that never reached a view (unknown URL, wrong method) to ``http_problem``,
so even those, and even with Dash's debug tools on, are problem JSON rather than HTML.
"""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, json, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"

#: The database cannot be reached or did not answer in time (connect, statement or pool
#: timeout): the request may succeed later, so these answer 503, not 500.
DATABASE_OUTAGES: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)
#: Seconds a client is asked to wait after a 503 for a database outage.
OUTAGE_RETRY_AFTER = 5
DATABASE_UNAVAILABLE = "The database is unavailable right now; try again in a few seconds."


def database_unavailable() -> ServiceUnavailable:
    """The 503 a database outage answers, carrying ``Retry-After``."""
    return ServiceUnavailable(DATABASE_UNAVAILABLE, retry_after=OUTAGE_RETRY_AFTER)


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem details response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = dict(errors)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    response.headers.update(headers or {})
    return response


def _flatten(messages: Any) -> list[str]:
    """Marshmallow's nested messages (lists, or dicts keyed by list index) as plain strings."""
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, Mapping):
        return [text for value in messages.values() for text in _flatten(value)]
    if isinstance(messages, list | tuple):
        return [text for value in messages for text in _flatten(value)]
    return [str(messages)]


def parameter_errors(messages: Mapping[str, Any]) -> dict[str, list[str]]:
    """Webargs messages ``{location: {param: [...]}}`` as ``{param: [...]}``."""
    errors: dict[str, list[str]] = {}
    for location_messages in messages.values():
        if not isinstance(location_messages, Mapping):
            continue
        for name, value in location_messages.items():
            key = "request" if name == "_schema" else str(name)
            errors.setdefault(key, []).extend(_flatten(value))
    return errors


def carried_headers(error: HTTPException) -> dict[str, str]:
    """The headers an HTTP error brings with it (``Allow``, ``Retry-After``), not its body's."""
    return {
        key: value
        for key, value in error.get_headers()
        if key.lower() not in ("content-type", "content-length")
    }


def http_problem(error: HTTPException) -> Response:
    """Any HTTP error as problem details, keeping the headers it carries (Allow, ...)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = parameter_errors(data["messages"]) if "messages" in data else None
    detail = error.description or ""
    if errors:
        names = ", ".join(sorted(errors))
        detail = f"Invalid parameter{'s' if len(errors) > 1 else ''}: {names}."
    headers = carried_headers(error)
    headers.update(data.get("headers") or {})
    return problem(status, detail, title=None, errors=errors, headers=headers)


def unexpected_problem(error: Exception) -> Response:
    """Log the real failure; tell the client only that it happened."""
    if isinstance(error, HTTPException):
        return http_problem(error)
    if isinstance(error, DATABASE_OUTAGES):
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
        return http_problem(database_unavailable())
    log.exception("unhandled API error on %s %s", request.method, request.path, exc_info=error)
    return http_problem(InternalServerError())
