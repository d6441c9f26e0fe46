"""Alembic environment for Flask-Migrate: runs fueldash's migrations on the app's engine.

On PostgreSQL every run holds a session-level advisory lock, so hosts that start
``flask db upgrade`` together take turns: the first migrates, the others wait (logging
that they do), then find the schema at head and do nothing. Statements on the migration
connection have no time limit (an index build on a large table outlasts the request-path
statement timeout).

Index builds on large tables should not lock writes for the whole build. Write them as::

    with op.get_context().autocommit_block():
        op.create_index("ix_name", "table", ["column"], postgresql_concurrently=True)

``autocommit_block`` commits the migration's transaction so far, runs the build outside
any transaction (which ``CREATE INDEX CONCURRENTLY`` requires), then opens a new one. This
works with the lock held because the lock belongs to the session, not to a transaction;
and it needs Alembic to own the transaction, which is why the lock's own transaction is
committed before migrations begin. SQLite ignores ``postgresql_concurrently``.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import Connection, func, select, text

config = context.config
if config.config_file_name:
    # Keep the app's own loggers working after migrations run inside a process.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

#: Any fixed 64-bit number; only migration runs take this PostgreSQL advisory lock.
MIGRATION_LOCK_KEY = 0x66756D6967726174  # "fumigrat"
#: How often a host waiting for another's migrations asks for the lock again.
LOCK_POLL_SECONDS = 0.5

target_db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (``flask db upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """Hold the PostgreSQL migration lock for the block, waiting while another host has it.

    The wait polls between transactions rather than blocking in ``pg_advisory_lock``: a
    session blocked inside a statement holds a snapshot, which the other host's
    ``CREATE INDEX CONCURRENTLY`` would wait for, and PostgreSQL would end one as a deadlock.
    """
    if connection.dialect.name != "postgresql":
        yield
        return
    waited = False
    while not connection.execute(select(func.pg_try_advisory_lock(MIGRATION_LOCK_KEY))).scalar():
        connection.commit()
        if not waited:
            logger.info("Another host is running migrations; waiting for it.")
            waited = True
        time.sleep(LOCK_POLL_SECONDS)
    # The migrations may take as long as they take: the statement timeout is for requests.
    connection.execute(text("SET statement_timeout = 0"))
    connection.commit()  # so Alembic begins (and may commit) the migrations' own transaction
    try:
        yield
    finally:
        connection.rollback()  # no-op after success; after a failure, clears the aborted state
        connection.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
        connection.execute(text("RESET statement_timeout"))  # back to the connect options'
        connection.commit()


def run_migrations_online() -> None:
    """Run the migrations over a live connection."""

    def process_revision_directives(_context, _revision, directives):  # type: ignore[no-untyped-def]
        # Do not write an empty revision when autogenerate finds no change.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with target_db.engine.connect() as connection, migration_lock(connection):
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild a table by dropping it, which SQLite would refuse, or
            # cascade, while other tables reference it; Alembic's batch docs say to switch
            # foreign keys off. The pragma works only outside a transaction, so it goes
            # straight to the driver, and back on before the pool gets the connection again.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            # Each revision commits on its own, as Alembic advises with autocommit blocks
            # (0012's CREATE INDEX CONCURRENTLY): one that fails leaves the ones before it
            # applied and stamped, and runs again from its start next time.
            context.configure(
                connection=connection,
                target_metadata=target_db.metadata,
                transaction_per_migration=True,
                **conf_args,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                connection.rollback()
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
