"""``/admin/users/``: admins list, create and manage the people who may sign in.

An admin can change a user's role, set a new password (which ends that user's sessions,
through ``User.set_password``) and deactivate or reactivate them. Editors get 403. An
admin cannot demote or deactivate themselves, so there is always an admin left who can
undo a change. Each change is in the audit log (never a password), in its transaction.
"""

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models.audit import Actor, Change, record_changes
from models.db import db
from models.user import (
    AccountError,
    AdminChangeRefused,
    ApiToken,
    User,
    check_admin_change,
    create_user,
    password_problem,
)
from models.validation import is_stored_id
from server.admin.forms import ConfirmForm, NewUserForm, PasswordForm, RoleForm
from server.auth.access import admin_required
from server.security import refuse_forged

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.before_request
@admin_required
def require_admin() -> None:
    """Every users page is for admins only (the admin blueprint already needs sign-in)."""


def _audit(action: str, user: User, before: dict[str, Any] | None = None, **after: Any) -> None:
    """Log a change to ``user`` in the session's transaction; the caller commits both."""
    change = Change(
        f"user-{action}",
        before={"user": user.username, **before} if before else None,
        after={"user": user.username, **after},
    )
    record_changes(db.session.connection(), Actor.for_user(current_user, "form"), [change])


def _user_or_404(user_id: int) -> User:
    # An id past the column's range names no user; the database would refuse to look.
    user = db.session.get(User, user_id) if is_stored_id(user_id) else None
    if user is None:
        abort(404, f"There is no user {user_id}.")
    return user


def _lock_for_change(user: User) -> None:
    """Start the change's transaction with the admins' rows locked and ``user`` re-read;
    409 when the signed-in admin is no longer one or ``user`` is the last active admin."""
    try:
        check_admin_change(db.session(), current_user, user)
    except AdminChangeRefused as error:
        db.session.rollback()
        abort(409, f"Not changed: {error}.")


@bp.route("/", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    """Every user, and a form to add one."""
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                db.session(), form.username.data or "", form.password.data or "", form.role.data
            )
        except AccountError as error:
            form.username.errors = [f"Not created: {error}."]
        else:
            try:
                db.session.flush()
                _audit("create", user, role=user.role)
                db.session.commit()
            except IntegrityError:  # the same name, created by someone else just now
                db.session.rollback()
                form.username.errors = [f"Not created: a user named {user.username!r} exists."]
            else:
                flash(f"User {user.username} created as {user.role}.", "info")
                return redirect(url_for("admin.users.index"))
    refuse_forged(form)
    tokens = func.count(ApiToken.id).filter(ApiToken.revoked_at.is_(None))
    rows = db.session.execute(
        select(User, tokens)
        .outerjoin(ApiToken, ApiToken.user_id == User.id)
        .group_by(User.id)
        .order_by(func.lower(User.username))
    ).all()
    status = 400 if form.errors else 200
    return render_template("admin/users.html", rows=rows, form=form), status


def _user_page(user: User, status: int = 200, **forms: FlaskForm) -> ResponseReturnValue:
    page = render_template(
        "admin/user.html",
        user=user,
        role_form=forms.get("role_form") or RoleForm(formdata=None, role=user.role),
        password_form=forms.get("password_form") or PasswordForm(formdata=None),
        active_form=ConfirmForm(formdata=None),
        own=user.id == current_user.id,
    )
    return page, status


@bp.get("/<int:user_id>")
def manage(user_id: int) -> ResponseReturnValue:
    """One user: their role, a new password, deactivation."""
    return _user_page(_user_or_404(user_id))


@bp.post("/<int:user_id>/role")
def change_role(user_id: int) -> ResponseReturnValue:
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        refuse_forged(form)
        return _user_page(user, 400, role_form=form)
    if user.id == current_user.id and form.role.data != user.role:
        form.role.errors = ["You cannot change your own role; ask another admin."]
        return _user_page(user, 400, role_form=form)
    if form.role.data != user.role:
        _lock_for_change(user)  # re-reads user: its role may have changed meanwhile
    if form.role.data != user.role:
        _audit("role", user, {"role": user.role}, role=form.role.data)
        user.role = form.role.data
        db.session.commit()
        flash(f"{user.username} is now {user.role}.", "info")
    return redirect(url_for("admin.users.manage", user_id=user_id))


@bp.post("/<int:user_id>/password")
def reset_password(user_id: int) -> ResponseReturnValue:
    """A new password; every session the user had ends (``User.set_password``)."""
    user = _user_or_404(user_id)
    form = PasswordForm()
    if not form.validate_on_submit():
        refuse_forged(form)
        return _user_page(user, 400, password_form=form)
    if problem := password_problem(form.password.data or ""):
        form.password.errors = [f"Not changed: {problem}."]
        return _user_page(user, 400, password_form=form)
    user.set_password(form.password.data or "")
    _audit("password", user)
    db.session.commit()
    if user.id == current_user.id:
        flash("Your password is changed; sign in again with it.", "info")
        return redirect(url_for("auth.login"))
    flash(f"{user.username}'s password is changed; their sessions have ended.", "info")
    return redirect(url_for("admin.users.manage", user_id=user_id))


@bp.post("/<int:user_id>/active")
def toggle_active(user_id: int) -> ResponseReturnValue:
    """Deactivate an active user (their sessions end and their tokens stop working), or
    reactivate one."""
    user = _user_or_404(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        refuse_forged(form)
        abort(400, "The form expired; reload and try again.")
    if user.id == current_user.id:
        flash("You cannot deactivate yourself; ask another admin.", "error")
        return redirect(url_for("admin.users.manage", user_id=user_id))
    # The button says what it does; without it, the opposite of what this request read.
    # Decided before the lock, so two admins deactivating one user at once both deactivate.
    requested = request.form.get("active")
    if requested not in (None, "0", "1"):
        abort(400, "active must be 0 (deactivate) or 1 (reactivate).")
    wanted = (not user.is_active) if requested is None else requested == "1"
    _lock_for_change(user)
    if user.is_active == wanted:
        db.session.rollback()
        state = "active" if wanted else "deactivated"
        flash(f"{user.username} is already {state}; nothing changed.", "info")
        return redirect(url_for("admin.users.manage", user_id=user_id))
    if not wanted:
        user.deactivate()
        _audit("deactivate", user, {"active": True}, active=False)
        db.session.commit()
        flash(f"{user.username} is deactivated: signed out everywhere, tokens refused.", "info")
    else:
        user.active = True
        _audit("reactivate", user, {"active": False}, active=True)
        db.session.commit()
        flash(f"{user.username} is active again.", "info")
    return redirect(url_for("admin.users.manage", user_id=user_id))
