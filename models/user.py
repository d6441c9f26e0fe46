"""People who may change the data: users with a role, and their personal API tokens.

Passwords are stored as werkzeug scrypt hashes; API tokens only as the SHA-256 of the
secret, so a leaked database reveals neither. A session names the user together with
their ``session_generation``; signing out, changing the password or being deactivated
moves it on, so every cookie issued before then stops working, wherever it was copied to.
A deactivated user can neither sign in nor use their API tokens.

There is always an active admin: ``check_admin_change`` locks the active admins' rows
before a role or access change, so two admins demoting each other at the same moment
cannot both succeed.
"""

import hashlib
import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    and_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from models.db import Model
from models.validation import MAX_NAME_LENGTH, is_storable_text

ROLES = ("admin", "editor")
MAX_USERNAME = 80
MIN_PASSWORD = 8
TOKEN_PREFIX = "fd_"


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(UserMixin, Model):
    """An account that can sign in to /admin/. Admins also manage tokens."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'editor')", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(MAX_USERNAME), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Server-side default only, so inserts written for older schemas (migration tests) work.
    session_generation: Mapped[int] = mapped_column(Integer, server_default="1")
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())  # as above

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")

    def set_password(self, password: str) -> None:
        """Store a new password hash and end every session signed in with the old one."""
        self.password_hash = generate_password_hash(password, method="scrypt")
        if self.session_generation is not None:  # None: a new user, not yet flushed
            self.end_sessions()

    def end_sessions(self) -> None:
        """Make every session cookie issued so far for this user invalid."""
        self.session_generation += 1

    def deactivate(self) -> None:
        """Refuse this user from now on: no sign-in, no API token, no current session."""
        self.active = False
        self.end_sessions()

    @property
    def is_active(self) -> bool:
        """Flask-Login's check: ``login_user`` refuses a user who is not active."""
        return self.active is not False

    def get_id(self) -> str:
        """Flask-Login's alternative token: the id and the current session generation."""
        return f"{self.id}:{self.session_generation}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.username!r} {self.role}>"


class ApiToken(Model):
    """A personal bearer token for the JSON write API; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class AccountError(ValueError):
    """A user cannot be created as asked; the message says why."""


class AdminChangeRefused(AccountError):
    """A role or access change would leave no active admin, or its maker is no longer one."""


def check_admin_change(session: Session, actor: User | None, target: User) -> None:
    """Before changing ``target``'s role or access: lock the rows of every active admin and
    of ``target`` until the session's transaction ends, re-read them, and raise
    AdminChangeRefused when ``actor`` (None: the command line) is no longer an active
    admin, or when ``target`` is the only active admin (whom the change would take away).

    It rolls back the session's transaction and begins a new one, so call it before
    changing anything. On PostgreSQL the rows are locked with SELECT ... FOR UPDATE in id
    order, so two such changes at once take their locks in the same order (no deadlock),
    and the second waits for the first to commit and then sees its outcome. SQLite ignores
    FOR UPDATE; there the new transaction begins IMMEDIATE, holding the database's write
    lock, so no other writer comes between the check and the change.
    """
    actor_id, target_id = (actor.id if actor else None), target.id
    session.rollback()  # what the session read earlier in the request could be stale
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    active_admin = and_(User.role == "admin", User.active)
    locked = session.scalars(
        select(User)
        .where(or_(active_admin, User.id == target_id))
        .order_by(User.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    admins = {user.id for user in locked if user.is_admin and user.is_active}
    if actor_id is not None and actor_id not in admins:
        raise AdminChangeRefused(
            "you are no longer an active admin: another admin changed your account just now"
        )
    if admins == {target_id}:
        raise AdminChangeRefused(f"{target.username} is the last active admin")


def password_problem(password: str) -> str | None:
    """Why a password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD:
        return f"the password must be at least {MIN_PASSWORD} characters"
    return None


def create_user(session: Session, username: str, password: str, role: str) -> User:
    """Add a new user to ``session``; raises AccountError for a bad name, role or password."""
    username = username.strip()
    if not username or len(username) > MAX_USERNAME:
        raise AccountError(f"the username must be 1 to {MAX_USERNAME} characters")
    if not is_storable_text(username):
        raise AccountError("the username cannot hold NUL or bytes that are not UTF-8")
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    if problem := password_problem(password):
        raise AccountError(problem)
    if find_user(session, username) is not None:
        raise AccountError(f"a user named {username!r} already exists")
    user = User(username=username, role=role)
    user.set_password(password)
    session.add(user)
    return user


def find_user(session: Session, username: str) -> User | None:
    """The user with exactly this name, or None."""
    if not is_storable_text(username):
        return None  # no such name can be stored, and PostgreSQL refuses to compare NUL
    return session.scalar(select(User).where(User.username == username.strip()))


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the returned secret is never stored and shown only once."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name.strip()[:MAX_NAME_LENGTH] or "token", token_hash=hash_token(secret)
    )
    session.add(token)
    return token, secret


def token_for_secret(session: Session, secret: str) -> ApiToken | None:
    """The active token with this secret, of an active user, or None; records its use."""
    if not secret or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or not token.active or not token.user.is_active:
        return None
    token.last_used_at = utcnow()
    return token
