"""Datasets: the ones fueldash ships, looking one up by slug, and each one's row count."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select

from models.summary import VehicleSummary
from models.vehicle import Dataset

#: The dataset a vehicle joins when a form or an API write names none.
DEFAULT_DATASET = "auto-mpg"


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """What describes a dataset, apart from its vehicles."""

    slug: str
    name: str
    description: str = ""
    source: str = ""
    licence: str = ""
    default_x: str = "horsepower"
    default_y: str = "combined_mpg"


#: The datasets fueldash ships and seeds on first run.
SHIPPED: dict[str, DatasetInfo] = {
    info.slug: info
    for info in (
        DatasetInfo(
            slug="auto-mpg",
            name="Auto MPG, 1970-82",
            description=(
                "406 cars from the 1970s and early 1980s, the classic auto-mpg sample; "
                "its single mpg figure is stored as the combined one."
            ),
            source="vega_datasets 0.9.0, _data/cars.json (from the UCI auto-mpg data)",
            licence="Public domain (UCI Machine Learning Repository)",
        ),
        DatasetInfo(
            slug="epa-1984-2015",
            name="EPA fuel economy, 1984-2015",
            description=(
                "The US EPA's fuel economy list for model years 1984-2015: 33,442 vehicles "
                "with city and highway figures (MPGe for electric vehicles)."
            ),
            source=(
                "fueleconomy.gov vehicles.csv, as published in the R package fueleconomy "
                "(models/data/README.md)"
            ),
            licence="CC0; the EPA's data is a US government work",
            default_x="displacement",
            default_y="combined_mpg",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """A dataset with how many vehicles it holds."""

    id: int
    slug: str
    name: str
    description: str
    source: str
    licence: str
    imported_at: datetime | None
    imported_by: str | None
    default_x: str
    default_y: str
    vehicles: int


class UnknownDataset(LookupError):
    """No dataset has that slug; the message names it."""


def dataset_id_for(conn: Connection, slug: str) -> int:
    """The id of the dataset ``slug``; a shipped dataset is created when missing."""
    found = conn.scalar(select(Dataset.id).where(Dataset.slug == slug))
    if found is not None:
        return found
    if slug not in SHIPPED:
        raise UnknownDataset(f"no dataset is named {slug!r}")
    return create_dataset(conn, SHIPPED[slug])


def create_dataset(conn: Connection, info: DatasetInfo) -> int:
    """Insert a dataset described by ``info``; returns its id."""
    return conn.execute(
        insert(Dataset)
        .values(
            slug=info.slug,
            name=info.name,
            description=info.description,
            source=info.source,
            licence=info.licence,
            default_x=info.default_x,
            default_y=info.default_y,
        )
        .returning(Dataset.id)
    ).scalar_one()


def default_axes(conn: Connection) -> dict[str, tuple[str, str]]:
    """Each dataset's (x, y) default axes, by slug."""
    stmt = select(Dataset.slug, Dataset.default_x, Dataset.default_y)
    return {slug: (x, y) for slug, x, y in conn.execute(stmt)}


def dataset_summaries(conn: Connection) -> list[DatasetSummary]:
    """Every dataset, by slug, with its vehicle count (from the summary)."""
    counts = (
        select(VehicleSummary.dataset_id, func.sum(VehicleSummary.vehicles).label("vehicles"))
        .group_by(VehicleSummary.dataset_id)
        .subquery()
    )
    stmt = (
        select(
            Dataset.id,
            Dataset.slug,
            Dataset.name,
            Dataset.description,
            Dataset.source,
            Dataset.licence,
            Dataset.imported_at,
            Dataset.imported_by,
            Dataset.default_x,
            Dataset.default_y,
            func.coalesce(counts.c.vehicles, 0),
        )
        .outerjoin(counts, counts.c.dataset_id == Dataset.id)
        .order_by(Dataset.slug)
    )
    return [DatasetSummary(*row) for row in conn.execute(stmt)]
