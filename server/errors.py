"""Error pages: every HTTP error answers without a traceback, as JSON when JSON was asked for."""

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from server.api.problems import carried_headers, http_problem, is_api_request

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    if request.path.startswith(("/api/", "/dash/_dash-", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


def http_error(error: HTTPException) -> tuple[Response | str, int, dict[str, str]]:
    """Render a 4xx/5xx the way the client can read it, with the headers the error carries
    (``Allow`` on a 405, ``Retry-After`` on a 429)."""
    status = error.code or 500
    if is_api_request():
        return http_problem(error), status, {}
    headers = carried_headers(error)
    if _wants_json():
        body = jsonify(status=status, title=error.name, detail=error.description)
        return body, status, headers
    return render_template("error.html", error=error), status, headers


def unexpected_error(error: Exception) -> tuple[Response | str, int, dict[str, str]]:
    """Log the real failure; show the user only that something went wrong."""
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return http_error(InternalServerError())


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the whole app."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
