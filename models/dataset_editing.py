"""Creating, describing and deleting datasets from the admin, each audited and each bumping
the data version, in the caller's transaction."""

import re
from dataclasses import asdict, fields

from sqlalchemy import Connection, delete, func, select, update

from models import summary
from models.audit import Actor, Change, record_changes
from models.datasets import DatasetInfo, create_dataset
from models.editing import EditError
from models.vehicle import Dataset, Vehicle, bump_data_version

#: Lowercase letters and digits, in words joined by single hyphens: "epa-1984-2015".
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def check_slug(conn: Connection, slug: str, dataset_id: int | None = None) -> None:
    """Raise EditError unless ``slug`` is well formed and no other dataset has it."""
    if not SLUG_PATTERN.match(slug):
        raise EditError(
            f"the slug {slug!r} may hold only lowercase letters, digits and single hyphens"
        )
    clash = conn.scalar(select(Dataset.id).where(Dataset.slug == slug, Dataset.id != dataset_id))
    if clash is not None:
        raise EditError(f"a dataset is already named {slug!r}")


def add_dataset(conn: Connection, actor: Actor, info: DatasetInfo) -> int:
    """Create an empty dataset; returns its id."""
    check_slug(conn, info.slug)
    dataset_id = create_dataset(conn, info)
    record_changes(conn, actor, [Change("create dataset", after=asdict(info))])
    bump_data_version(conn)
    return dataset_id


def _described(conn: Connection, dataset_id: int) -> DatasetInfo:
    columns = [getattr(Dataset, field.name) for field in fields(DatasetInfo)]
    row = conn.execute(select(*columns).where(Dataset.id == dataset_id)).one_or_none()
    if row is None:
        raise EditError("there is no such dataset")
    return DatasetInfo(*row)


def describe_dataset(conn: Connection, actor: Actor, dataset_id: int, info: DatasetInfo) -> None:
    """Rename a dataset or change what describes it; the log keeps what changed."""
    before = asdict(_described(conn, dataset_id))
    check_slug(conn, info.slug, dataset_id)
    after = asdict(info)
    changed = [key for key in after if before[key] != after[key]]
    if not changed:
        return
    # First: the change waits for the writers still open (each holds this row until it
    # commits), and none commits between its counting out and in (dataset_axes_changing).
    bump_data_version(conn)
    if {"default_x", "default_y"} & set(changed):
        # Which of its vehicles are plottable by default changes with the axes.
        with summary.dataset_axes_changing(conn, dataset_id):
            conn.execute(update(Dataset).where(Dataset.id == dataset_id).values(after))
    else:
        conn.execute(update(Dataset).where(Dataset.id == dataset_id).values(after))
    change = Change(
        "edit dataset",
        before={key: before[key] for key in ["slug", *changed]},
        after={key: after[key] for key in ["slug", *changed]},
    )
    record_changes(conn, actor, [change])


def vehicle_count(conn: Connection, dataset_id: int) -> int:
    return conn.scalar(select(func.count()).where(Vehicle.dataset_id == dataset_id)) or 0


def delete_dataset(conn: Connection, actor: Actor, dataset_id: int) -> int:
    """Delete a dataset and every vehicle in it; returns how many vehicles went. The log
    gets one entry that names the dataset and the count, not one per vehicle."""
    before = asdict(_described(conn, dataset_id))
    # The dataset's summary rows go with it (ON DELETE CASCADE).
    removed = conn.execute(delete(Vehicle).where(Vehicle.dataset_id == dataset_id)).rowcount
    conn.execute(delete(Dataset).where(Dataset.id == dataset_id))
    record_changes(conn, actor, [Change("delete dataset", before={**before, "vehicles": removed})])
    bump_data_version(conn)
    return removed
