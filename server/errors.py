"""Error pages: every HTTP error answers without a traceback, as RFC 9457 problem JSON (the
API's one error shape) when JSON was asked for, as a page otherwise."""

import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from server.api.problems import API_PREFIX, carried_headers, http_problem

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


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the whole app."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
