"""the dashboard's covering index also carries what marks a point electric

Revision ID: 0014_plot_index_electric
Revises: 0013_job_heartbeat
Create Date: 2026-11-29 10:00:00

The points query reads each point's powertrain and fuel type (an electric vehicle's
figures are MPGe), which ix_vehicles_plot did not hold, so every point cost a read of its
row: at 1M vehicles a maker of 3,025 points took 17 ms instead of 3 on SQLite, and the
point budget's sample of the largest maker 300 ms. ix_vehicles_plot gains both columns
after ``id``, where they change no order.

On PostgreSQL the new index is built CONCURRENTLY under another name and then takes the old
one's place, so the dashboard keeps an index while it builds; every step can run again
after a failure, as in 0012.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0014_plot_index_electric"
down_revision = "0013_job_heartbeat"
branch_labels = None
depends_on = None

INDEX = "ix_vehicles_plot"
BUILDING = "ix_vehicles_plot_building"
BEFORE = ["dataset_id", "manufacturer_id", "horsepower", "combined_mpg", "year", "model", "id"]
AFTER = [*BEFORE, "powertrain", "fuel_type"]


def _replace_index(columns: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(INDEX, table_name="vehicles")
        op.create_index(INDEX, "vehicles", columns)
        return
    with op.get_context().autocommit_block():
        # A build that failed half-way leaves an invalid index under BUILDING: drop it.
        op.drop_index(BUILDING, table_name="vehicles", if_exists=True, postgresql_concurrently=True)
        op.create_index(BUILDING, "vehicles", columns, postgresql_concurrently=True)
        op.drop_index(INDEX, table_name="vehicles", if_exists=True, postgresql_concurrently=True)
        op.execute(f"ALTER INDEX {BUILDING} RENAME TO {INDEX}")


def upgrade():
    _replace_index(AFTER)


def downgrade():
    _replace_index(BEFORE)
