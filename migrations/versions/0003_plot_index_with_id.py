"""ix_vehicles_plot also carries id, so the point budget's sample stays index-only

Revision ID: 0003_plot_index_with_id
Revises: 0002_users_audit_tokens
Create Date: 2026-11-24 11:35:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003_plot_index_with_id'
down_revision = '0002_users_audit_tokens'
branch_labels = None
depends_on = None

OLD_COLUMNS = ['manufacturer_id', 'horsepower', 'mpg', 'year', 'model']


def upgrade():
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.drop_index('ix_vehicles_plot')
        batch_op.create_index('ix_vehicles_plot', [*OLD_COLUMNS, 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.drop_index('ix_vehicles_plot')
        batch_op.create_index('ix_vehicles_plot', OLD_COLUMNS, unique=False)
