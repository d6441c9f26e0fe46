"""Response hardening shared by every surface: security headers and cookie defaults.

Frames are allowed from this origin only (``SAMEORIGIN``), which Dash does not need to
change; no Content-Security-Policy is set because Dash's renderer injects inline scripts.
"""

from typing import Any

from flask import Flask, Response, abort, current_app, request, session
from flask_wtf.csrf import generate_csrf

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "SAMEORIGIN",
}


def add_security_headers(response: Response) -> Response:
    """Add the headers unless a view already chose its own value."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


#: Dash's callback and dependency routes; their answers do not depend on who asks.
DASH_CALLBACK_PATHS = ("/dash/_dash-update-component", "/dash/_dash-dependencies")

#: Surfaces that check text themselves: the API names the bad field in its problem
#: details, and the dashboard leaves such names out of a view with a notice.
CHECKS_OWN_TEXT = ("/api/", "/dash/")


def refuse_nul_characters() -> None:
    """Answer 400 to a query string or form holding NUL, which no stored text can contain.

    PostgreSQL cannot compare text with NUL, so such a value would fail in the database
    (a 500) wherever a page filters, searches or saves with it.
    """
    if request.path.startswith(CHECKS_OWN_TEXT):
        return
    values = request.args.items(multi=True)
    if request.method == "POST":
        values = (*values, *request.form.items(multi=True))
    if any("\x00" in value for _name, value in values):
        abort(400, "Text cannot contain NUL characters; remove them and try again.")


def register_security(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.after_request(add_security_headers)
    # Lets templates sign small hand-written forms (sign out) without CSRFProtect.
    app.jinja_env.globals["csrf_token"] = generate_csrf


def refuse_forged(form: Any) -> None:
    """A POST whose CSRF token is missing or wrong is refused outright (400).

    CSRF is checked per form (Flask-WTF ``FlaskForm``), not app-wide, because an app-wide
    ``CSRFProtect`` would also block Dash's callback POSTs.
    """
    if request.method == "POST" and form.csrf_token.errors:
        abort(400, "The form expired or was not sent from this site; reload and try again.")


def responses_ignore_cookies(response: Response) -> Response:
    """Keep ``Vary: Cookie`` off responses that never depend on the session.

    Flask-Login's after-request hook reads the session on every response, and Flask then
    adds ``Vary: Cookie``, which would stop shared caches from reusing API answers. The
    API authenticates with bearer tokens only, and dashboard callbacks answer the same to
    everyone unless ``DASH_LOGIN_REQUIRED`` puts them behind the login.
    """
    if session.modified:
        return response
    path = request.path
    if path.startswith("/api/") or (
        path.startswith(DASH_CALLBACK_PATHS) and not current_app.config["DASH_LOGIN_REQUIRED"]
    ):
        session.accessed = False
    return response
