"""The audit log: who changed what, when, through which surface, with before and after.

Every write path (admin forms, import, API, CLI) calls ``record_changes`` in the same
transaction as the change itself, so the log and the data cannot disagree.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, ForeignKey, Integer, String, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.api_queries import select_vehicles
from models.db import Model
from models.filters import VehicleFilter
from models.paging import Page
from models.user import ApiToken, User, utcnow
from models.validation import VEHICLE_FIELDS, is_stored_id
from models.vehicle import Vehicle

SOURCES = ("form", "import", "api", "cli")


class AuditEntry(Model):
    """One change to one vehicle or manufacturer."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    # Not foreign keys: the log outlives the rows it describes.
    vehicle_id: Mapped[int | None] = mapped_column(Integer, index=True)
    manufacturer_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The API token an API write came with (tokens are revoked, never deleted).
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="SET NULL"))

    token: Mapped[ApiToken | None] = relationship(lazy="joined")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is making a change, through which surface and, on the API, with which token."""

    name: str
    source: str
    user_id: int | None = None
    token_id: int | None = None

    @classmethod
    def for_user(cls, user: User, source: str) -> "Actor":
        return cls(name=user.username, source=source, user_id=user.id)

    @classmethod
    def for_token(cls, token: ApiToken) -> "Actor":
        """An API writer: the token's owner, and the token."""
        return cls(token.user.username, "api", user_id=token.user_id, token_id=token.id)


@dataclass(frozen=True, slots=True)
class Change:
    """One row for the log: an action on a vehicle or a manufacturer."""

    action: str
    vehicle_id: int | None = None
    manufacturer_id: int | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


def record_changes(conn: Connection, actor: Actor, changes: Iterable[Change]) -> int:
    """Write ``changes`` to the log inside the caller's transaction; returns how many."""
    now = utcnow()
    rows = [
        {
            "at": now,
            "user_id": actor.user_id,
            "actor": actor.name[:120],
            "source": actor.source,
            "action": change.action,
            "vehicle_id": change.vehicle_id,
            "manufacturer_id": change.manufacturer_id,
            "before": dict(change.before) if change.before is not None else None,
            "after": dict(change.after) if change.after is not None else None,
            "token_id": actor.token_id,
        }
        for change in changes
    ]
    if rows:
        conn.execute(insert(AuditEntry), rows)
    return len(rows)


def vehicle_snapshots(conn: Connection, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """id -> the vehicle's values as the audit log records them (manufacturer by name)."""
    wanted = sorted({i for i in ids if is_stored_id(i)})
    if not wanted:
        return {}
    stmt = select_vehicles(VehicleFilter()).where(Vehicle.id.in_(wanted))
    return {row.id: {f: getattr(row, f) for f in VEHICLE_FIELDS} for row in conn.execute(stmt)}


def audit_page(
    session: Any, *, vehicle_id: int | None, actor: str | None, page: int, per_page: int
) -> Page[AuditEntry]:
    """Newest entries first, optionally only one vehicle's or one user's."""
    stmt = select(AuditEntry)
    if vehicle_id is not None:
        stmt = stmt.where(AuditEntry.vehicle_id == vehicle_id)
    if actor:
        stmt = stmt.where(func.lower(AuditEntry.actor) == actor.strip().lower())
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    entries = session.scalars(
        stmt.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(list(entries), total, page, per_page)
