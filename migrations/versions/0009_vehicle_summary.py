"""the vehicle summary: per (dataset, manufacturer) counts and each filter's values

Revision ID: 0009_vehicle_summary
Revises: 0008_session_generation
Create Date: 2026-11-29 03:10:00

``vehicle_summary`` and ``vehicle_filter_values`` (models/summary.py) are created and
filled from the vehicles; from here on the writers keep them in step. The indexes that
serve sorted pages, the point budget and ``q=`` are built by 0012, CONCURRENTLY on
PostgreSQL: a revision with an autocommit block cannot be re-run after failing half-way,
so this one keeps to a single transaction.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_vehicle_summary"
down_revision = "0008_session_generation"
branch_labels = None
depends_on = None

AXES = (
    "horsepower",
    "weight",
    "displacement",
    "acceleration",
    "year",
    "city_mpg",
    "highway_mpg",
    "combined_mpg",
)
FILTER_COLUMNS = {
    "origins": "origin",
    "cylinders": "cylinders",
    "fuel_types": "fuel_type",
    "vehicle_classes": "vehicle_class",
    "drives": "drive",
    "powertrains": "powertrain",
}


def _default_axis(which: str, fallback: str) -> str:
    cases = " ".join(f"WHEN '{axis}' THEN v.{axis}" for axis in AXES)
    return f"(CASE d.{which} {cases} ELSE v.{fallback} END)"


def _backfill() -> None:
    counts = ", ".join(f"count(v.{axis})" for axis in AXES)
    op.execute(
        f"""
        INSERT INTO vehicle_summary (dataset_id, manufacturer_id, vehicles, plottable,
            default_plottable, {", ".join(f"has_{axis}" for axis in AXES)},
            horsepower_sum, combined_mpg_sum, version)
        SELECT v.dataset_id, v.manufacturer_id, count(v.id),
            count(CASE WHEN v.horsepower IS NOT NULL AND v.combined_mpg IS NOT NULL
                  THEN v.id END),
            count(CASE WHEN {_default_axis("default_x", "horsepower")} IS NOT NULL
                  AND {_default_axis("default_y", "combined_mpg")} IS NOT NULL THEN v.id END),
            {counts},
            coalesce(sum(v.horsepower), 0.0), coalesce(sum(v.combined_mpg), 0.0), 1
        FROM vehicles AS v JOIN datasets AS d ON d.id = v.dataset_id
        GROUP BY v.dataset_id, v.manufacturer_id
        """
    )
    for field, column in FILTER_COLUMNS.items():
        op.execute(
            f"""
            INSERT INTO vehicle_filter_values (dataset_id, field, value, vehicles)
            SELECT dataset_id, '{field}', CAST({column} AS VARCHAR(80)), count(*)
            FROM vehicles WHERE {column} IS NOT NULL
            GROUP BY dataset_id, {column}
            """
        )


def upgrade():
    op.create_table(
        "vehicle_summary",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("manufacturer_id", sa.Integer(), nullable=False),
        sa.Column("vehicles", sa.Integer(), nullable=False),
        sa.Column("plottable", sa.Integer(), nullable=False),
        sa.Column("default_plottable", sa.Integer(), nullable=False),
        *(sa.Column(f"has_{axis}", sa.Integer(), nullable=False) for axis in AXES),
        sa.Column("horsepower_sum", sa.Float(), nullable=False),
        sa.Column("combined_mpg_sum", sa.Float(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_vehicle_summary_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manufacturer_id"],
            ["manufacturers.id"],
            name=op.f("fk_vehicle_summary_manufacturer_id_manufacturers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "manufacturer_id", name=op.f("pk_vehicle_summary")),
    )
    op.create_index(
        op.f("ix_vehicle_summary_manufacturer_id"), "vehicle_summary", ["manufacturer_id"]
    )
    op.create_table(
        "vehicle_filter_values",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=80), nullable=False),
        sa.Column("vehicles", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_vehicle_filter_values_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "dataset_id", "field", "value", name=op.f("pk_vehicle_filter_values")
        ),
    )
    _backfill()


def downgrade():
    op.drop_table("vehicle_filter_values")
    op.drop_index(op.f("ix_vehicle_summary_manufacturer_id"), table_name="vehicle_summary")
    op.drop_table("vehicle_summary")
