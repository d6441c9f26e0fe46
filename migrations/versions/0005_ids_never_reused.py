"""vehicles and manufacturers: SQLite never hands a deleted id out again (AUTOINCREMENT)

Revision ID: 0005_ids_never_reused
Revises: 0004_maker_id_index
Create Date: 2026-11-28 12:00:00

PostgreSQL's sequences never reuse ids, so this changes nothing there. On SQLite each
table is rebuilt with AUTOINCREMENT, keeping its rows. The counter starts after the
largest id the table or the audit log has ever named, so ids deleted before this
migration are not handed out again either.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0005_ids_never_reused"
down_revision = "0004_maker_id_index"
branch_labels = None
depends_on = None

#: Table -> the audit log's column that names its ids.
TABLES = {"manufacturers": "manufacturer_id", "vehicles": "vehicle_id"}


def _rebuild(autoincrement: bool) -> None:
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild(autoincrement=True)
    for table, audited in TABLES.items():
        op.execute(f"DELETE FROM sqlite_sequence WHERE name = '{table}'")
        op.execute(
            f"INSERT INTO sqlite_sequence (name, seq) SELECT '{table}', MAX("
            f"(SELECT COALESCE(MAX(id), 0) FROM {table}), "
            f"(SELECT COALESCE(MAX({audited}), 0) FROM audit_log))"
        )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(autoincrement=False)
