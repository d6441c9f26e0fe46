"""the vehicle summary, and indexes for sorted pages, the point budget and q= search

Revision ID: 0009_vehicle_summary
Revises: 0008_session_generation
Create Date: 2026-11-29 03:10:00

``vehicle_summary`` and ``vehicle_filter_values`` (models/summary.py) are created and
filled from the vehicles; from here on the writers keep them in step. The new indexes
serve API pages sorted by combined mpg, horsepower and year (ix_vehicles_year gives way to
the (year, id) one), each maker's mpg range, the point budget's sample and, on PostgreSQL,
``q=`` through pg_trgm. On PostgreSQL they are built CONCURRENTLY, outside the migration's
transaction, so a large store keeps taking writes while they build; a build that failed
half-way leaves an invalid index, which the next run drops and builds again.
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
SAMPLE_ORDER = "mod(id * 2654435761, 4294967296)"
#: PostgreSQL: columns an index carries beside its keys ("similar vehicles" reads them).
INCLUDED = {"ix_vehicles_sort_horsepower": ["weight", "combined_mpg"]}

#: (name, columns or expressions, PostgreSQL only)
INDEXES: tuple[tuple[str, list, bool], ...] = (
    ("ix_vehicles_sort_combined_mpg", ["combined_mpg", "id"], False),
    ("ix_vehicles_sort_combined_mpg_desc", [sa.text("combined_mpg DESC NULLS LAST"), "id"], True),
    ("ix_vehicles_sort_horsepower", ["horsepower", "id"], False),
    ("ix_vehicles_sort_horsepower_desc", [sa.text("horsepower DESC NULLS LAST"), "id"], True),
    ("ix_vehicles_sort_year", ["year", "id"], False),
    ("ix_vehicles_sort_year_desc", [sa.text("year DESC NULLS LAST"), "id"], True),
    ("ix_vehicles_sort_weight", ["weight", "id"], False),
    ("ix_vehicles_maker_mpg", ["dataset_id", "manufacturer_id", "combined_mpg"], False),
    ("ix_vehicles_sample", ["manufacturer_id", sa.text(SAMPLE_ORDER)], True),
)


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

    if op.get_bind().dialect.name != "postgresql":
        for name, columns, postgresql_only in INDEXES:
            if not postgresql_only:
                op.create_index(name, "vehicles", columns)
        op.drop_index("ix_vehicles_year", table_name="vehicles")
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.get_context().autocommit_block():
        for name, columns, _postgresql_only in INDEXES:
            op.drop_index(name, table_name="vehicles", if_exists=True, postgresql_concurrently=True)
            op.create_index(
                name,
                "vehicles",
                columns,
                postgresql_concurrently=True,
                postgresql_include=INCLUDED.get(name, []),
            )
        op.drop_index(
            "ix_vehicles_model_trgm",
            table_name="vehicles",
            if_exists=True,
            postgresql_concurrently=True,
        )
        op.create_index(
            "ix_vehicles_model_trgm",
            "vehicles",
            ["model"],
            postgresql_using="gin",
            postgresql_ops={"model": "gin_trgm_ops"},
            postgresql_concurrently=True,
        )
        op.drop_index(
            "ix_vehicles_year", table_name="vehicles", if_exists=True, postgresql_concurrently=True
        )


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_index("ix_vehicles_year", "vehicles", ["year"])
    if postgresql:
        op.drop_index("ix_vehicles_model_trgm", table_name="vehicles")
    for name, _columns, postgresql_only in INDEXES:
        if postgresql or not postgresql_only:
            op.drop_index(name, table_name="vehicles")
    op.drop_table("vehicle_filter_values")
    op.drop_index(op.f("ix_vehicle_summary_manufacturer_id"), table_name="vehicle_summary")
    op.drop_table("vehicle_summary")
