"""``/login`` and ``/logout``. Failures get one generic message and are rate-limited."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import TooManyRequests
from werkzeug.security import check_password_hash

from models.db import db
from models.user import find_user
from server.auth.forms import LoginForm
from server.auth.throttle import record_failure, seconds_until_retry
from server.security import refuse_forged

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "Unknown username or wrong password."
#: Said only to someone who gave the right password.
DEACTIVATED = "This account has been deactivated; ask an admin to reactivate it."
# Checked when the username is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = (
    "scrypt:32768:8:1$saltsaltsaltsalt$"
    "2a5b5f2a1c7c2e0c3c8f3ad4d0d6f1d8c3b9e4f5a6b7c8d9e0f1a2b3c4d5e6f7"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a local path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


SECURE_COOKIE_HINT = (
    "The session cookie is marked Secure, so a browser sends it back only over HTTPS."
)

TOO_MANY_FAILURES = "Too many failed sign-ins; wait a minute and try again."


def secure_cookie_lost(form: LoginForm) -> bool:
    """The CSRF check failed over plain HTTP while the session cookie is Secure.

    A browser then never sends the cookie back (except on loopback names), so the form's
    token can match nothing and nobody can sign in until HTTPS is used or the cookie is
    no longer Secure.
    """
    return (
        bool(form.csrf_token.errors)
        and not request.is_secure
        and bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the sign-in form; sign in and go to ``next`` (local paths only).

    Only failed attempts count towards ``LOGIN_RATE_LIMIT``; once it is used up, every
    attempt from that address waits for the window to pass, the right password included.
    """
    if request.method == "POST" and (wait := seconds_until_retry()) is not None:
        raise TooManyRequests(TOO_MANY_FAILURES, retry_after=wait)
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        user = find_user(db.session(), form.username.data or "")
        password = form.password.data or ""
        if user is not None and user.check_password(password):
            if not user.is_active:
                flash(DEACTIVATED, "error")
                return render_template("auth/login.html", form=form, next_url=next_url), 403
            # A new CSRF secret, so a token seen before signing in is worthless after.
            session.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
            login_user(user)
            return redirect(next_url or url_for("admin.vehicles"))
        if user is None:
            check_password_hash(_DUMMY_HASH, password)
        record_failure()
        flash(LOGIN_FAILED, "error")
    elif request.method == "POST":
        record_failure()
        if secure_cookie_lost(form):
            hint = SECURE_COOKIE_HINT
            return render_template("auth/login.html", form=form, next_url=next_url, hint=hint), 400
        refuse_forged(form)
        flash(LOGIN_FAILED, "error")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("admin.vehicles"))
    return render_template("auth/login.html", form=form, next_url=next_url)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    """Sign out (a POST with a CSRF token, so a link elsewhere cannot sign you out).

    A GET, where a page has only a link (the dashboard's header), asks to confirm.
    """
    form = FlaskForm()
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("main.index"))
        return render_template("auth/logout.html", form=form)
    if form.validate_on_submit():
        if current_user.is_authenticated:
            # Ends this session everywhere: a copy of the cookie no longer signs in.
            current_user.end_sessions()
            db.session.commit()
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("main.index"))
