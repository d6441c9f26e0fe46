"""indexes for sorted API pages, each maker's mpg range, the point budget and q= search

Revision ID: 0012_vehicle_indexes
Revises: 0011_audit_token_user_active
Create Date: 2026-11-29 04:40:00

The new indexes serve API pages sorted by combined mpg, horsepower and year
(ix_vehicles_year gives way to the (year, id) one), each maker's mpg range, the point
budget's sample and, on PostgreSQL, ``q=`` through pg_trgm. On PostgreSQL they are built
CONCURRENTLY, outside a transaction, so a large store keeps taking writes while they
build. The revisions before this one are committed first (migrations/env.py runs each in
its own transaction), and every step here can run again: a build that failed half-way
leaves an invalid index, which the next run drops and builds again.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_vehicle_indexes"
down_revision = "0011_audit_token_user_active"
branch_labels = None
depends_on = None

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


def upgrade():
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
