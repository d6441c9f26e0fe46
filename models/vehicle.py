"""The store's tables: datasets, manufacturers, vehicles, and the data version writes bump."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.db import Model
from models.validation import (
    MAX_CODE_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_MODEL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_ORIGIN_LENGTH,
    MAX_SLUG_LENGTH,
    MAX_SOURCE_LENGTH,
)


class Dataset(Model):
    """A named collection of vehicles from one source, such as the EPA's list."""

    __tablename__ = "datasets"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(MAX_SLUG_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Where the data came from: a URL or a sentence.
    source: Mapped[str] = mapped_column(String(MAX_SOURCE_LENGTH), default="")
    licence: Mapped[str] = mapped_column(String(MAX_SOURCE_LENGTH), default="")
    imported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str | None] = mapped_column(String(MAX_NAME_LENGTH))
    #: The axes the dashboard opens this dataset on.
    default_x: Mapped[str] = mapped_column(String(MAX_CODE_LENGTH), default="horsepower")
    default_y: Mapped[str] = mapped_column(String(MAX_CODE_LENGTH), default="combined_mpg")

    vehicles: Mapped[list["Vehicle"]] = relationship(back_populates="dataset", passive_deletes=True)

    def __repr__(self) -> str:
        return f"<Dataset {self.slug!r}>"


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


#: Numeric fields whose API sorts are served from an index, in both directions.
SORT_INDEXED: tuple[str, ...] = ("combined_mpg", "horsepower", "year")
#: A fixed pseudo-random order of ids (Knuth's multiplicative hash, modulo 2**32): the
#: order the point budget samples a maker's vehicles in. Queries must spell it exactly so,
#: for the database to match it to ix_vehicles_sample.
SAMPLE_MULTIPLIER = 2654435761
#: Every place in that order is below this.
SAMPLE_KEYS = 2**32
SAMPLE_ORDER = f"mod(id * {SAMPLE_MULTIPLIER}, {SAMPLE_KEYS})"


#: ix_vehicles_plot's columns: the points query's filter and order, then what it reads.
PLOT_INDEX_COLUMNS = (
    "dataset_id",
    "manufacturer_id",
    "horsepower",
    "combined_mpg",
    "year",
    "model",
    "id",
    "powertrain",
    "fuel_type",
)

#: Indexes built on PostgreSQL only (expressions, DESC NULLS LAST, trigrams); migrations
#: skip them elsewhere, and so must a comparison of the models with a SQLite schema.
POSTGRESQL_ONLY_INDEXES = frozenset(
    {
        *(f"ix_vehicles_sort_{field}_desc" for field in SORT_INDEXED),
        "ix_vehicles_sample",
        "ix_vehicles_model_trgm",
    }
)


class Vehicle(Model):
    """One car. Unknown measurements are NULL, never a sentinel such as 0 or -1."""

    __tablename__ = "vehicles"
    __table_args__ = (
        # Covers the dashboard's default query: one dataset's and maker's (hp, combined
        # mpg) points with the hover text and the electric flag, answered from the index
        # alone. Without the last two, every point cost a read of its row: at 1M vehicles
        # a maker of 3,025 points took 17 ms instead of 3 (migration 0014).
        Index("ix_vehicles_plot", *PLOT_INDEX_COLUMNS),
        # One maker's vehicles in id order: an API page filtered by manufacturer reads its
        # rows straight off this index.
        Index("ix_vehicles_manufacturer", "manufacturer_id", "id"),
        Index("ix_vehicles_dataset", "dataset_id", "id"),
        # API pages sorted on these fields read their rows off an index in order, ties on
        # id (models/api_queries.py); weight and horsepower also give "similar vehicles"
        # their spans and neighbours. Descending with NULLs last needs its own index on
        # PostgreSQL; SQLite cannot write NULLS LAST in an index.
        *(
            index
            for field in SORT_INDEXED
            for index in (
                # "Similar vehicles" reads horsepower neighbours' weight and mpg from here.
                Index(
                    f"ix_vehicles_sort_{field}",
                    field,
                    "id",
                    postgresql_include=["weight", "combined_mpg"] if field == "horsepower" else [],
                ),
                Index(
                    f"ix_vehicles_sort_{field}_desc", text(f"{field} DESC NULLS LAST"), "id"
                ).ddl_if(dialect="postgresql"),
            )
        ),
        Index("ix_vehicles_sort_weight", "weight", "id"),
        # Stats by manufacturer take each maker's mpg range from here (horsepower's comes
        # from ix_vehicles_plot).
        Index("ix_vehicles_maker_mpg", "dataset_id", "manufacturer_id", "combined_mpg"),
        # The point budget's sample: a maker's vehicles in a fixed pseudo-random order, so a
        # series reads its share of rows and no more (models/explore.py). PostgreSQL only:
        # SQLAlchemy cannot reflect an expression index on SQLite, whose stores are small.
        Index("ix_vehicles_sample", "manufacturer_id", text(SAMPLE_ORDER)).ddl_if(
            dialect="postgresql"
        ),
        # q= matches model names by substring; trigrams let PostgreSQL find them by index.
        Index(
            "ix_vehicles_model_trgm",
            "model",
            postgresql_using="gin",
            postgresql_ops={"model": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
        # A file's own row ids, kept so that importing it again updates instead of adding.
        UniqueConstraint("dataset_id", "source_id", name="uq_vehicles_dataset_source_id"),
        CheckConstraint("horsepower IS NULL OR horsepower > 0", name="horsepower_positive"),
        CheckConstraint("combined_mpg IS NULL OR combined_mpg > 0", name="combined_mpg_positive"),
        CheckConstraint("city_mpg IS NULL OR city_mpg > 0", name="city_mpg_positive"),
        CheckConstraint("highway_mpg IS NULL OR highway_mpg > 0", name="highway_mpg_positive"),
        CheckConstraint("cylinders IS NULL OR cylinders > 0", name="cylinders_positive"),
        CheckConstraint("displacement IS NULL OR displacement > 0", name="displacement_positive"),
        CheckConstraint("weight IS NULL OR weight > 0", name="weight_positive"),
        CheckConstraint("acceleration IS NULL OR acceleration > 0", name="acceleration_positive"),
        # A deleted vehicle's id is never given to another (see Manufacturer).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    #: The row's id in the file it was imported from, unique within its dataset.
    source_id: Mapped[str | None] = mapped_column(String(MAX_CODE_LENGTH))
    manufacturer_id: Mapped[int] = mapped_column(
        ForeignKey("manufacturers.id", ondelete="RESTRICT")
    )
    model: Mapped[str] = mapped_column(String(MAX_MODEL_LENGTH))
    year: Mapped[int | None] = mapped_column(Integer)  # indexed by ix_vehicles_sort_year
    horsepower: Mapped[float | None]
    #: Fuel economy in mpg (MPGe for electric vehicles).
    city_mpg: Mapped[float | None]
    highway_mpg: Mapped[float | None]
    combined_mpg: Mapped[float | None]
    #: True when combined_mpg was computed from city and highway by the EPA's weighting.
    combined_mpg_derived: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    cylinders: Mapped[int | None]
    #: Engine displacement in litres.
    displacement: Mapped[float | None]
    #: Weight in lb.
    weight: Mapped[float | None]
    #: 0-60 mph time in seconds.
    acceleration: Mapped[float | None]
    origin: Mapped[str | None] = mapped_column(String(MAX_ORIGIN_LENGTH), index=True)
    fuel_type: Mapped[str | None] = mapped_column(String(MAX_LABEL_LENGTH))
    vehicle_class: Mapped[str | None] = mapped_column(String(MAX_LABEL_LENGTH))
    drive: Mapped[str | None] = mapped_column(String(MAX_LABEL_LENGTH))
    transmission: Mapped[str | None] = mapped_column(String(MAX_LABEL_LENGTH))
    powertrain: Mapped[str | None] = mapped_column(String(MAX_CODE_LENGTH))
    co2_g_per_mile: Mapped[float | None]
    annual_fuel_cost_usd: Mapped[float | None]
    electric_range_miles: Mapped[float | None]

    #: One more on every UPDATE of the row, whoever makes it: a save that names an older
    #: version (the admin form's, the API's If-Match) would undo a change it never saw.
    version: Mapped[int] = mapped_column(
        Integer, default=1, server_default=text("1"), onupdate=text("version + 1")
    )

    dataset: Mapped[Dataset] = relationship(back_populates="vehicles")
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


#: Every cached dashboard request runs this; a statement is immutable, so one serves all.
_CURRENT_VERSION = select(DataVersion.version).where(DataVersion.id == 1)


def current_data_version(conn: Connection) -> int:
    """The store's version now; 1 for a store that was never written."""
    return conn.scalar(_CURRENT_VERSION) or 1
