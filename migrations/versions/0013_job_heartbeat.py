"""job heartbeats: when a running job last reported progress

Revision ID: 0013_job_heartbeat
Revises: 0012_vehicle_indexes
Create Date: 2026-11-29 06:30:00

``jobs.heartbeat_at`` (models/jobs.py) is written when a job is claimed and with each
progress report, so a job whose worker died (killed, out of memory, redeployed) can be told
from one still working: a running job whose heartbeat is older than ``JOBS_STALE_SECONDS``
is shown and recorded as failed. A new nullable column: existing rows keep NULL, which no
check reads as stale.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_job_heartbeat"
down_revision = "0012_vehicle_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("heartbeat_at")
