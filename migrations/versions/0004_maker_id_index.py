"""ix_vehicles_manufacturer: one maker's vehicles in id order, for API pages and counts

Revision ID: 0004_maker_id_index
Revises: 0003_plot_index_with_id
Create Date: 2026-11-24 15:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004_maker_id_index'
down_revision = '0003_plot_index_with_id'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.create_index('ix_vehicles_manufacturer', ['manufacturer_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.drop_index('ix_vehicles_manufacturer')
