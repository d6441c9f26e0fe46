"""The migrations build exactly the schema the models describe, and can be undone."""

import os
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from models import ApiToken, AuditEntry, DataVersion, Manufacturer, User, Vehicle
from models.db import db
from models.user import utcnow
from tests.conftest import reset_store


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


def test_ids_are_never_reused_after_upgrading_a_store_with_data(migration_app: Flask) -> None:
    """0005 rebuilds SQLite's tables for AUTOINCREMENT: rows, constraints and references
    survive, and neither a deleted vehicle's id nor one only the audit log remembers is
    handed out again."""
    with migration_app.app_context():
        upgrade(revision="0004_maker_id_index")
        with db.engine.begin() as conn:
            reset_store(conn)
            ford = conn.scalar(insert(Manufacturer).values(name="Ford").returning(Manufacturer.id))
            user = conn.scalar(
                insert(User)
                .values(username="ann", password_hash="x", role="admin", created_at=utcnow())
                .returning(User.id)
            )
            conn.execute(
                insert(ApiToken).values(
                    user_id=user, name="t", token_hash="h" * 64, created_at=utcnow()
                )
            )
            ids = conn.scalars(
                insert(Vehicle).returning(Vehicle.id, sort_by_parameter_order=True),
                [{"manufacturer_id": ford, "model": f"m{i}", "mpg": 20 + i} for i in range(3)],
            ).all()
            gone = ids[-1] + 7  # deleted long ago: only the audit log still names it
            conn.execute(
                insert(AuditEntry).values(
                    at=utcnow(),
                    user_id=user,
                    actor="ann",
                    source="cli",
                    action="delete",
                    vehicle_id=gone,
                )
            )
            conn.execute(delete(Vehicle).where(Vehicle.id == ids[-1]))
        upgrade()
        with db.engine.begin() as conn:
            assert conn.execute(
                select(Vehicle.id, Vehicle.model, Vehicle.mpg).order_by(Vehicle.id)
            ).all() == [(ids[0], "m0", 20.0), (ids[1], "m1", 21.0)]
            assert conn.scalar(select(AuditEntry.user_id)) == user
            assert conn.scalar(select(func.count()).select_from(ApiToken)) == 1
            new = conn.scalar(
                insert(Vehicle).values(manufacturer_id=ford, model="new").returning(Vehicle.id)
            )
            assert new > ids[-1]
            if conn.dialect.name == "sqlite":  # PostgreSQL's sequences never gave out ``gone``
                assert new > gone
            # The constraints and the reference to manufacturers came through the rebuild.
            with pytest.raises(IntegrityError), conn.begin_nested():
                conn.execute(insert(Vehicle).values(manufacturer_id=ford, model="x", mpg=-1))
            with pytest.raises(IntegrityError), conn.begin_nested():
                conn.execute(insert(Vehicle).values(manufacturer_id=ford + 99, model="x"))
            reset_store(conn)
    assert schema_differences(migration_app) == []
