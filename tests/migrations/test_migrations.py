"""The migrations build exactly the schema the models describe, and can be undone."""

import os
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from models import DataVersion
from models.db import db


@pytest.fixture
def migration_app(make_app: Any, database_url: str, tmp_path: Path) -> Flask:
    """On SQLite a fresh file; on PostgreSQL the test database, left at head afterwards."""
    if os.environ.get("TEST_DATABASE_URL"):
        return make_app()
    return make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/migrations.sqlite3")


def schema_differences(app: Flask) -> list[Any]:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_downgrade_upgrade(migration_app: Flask) -> None:
    with migration_app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"manufacturers", "vehicles", "data_version", "alembic_version"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert {"manufacturers", "vehicles", "data_version"} <= set(
            inspect(db.engine).get_table_names()
        )
        assert db.session.scalar(select(DataVersion.version).where(DataVersion.id == 1)) == 1
        db.session.remove()


def test_models_and_migrations_agree(migration_app: Flask) -> None:
    with migration_app.app_context():
        upgrade()
    assert schema_differences(migration_app) == []


def test_dashboard_index_exists(migration_app: Flask) -> None:
    with migration_app.app_context():
        upgrade()
        indexes = {
            ix["name"]: ix["column_names"] for ix in inspect(db.engine).get_indexes("vehicles")
        }
    assert indexes["ix_vehicles_plot"] == [
        "manufacturer_id",
        "horsepower",
        "mpg",
        "year",
        "model",
        "id",  # the point budget samples by id without leaving the index (issue 5)
    ]
