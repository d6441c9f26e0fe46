"""Error pages: every HTTP error answers without a traceback, as RFC 9457 problem JSON (the
API's one error shape) when JSON was asked for, as a page otherwise."""

import logging

from flask import Flask, Response, abort, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from server.api.problems import (
    API_PREFIX,
    DATABASE_OUTAGES,
    carried_headers,
    database_unavailable,
    http_problem,
)

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    if request.path.startswith((API_PREFIX, "/dash/_dash-", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


def http_error(error: HTTPException) -> Response | tuple[str, int, dict[str, str]]:
    """Render a 4xx/5xx the way the client can read it, with the headers the error carries
    (``Allow`` on a 405, ``Retry-After`` on a 429)."""
    if _wants_json():
        return http_problem(error)
    return render_template("error.html", error=error), error.code or 500, carried_headers(error)


def unexpected_error(error: Exception) -> Response | tuple[str, int, dict[str, str]]:
    """Log the real failure; show the user only that something went wrong."""
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return http_error(InternalServerError())


#: The page a browser gets when the database is down. It is not rendered from the site's
#: templates: their sign-in menu loads the signed-in user, from the database that is down.
OUTAGE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>503 Service Unavailable · fueldash</title><script src="/static/theme.js"></script>
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/bootstrap/static/css/bootstrap.min.css"></head>
<body><main class="container-lg py-4"><h1 class="h3">503 Service Unavailable</h1>
<p class="lead">{description}</p><a class="btn btn-primary" href="/">Back to the start page</a>
</main></body></html>
"""


def database_outage(error: Exception) -> Response | tuple[str, int, dict[str, str]]:
    """The database is down or too slow: 503 with Retry-After, one log line, no traceback."""
    log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
    unavailable = database_unavailable()
    if _wants_json():
        return http_problem(unavailable)
    page = OUTAGE_PAGE.format(description=escape(unavailable.description or ""))
    return page, 503, carried_headers(unavailable)


def refuse_deeply_nested_json() -> None:
    """Answer 400 to a JSON body nested too deeply to parse, such as ``[[[[...]]]]`` 1,000
    deep, before any view reads it.

    Python's ``json`` recurses once per level, so such a body raises RecursionError, which
    Flask's ``get_json(silent=True)``, Dash and the API's webargs all let through as a 500.
    Parsing it here once also caches it for Flask's later readers.
    """
    if not request.is_json or not request.content_length:
        return
    try:
        request.get_json(silent=True)
    except RecursionError:
        abort(400, "The JSON body is nested too deeply to read.")


def body_too_large(error: RequestEntityTooLarge) -> Response | tuple[str, int, dict[str, str]]:
    """A 413 that says the limit (``server.register_request_limits``) the body went over."""
    limit = request.max_content_length
    if limit is None:
        return http_error(error)
    return http_error(
        RequestEntityTooLarge(f"The request body is larger than the {limit:,} bytes accepted here.")
    )


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the whole app, and the check for JSON nested too deeply."""
    app.before_request(refuse_deeply_nested_json)
    app.register_error_handler(RequestEntityTooLarge, body_too_large)
    app.register_error_handler(HTTPException, http_error)
    for outage in DATABASE_OUTAGES:
        app.register_error_handler(outage, database_outage)
    app.register_error_handler(Exception, unexpected_error)
