"""a session generation on every user, so signing out ends copied session cookies

Revision ID: 0008_session_generation
Revises: 0007_vehicle_version
Create Date: 2026-11-29 02:30:00

A session cookie names the user and their ``session_generation``; signing out or a new
password adds one, and cookies naming an older generation no longer sign anyone in.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_session_generation"
down_revision = "0007_vehicle_version"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="1", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
