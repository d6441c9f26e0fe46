"""the API token behind each audited API write, and users that can be deactivated

Revision ID: 0011_audit_token_user_active
Revises: 0010_jobs
Create Date: 2026-11-29 03:20:00

``audit_log.token_id`` names the token an API write came with (the audit page shows its
name). ``users.active`` is false for a deactivated user, who can no longer sign in or use
a token; existing users stay active.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_audit_token_user_active"
down_revision = "0010_jobs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("token_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_audit_log_token_id_api_tokens"),
            "api_tokens",
            ["token_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("fk_audit_log_token_id_api_tokens"), type_="foreignkey")
        batch.drop_column("token_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("active")
