"""Migrations started from several hosts at once take turns under a PostgreSQL advisory
lock, and a migration may build an index CONCURRENTLY while that lock is held.

Each test migrates its own scratch database, created and dropped here, next to the
TEST_DATABASE_URL database (the PostgreSQL run of CI); the index test also runs on SQLite.
"""

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, inspect, make_url, text

from models.db import db
from server import MIGRATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("TEST_DATABASE_URL")
needs_postgres = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
SCRIPTS = ScriptDirectory(str(MIGRATIONS_DIR))
HEAD = SCRIPTS.get_current_head()
ALL_REVISIONS = len(list(SCRIPTS.walk_revisions()))

#: pg_locks covers the whole server, where other tests may hold locks of their own.
ADVISORY_LOCKS_IN_THIS_DATABASE = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
CONCURRENT_INDEX_MIGRATION = '''"""A test-only index, built concurrently under the lock."""

from alembic import op
from sqlalchemy import text

revision = "9000_concurrent_index"
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        if bind.dialect.name == "postgresql":
            held = bind.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid()"
            )).scalar_one()
            assert held == 1, f"the migration lock is not held ({{held}} advisory locks)"
        op.create_index(
            "ix_test_vehicles_model", "vehicles", ["model"], postgresql_concurrently=True
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_test_vehicles_model", "vehicles", postgresql_concurrently=True)
'''


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """A new, empty PostgreSQL database beside the test database, dropped afterwards."""
    assert PG_URL is not None
    base = make_url(PG_URL)
    name = f"{base.database}_mig_{secrets.token_hex(4)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def start_upgrade(database_url: str) -> subprocess.Popen[str]:
    """``flask --app wsgi db upgrade`` in its own process, as a host's deploy runs it."""
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def upgrade_together(database_url: str) -> str:
    """Run two upgrades at once; both must succeed. Returns their combined output."""
    hosts = [start_upgrade(database_url) for _ in range(2)]
    outputs = [host.communicate(timeout=240)[0] for host in hosts]
    for host, output in zip(hosts, outputs, strict=True):
        assert host.returncode == 0, output
    return "\n".join(outputs)


def versions(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        found = list(conn.scalars(text("SELECT version_num FROM alembic_version")))
    engine.dispose()
    return found


@needs_postgres
def test_two_hosts_upgrading_a_fresh_database_at_once_both_succeed(scratch_url: str) -> None:
    output = upgrade_together(scratch_url)
    assert versions(scratch_url) == [HEAD]
    # The hosts took turns: every revision ran once, in one of them.
    assert output.count("Running upgrade") == ALL_REVISIONS, output


@needs_postgres
def test_two_hosts_applying_one_pending_revision_at_once_both_succeed(
    make_app: Any, scratch_url: str
) -> None:
    previous = SCRIPTS.get_revision(HEAD).down_revision
    assert isinstance(previous, str)
    with make_app(SQLALCHEMY_DATABASE_URI=scratch_url).app_context():
        upgrade(revision=previous)
        db.engine.dispose()
    assert versions(scratch_url) == [previous]
    output = upgrade_together(scratch_url)
    assert versions(scratch_url) == [HEAD]
    assert output.count("Running upgrade") == 1, output


def migrations_with_a_concurrent_index(tmp_path: Path) -> Path:
    """A copy of the migrations with one more revision that builds an index concurrently."""
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__"))
    migration = CONCURRENT_INDEX_MIGRATION.format(down_revision=HEAD)
    (directory / "versions" / "9000_concurrent_index.py").write_text(migration)
    return directory


def upgrade_with_a_concurrent_index(app: Any, tmp_path: Path) -> list[str]:
    """Upgrade ``app``'s database through that copy; returns the statements it ran."""
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        upgrade(directory=str(migrations_with_a_concurrent_index(tmp_path)))
        assert "ix_test_vehicles_model" in {
            index["name"] for index in inspect(db.engine).get_indexes("vehicles")
        }
    return statements


@needs_postgres
def test_an_index_is_built_concurrently_under_the_migration_lock(
    make_app: Any, scratch_url: str, tmp_path: Path
) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=scratch_url)
    statements = upgrade_with_a_concurrent_index(app, tmp_path)
    assert any(s.startswith("CREATE INDEX CONCURRENTLY ix_test_vehicles_model") for s in statements)
    with app.app_context(), db.engine.connect() as conn:
        valid = conn.execute(
            text(
                "SELECT indisvalid FROM pg_index"
                " WHERE indexrelid = 'ix_test_vehicles_model'::regclass"
            )
        ).scalar_one()
        assert valid is True
        # The lock is released, and the pooled connection has its statement timeout back.
        assert conn.execute(text(ADVISORY_LOCKS_IN_THIS_DATABASE)).scalar_one() == 0
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "10s"


def test_sqlite_runs_a_concurrent_index_migration_as_a_plain_one(
    make_app: Any, tmp_path: Path
) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/concurrent.sqlite3")
    statements = upgrade_with_a_concurrent_index(app, tmp_path)
    assert any(s.startswith("CREATE INDEX ix_test_vehicles_model") for s in statements)
