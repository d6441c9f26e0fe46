"""The Plotly Dash dashboard, mounted on the fueldash Flask server at ``/dash/``."""

import json
from pathlib import Path
from typing import Any

from dash import Dash
from dash.exceptions import DependencyException
from flask import Flask, Response, abort, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from dashapp.callbacks import register_callbacks
from dashapp.layout import serve_layout
from dashapp.lean import LeanDash

URL_BASE = "/dash/"
UPDATE_PATH = f"{URL_BASE}_dash-update-component"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
#: The site's Bootstrap 5 stylesheet, served locally by the Flask app (bootstrap-flask).
BOOTSTRAP_CSS = "/bootstrap/static/css/bootstrap.min.css"
#: Sets <html data-bs-theme> from the visitor's light or dark preference, before first paint.
THEME_SCRIPT = "/static/theme.js"
#: The page around the app: the site's theme script, favicon and language.
INDEX_STRING = f"""<!DOCTYPE html>
<html lang="en">
    <head>
        {{%metas%}}
        <title>{{%title%}}</title>
        <script src="{THEME_SCRIPT}"></script>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
        <link rel="icon" href="/favicon.ico" sizes="48x48">
        {{%css%}}
    </head>
    <body>
        {{%app_entry%}}
        <footer>
            {{%config%}}
            {{%scripts%}}
            {{%renderer%}}
        </footer>
    </body>
</html>"""


def init_dashboard(server: Flask) -> Dash:
    """Create the Dash app on ``server`` and register its layout and callbacks."""
    # LeanDash drops the unused DataTable bundle and defers the table's (dashapp/lean.py).
    dash_app = LeanDash(
        __name__,
        # Dash's annotation omits Flask apps, which its documentation passes here.
        server=server,  # type: ignore[arg-type]
        url_base_pathname=URL_BASE,
        assets_folder=str(ASSETS_DIR),
        title="fueldash: fuel efficiency vs horsepower",
        update_title="",
        serve_locally=True,
        # Bootstrap's CSS only: its components are plain HTML with Bootstrap's classes, so
        # the page carries no dash-bootstrap-components JavaScript (the 800 KB budget).
        external_stylesheets=[BOOTSTRAP_CSS],
        index_string=INDEX_STRING,
        # The table is created in the browser once its script has loaded, so callbacks
        # name a component that the first layout lacks, and no validation layout can hold
        # it before then (the renderer would need the grid's script to read it).
        suppress_callback_exceptions=True,
    )
    dash_app.layout = serve_layout
    register_callbacks(dash_app)
    _guard_update_requests(server, dash_app)
    _unknown_paths_are_not_found(server)
    return dash_app


def _unknown_paths_are_not_found(server: Flask) -> None:
    """Answer 404, not the dashboard or a 500, for paths under /dash/ that name nothing."""

    @server.before_request
    def refuse_catchall() -> None:
        # Dash serves its page on any /dash/<path> for multi-page apps; this one has a page.
        rule = request.url_rule
        if rule is not None and rule.rule == f"{URL_BASE}<path:path>":
            abort(404)

    @server.errorhandler(DependencyException)
    def missing_component_suite(error: DependencyException) -> ResponseReturnValue:
        # Raised for a _dash-component-suites path naming no registered library or file.
        return server.handle_http_exception(NotFound())


def _dependencies_mismatch(sent: Any, expected: list[dict[str, Any]], key: str) -> str | None:
    """Why the ``inputs`` or ``state`` a client sent differ from the callback's, or None."""
    if not isinstance(sent, list) or len(sent) != len(expected):
        return f"'{key}' must list the callback's {len(expected)} {key}"
    for item, spec in zip(sent, expected, strict=True):
        if isinstance(spec.get("id"), dict):
            continue  # pattern-matching ids arrive as lists; Dash checks those itself
        if not isinstance(item, dict) or (item.get("id"), item.get("property")) != (
            spec["id"],
            spec["property"],
        ):
            return f"'{key}' must be {spec['id']}.{spec['property']} as the callback declares"
    return None


def _malformed_update(payload: Any, dash_app: Dash) -> str | None:
    """Why a ``_dash-update-component`` body cannot be a real callback request, or None."""
    if not isinstance(payload, dict):
        return "the body must be a JSON object"
    output = payload.get("output")
    if not isinstance(output, str) or output not in dash_app.callback_map:
        return "'output' does not name a callback of this app"
    spec = dash_app.callback_map[output]
    outputs = payload.get("outputs")
    multi = output.startswith("..")
    if not (isinstance(outputs, list) if multi else isinstance(outputs, dict)):
        return "'outputs' does not match the callback's outputs"
    for key in ("inputs", "state"):
        reason = _dependencies_mismatch(payload.get(key, []), spec[key], key)
        if reason:
            return reason
    changed = payload.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "'changedPropIds' must be a list of strings"
    return None


def _guard_update_requests(server: Flask, dash_app: Dash) -> None:
    """Answer 400 to callback requests that Dash itself would turn into a 500, with an
    RFC 9457 problem details body like the API's errors."""

    @server.before_request
    def reject_malformed_dash_update() -> Response | None:
        if request.path != UPDATE_PATH or request.method != "POST":
            return None
        reason = _malformed_update(request.get_json(silent=True), dash_app)
        if reason is None:
            return None
        problem = {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": reason}
        return Response(json.dumps(problem), status=400, mimetype="application/problem+json")
