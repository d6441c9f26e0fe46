"""Who may see what: the Flask-Login user loader, the admin role check and the /dash gate."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, current_app, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from models.db import db
from models.user import User
from server.extensions import login_manager


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user from the session's ``id:generation`` (``User.get_id``).

    None (signed out) if the user is gone or the generation is not the current one:
    the session was issued before a sign-out or a password change.
    """
    # The session is signed, so this is an id we wrote; a cookie from before generations
    # (a bare id) has none and signs its user out once.
    id_text, _, generation = user_id.partition(":")
    if not (id_text.isdecimal() and generation.isdecimal()):
        return None
    user = db.session.get(User, int(id_text))
    if user is None or str(user.session_generation) != generation:
        return None
    return user


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed in and an admin; editors get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403, "Only admins may open this page.")
        return view(*args, **kwargs)

    return wrapped


DASH_PAGES = ("/dash", "/dash/")


def dash_login_gate() -> ResponseReturnValue | None:
    """With DASH_LOGIN_REQUIRED (or FUELDASH_PRIVATE), /dash/ needs a signed-in user.

    The page itself redirects to /login; Dash's XHR routes (layout, dependencies,
    callbacks, component suites, assets) answer 401 JSON, which the renderer can report,
    instead of a redirect to an HTML page it cannot read.
    """
    if not current_app.config.get("DASH_LOGIN_REQUIRED"):
        return None
    path = request.path
    if not (path == "/dash" or path.startswith("/dash/")) or current_user.is_authenticated:
        return None
    if path in DASH_PAGES:
        return redirect(url_for("auth.login", next=path))
    return jsonify(status=401, title="Unauthorized", detail="Sign in at /login first."), 401


def register_access(app: Flask) -> None:
    """Bind Flask-Login's settings and the dashboard gate to ``app``.

    FUELDASH_PRIVATE turns DASH_LOGIN_REQUIRED on, so the gate and every other check of
    it (such as ``Vary: Cookie`` on callbacks, server/security.py) follow one setting.
    """
    if app.config.get("FUELDASH_PRIVATE"):
        app.config["DASH_LOGIN_REQUIRED"] = True
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    app.before_request(dash_login_gate)
