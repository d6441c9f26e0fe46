"""Error pages: every HTTP error answers without a traceback, as JSON when JSON was asked for."""

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from server.api.problems import http_problem, is_api_request

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    if request.path.startswith(("/api/", "/dash/_dash-", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


def http_error(error: HTTPException) -> tuple[Response | str, int]:
    """Render a 4xx/5xx the way the client can read it."""
    if is_api_request():
        return http_problem(error), error.code or 500
    status = error.code or 500
    if _wants_json():
        return jsonify(status=status, title=error.name, detail=error.description), status
    return render_template("error.html", error=error), status


def unexpected_error(error: Exception) -> tuple[Response | str, int]:
    """Log the real failure; show the user only that something went wrong."""
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return http_error(InternalServerError())


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the whole app."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
