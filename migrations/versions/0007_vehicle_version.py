"""a version on every vehicle, so a save made against old values is refused

Revision ID: 0007_vehicle_version
Revises: 0006_datasets_and_fuel_fields
Create Date: 2026-11-29 02:00:00

Every update of a vehicle adds one to its ``version``; the admin form and the API's
If-Match send the version they saw, and a save against an older one is refused.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_vehicle_version"
down_revision = "0006_datasets_and_fuel_fields"
branch_labels = None
depends_on = None


def _sqlite_vehicle_sequence() -> int | None:
    """The largest vehicle id SQLite has handed out (None on other databases)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return None
    query = sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'vehicles'")
    return bind.execute(query).scalar() or 0


def _restore_sqlite_vehicle_sequence(seq: int | None) -> None:
    """A batch rebuild loses SQLite's memory of deleted ids; put it back (see 0005)."""
    if seq is None:
        return
    op.execute("DELETE FROM sqlite_sequence WHERE name = 'vehicles'")
    op.execute(
        "INSERT INTO sqlite_sequence (name, seq) "
        f"SELECT 'vehicles', MAX({seq}, (SELECT COALESCE(MAX(id), 0) FROM vehicles))"
    )


def upgrade():
    seq = _sqlite_vehicle_sequence()
    with op.batch_alter_table("vehicles", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    _restore_sqlite_vehicle_sequence(seq)


def downgrade():
    seq = _sqlite_vehicle_sequence()
    with op.batch_alter_table("vehicles", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("version")
    _restore_sqlite_vehicle_sequence(seq)
