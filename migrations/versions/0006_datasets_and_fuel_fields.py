"""datasets, and the fuel-economy fields of real EPA data

Revision ID: 0006_datasets_and_fuel_fields
Revises: 0005_ids_never_reused
Create Date: 2026-11-29 01:00:00

Every vehicle now belongs to a dataset. Vehicles already stored join ``auto-mpg`` (the
406-car sample, the only data fueldash had). ``mpg`` becomes ``combined_mpg`` (the
sample's single figure is its combined one), city and highway figures and the EPA's other
fields are added, and displacement is stored in litres: the sample's cubic inches are
converted here, and back on downgrade.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_datasets_and_fuel_fields"
down_revision = "0005_ids_never_reused"
branch_labels = None
depends_on = None

LITRES_PER_CUBIC_INCH = 0.016387064

AUTO_MPG = {
    "slug": "auto-mpg",
    "name": "Auto MPG, 1970-82",
    "description": (
        "406 cars from the 1970s and early 1980s, the classic auto-mpg sample; "
        "its single mpg figure is stored as the combined one."
    ),
    "source": "vega_datasets 0.9.0, _data/cars.json (from the UCI auto-mpg data)",
    "licence": "Public domain (UCI Machine Learning Repository)",
    "default_x": "horsepower",
    "default_y": "combined_mpg",
}

NEW_TEXT_COLUMNS = {
    "fuel_type": 80,
    "vehicle_class": 80,
    "drive": 80,
    "transmission": 80,
    "powertrain": 40,
}
NEW_NUMBER_COLUMNS = (
    "city_mpg",
    "highway_mpg",
    "co2_g_per_mile",
    "annual_fuel_cost_usd",
    "electric_range_miles",
)


def _sqlite_vehicle_sequence() -> int | None:
    """The largest vehicle id SQLite has handed out (None on other databases)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return None
    query = sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'vehicles'")
    return bind.execute(query).scalar() or 0


def _restore_sqlite_vehicle_sequence(seq: int | None) -> None:
    """A batch rebuild copies the rows but not SQLite's memory of deleted ids; put it back,
    so that ids stay never reused (0005)."""
    if seq is None:
        return
    op.execute("DELETE FROM sqlite_sequence WHERE name = 'vehicles'")
    op.execute(
        "INSERT INTO sqlite_sequence (name, seq) "
        f"SELECT 'vehicles', MAX({seq}, (SELECT COALESCE(MAX(id), 0) FROM vehicles))"
    )


def upgrade():
    seq = _sqlite_vehicle_sequence()
    datasets = op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("licence", sa.String(length=500), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("imported_by", sa.String(length=80), nullable=True),
        sa.Column("default_x", sa.String(length=40), nullable=False),
        sa.Column("default_y", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("slug", name=op.f("uq_datasets_slug")),
        sqlite_autoincrement=True,
    )
    bind = op.get_bind()
    has_vehicles = bind.execute(sa.text("SELECT 1 FROM vehicles LIMIT 1")).first() is not None
    if has_vehicles:
        op.bulk_insert(datasets, [{"id": 1, **AUTO_MPG}])
        if bind.dialect.name == "postgresql":
            op.execute("SELECT setval('datasets_id_seq', 1)")

    with op.batch_alter_table("vehicles", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_index("ix_vehicles_plot")
        batch.drop_constraint(op.f("ck_vehicles_mpg_positive"), type_="check")
        batch.alter_column("mpg", new_column_name="combined_mpg")
        batch.add_column(sa.Column("dataset_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("source_id", sa.String(length=40), nullable=True))
        batch.add_column(
            sa.Column(
                "combined_mpg_derived", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        for name in NEW_NUMBER_COLUMNS:
            batch.add_column(sa.Column(name, sa.Double(), nullable=True))
        for name, length in NEW_TEXT_COLUMNS.items():
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=True))

    op.execute("UPDATE vehicles SET dataset_id = 1")
    op.execute(f"UPDATE vehicles SET displacement = displacement * {LITRES_PER_CUBIC_INCH}")

    with op.batch_alter_table("vehicles", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("dataset_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            op.f("fk_vehicles_dataset_id_datasets"),
            "datasets",
            ["dataset_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint("uq_vehicles_dataset_source_id", ["dataset_id", "source_id"])
        for name in ("combined_mpg", "city_mpg", "highway_mpg"):
            batch.create_check_constraint(
                op.f(f"ck_vehicles_{name}_positive"), f"{name} IS NULL OR {name} > 0"
            )
        batch.create_index(
            "ix_vehicles_plot",
            ["dataset_id", "manufacturer_id", "horsepower", "combined_mpg", "year", "model", "id"],
        )
        batch.create_index("ix_vehicles_dataset", ["dataset_id", "id"])
    _restore_sqlite_vehicle_sequence(seq)


def downgrade():
    # Only the sample's own rows can go back to the old schema, which knew no datasets.
    seq = _sqlite_vehicle_sequence()
    op.execute(
        "DELETE FROM vehicles WHERE dataset_id <> (SELECT id FROM datasets WHERE slug = 'auto-mpg')"
    )
    op.execute(f"UPDATE vehicles SET displacement = displacement / {LITRES_PER_CUBIC_INCH}")
    with op.batch_alter_table("vehicles", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_index("ix_vehicles_dataset")
        batch.drop_index("ix_vehicles_plot")
        for name in ("combined_mpg", "city_mpg", "highway_mpg"):
            batch.drop_constraint(op.f(f"ck_vehicles_{name}_positive"), type_="check")
        batch.drop_constraint("uq_vehicles_dataset_source_id", type_="unique")
        batch.drop_constraint(op.f("fk_vehicles_dataset_id_datasets"), type_="foreignkey")
        for name in (*NEW_NUMBER_COLUMNS, *NEW_TEXT_COLUMNS):
            batch.drop_column(name)
        batch.drop_column("combined_mpg_derived")
        batch.drop_column("source_id")
        batch.drop_column("dataset_id")
        batch.alter_column("combined_mpg", new_column_name="mpg")
    with op.batch_alter_table("vehicles", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.create_check_constraint(op.f("ck_vehicles_mpg_positive"), "mpg IS NULL OR mpg > 0")
        batch.create_index(
            "ix_vehicles_plot", ["manufacturer_id", "horsepower", "mpg", "year", "model", "id"]
        )
    _restore_sqlite_vehicle_sequence(seq)
    op.drop_table("datasets")
