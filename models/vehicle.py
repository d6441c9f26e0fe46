"""The vehicle store's tables: manufacturers, vehicles, and the data version writes bump."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.db import Model
from models.validation import MAX_MODEL_LENGTH, MAX_NAME_LENGTH, MAX_ORIGIN_LENGTH


class Manufacturer(Model):
    """A maker of vehicles, stored once under its normalized display name."""

    __tablename__ = "manufacturers"
    # Ids are never handed out twice, so old links and the audit log name one maker only.
    # PostgreSQL's sequences never reuse ids; SQLite needs AUTOINCREMENT for that.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH), unique=True)

    vehicles: Mapped[list["Vehicle"]] = relationship(back_populates="manufacturer")

    def __repr__(self) -> str:
        return f"<Manufacturer {self.name!r}>"


class Vehicle(Model):
    """One car. Unknown measurements are NULL, never a sentinel such as 0 or -1."""

    __tablename__ = "vehicles"
    __table_args__ = (
        # Covers the dashboard query: one manufacturer's plottable (hp, mpg) points with
        # the hover text, answered from the index alone. ``id`` is there for the point
        # budget's sample (``id % stride``): SQLite's indexes carry the rowid anyway,
        # PostgreSQL's would otherwise visit the table for every row.
        Index(
            "ix_vehicles_plot",
            "manufacturer_id",
            "horsepower",
            "mpg",
            "year",
            "model",
            "id",
        ),
        # One maker's vehicles in id order: an API page filtered by manufacturer reads its
        # rows straight off this index, and counts them from an index a third the width.
        Index("ix_vehicles_manufacturer", "manufacturer_id", "id"),
        CheckConstraint("horsepower IS NULL OR horsepower > 0", name="horsepower_positive"),
        CheckConstraint("mpg IS NULL OR mpg > 0", name="mpg_positive"),
        CheckConstraint("cylinders IS NULL OR cylinders > 0", name="cylinders_positive"),
        CheckConstraint("displacement IS NULL OR displacement > 0", name="displacement_positive"),
        CheckConstraint("weight IS NULL OR weight > 0", name="weight_positive"),
        CheckConstraint("acceleration IS NULL OR acceleration > 0", name="acceleration_positive"),
        # A deleted vehicle's id is never given to another (see Manufacturer).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manufacturer_id: Mapped[int] = mapped_column(
        ForeignKey("manufacturers.id", ondelete="RESTRICT")
    )
    model: Mapped[str] = mapped_column(String(MAX_MODEL_LENGTH))
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    horsepower: Mapped[float | None]
    mpg: Mapped[float | None]
    cylinders: Mapped[int | None]
    displacement: Mapped[float | None]
    weight: Mapped[float | None]
    acceleration: Mapped[float | None]
    origin: Mapped[str | None] = mapped_column(String(MAX_ORIGIN_LENGTH), index=True)

    manufacturer: Mapped[Manufacturer] = relationship(back_populates="vehicles")

    def __repr__(self) -> str:
        return f"<Vehicle {self.id} {self.model!r} {self.year}>"


class DataVersion(Model):
    """A single counter that every write to the store bumps.

    It lives in the database, so every worker on every machine agrees on it; caches and
    ETags are keyed by it.
    """

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)


@event.listens_for(Session, "before_flush")
def _bump_version_on_orm_write(session: Session, _context: object, _instances: object) -> None:
    """Any ORM change to vehicles or manufacturers bumps the data version in the same flush."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, Vehicle | Manufacturer) for obj in changed):
        bump_data_version(session.connection())


def bump_data_version(conn: Connection) -> None:
    """Mark the store as changed; caches and ETags keyed by the version go stale."""
    result = conn.execute(
        update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1)
    )
    if result.rowcount == 0:
        conn.execute(insert(DataVersion).values(id=1, version=2))


def current_data_version(conn: Connection) -> int:
    """The store's version now; 1 for a store that was never written."""
    return conn.scalar(select(DataVersion.version).where(DataVersion.id == 1)) or 1
