"""The migrations build exactly the schema the models describe, and can be undone."""

import os
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import IntegrityError

from models import ApiToken, AuditEntry, DataVersion, Manufacturer, User, Vehicle, load_sample
from models.db import db
from models.user import utcnow
from models.validation import LITRES_PER_CUBIC_INCH
from models.vehicle import POSTGRESQL_ONLY_INDEXES, Dataset
from tests.conftest import reset_store

#: The vehicles table as migrations before 0006 left it (no datasets, ``mpg``, cubic inches).
OLD_VEHICLES = Table(
    "vehicles",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("manufacturer_id", Integer),
    Column("model", String),
    Column("mpg", Float),
    Column("displacement", Float),
)

#: The newest revision.
HEAD = "0014_plot_index_electric"


@pytest.fixture
def migration_app(make_app: Any, database_url: str, tmp_path: Path) -> Flask:
    """On SQLite a fresh file; on PostgreSQL the test database, left at head afterwards."""
    if os.environ.get("TEST_DATABASE_URL"):
        return make_app()
    return make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/migrations.sqlite3")


def empty_old_store(conn: Connection) -> None:
    """``reset_store`` for a database at an older revision: only the tables it has."""
    existing = set(inspect(conn).get_table_names())
    for old_table in reversed(db.metadata.sorted_tables):
        if old_table.name in existing and old_table.name != DataVersion.__tablename__:
            conn.execute(delete(old_table))


def schema_differences(app: Flask) -> list[Any]:
    with app.app_context(), db.engine.connect() as conn:

        def compared(_object: Any, name: str | None, type_: str, *_rest: Any) -> bool:
            postgresql_only = type_ == "index" and name in POSTGRESQL_ONLY_INDEXES
            return conn.dialect.name == "postgresql" or not postgresql_only

        opts = {"compare_type": True, "include_object": compared}
        context = MigrationContext.configure(conn, opts=opts)
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
        "dataset_id",
        "manufacturer_id",
        "horsepower",
        "combined_mpg",
        "year",
        "model",
        "id",  # the point budget samples by id without leaving the index (issue 5)
        "powertrain",  # and whether a point is electric (MPGe), without reading its row
        "fuel_type",
    ]


def test_ids_are_never_reused_after_upgrading_a_store_with_data(migration_app: Flask) -> None:
    """0005 rebuilds SQLite's tables for AUTOINCREMENT: rows, constraints and references
    survive, and neither a deleted vehicle's id nor one only the audit log remembers is
    handed out again."""
    with migration_app.app_context():
        upgrade()
        downgrade(revision="0004_maker_id_index")
        with db.engine.begin() as conn:
            empty_old_store(conn)
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
                insert(OLD_VEHICLES).returning(OLD_VEHICLES.c.id, sort_by_parameter_order=True),
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
            conn.execute(delete(OLD_VEHICLES).where(OLD_VEHICLES.c.id == ids[-1]))
        upgrade()
        with db.engine.begin() as conn:
            assert conn.execute(
                select(Vehicle.id, Vehicle.model, Vehicle.combined_mpg).order_by(Vehicle.id)
            ).all() == [(ids[0], "m0", 20.0), (ids[1], "m1", 21.0)]
            dataset = conn.scalar(select(Vehicle.dataset_id))
            assert conn.scalar(select(AuditEntry.user_id)) == user
            assert conn.scalar(select(func.count()).select_from(ApiToken)) == 1
            new = conn.scalar(
                insert(Vehicle)
                .values(dataset_id=dataset, manufacturer_id=ford, model="new")
                .returning(Vehicle.id)
            )
            assert new > ids[-1]
            if conn.dialect.name == "sqlite":  # PostgreSQL's sequences never gave out ``gone``
                assert new > gone
            # The constraints and the reference to manufacturers came through the rebuild.
            with pytest.raises(IntegrityError), conn.begin_nested():
                conn.execute(
                    insert(Vehicle).values(
                        dataset_id=dataset, manufacturer_id=ford, model="x", combined_mpg=-1
                    )
                )
            with pytest.raises(IntegrityError), conn.begin_nested():
                conn.execute(
                    insert(Vehicle).values(dataset_id=dataset, manufacturer_id=ford + 99, model="x")
                )
            reset_store(conn)
    assert schema_differences(migration_app) == []


def test_0006_converts_the_sample_displacement_to_litres_and_back(migration_app: Flask) -> None:
    """A sample row stored in cubic inches reads in litres after 0006 and goes back exactly
    on downgrade; a row without a displacement stays without one."""
    chevelle = next(car for car in load_sample() if car.model == "chevelle malibu")
    cubic_inches = 307.0  # the sample's own figure for the chevelle malibu
    assert chevelle.displacement == pytest.approx(cubic_inches * LITRES_PER_CUBIC_INCH, abs=1e-9)
    with migration_app.app_context():
        upgrade()
        downgrade(revision="0005_ids_never_reused")
        with db.engine.begin() as conn:
            empty_old_store(conn)
            chevrolet = conn.scalar(
                insert(Manufacturer).values(name="Chevrolet").returning(Manufacturer.id)
            )
            conn.execute(
                insert(OLD_VEHICLES),
                [
                    {
                        "manufacturer_id": chevrolet,
                        "model": "chevelle malibu",
                        "mpg": 18.0,
                        "displacement": cubic_inches,
                    },
                    {
                        "manufacturer_id": chevrolet,
                        "model": "unknown engine",
                        "mpg": 20.0,
                        "displacement": None,
                    },
                ],
            )
        upgrade(revision="0006_datasets_and_fuel_fields")
        with db.engine.begin() as conn:
            rows = conn.execute(
                select(Vehicle.model, Vehicle.displacement, Vehicle.combined_mpg, Dataset.slug)
                .join(Dataset)
                .order_by(Vehicle.model)
            ).all()
        assert [(r.model, r.combined_mpg, r.slug) for r in rows] == [
            ("chevelle malibu", 18.0, "auto-mpg"),
            ("unknown engine", 20.0, "auto-mpg"),
        ]
        assert abs(rows[0].displacement - chevelle.displacement) <= 1e-9
        assert rows[1].displacement is None
        downgrade(revision="0005_ids_never_reused")
        with db.engine.begin() as conn:
            back = conn.execute(
                select(
                    OLD_VEHICLES.c.model, OLD_VEHICLES.c.displacement, OLD_VEHICLES.c.mpg
                ).order_by(OLD_VEHICLES.c.model)
            ).all()
            assert abs(back[0].displacement - cubic_inches) <= 1e-9
            assert [(r.model, r.mpg) for r in back] == [
                ("chevelle malibu", 18.0),
                ("unknown engine", 20.0),
            ]
            assert back[1].displacement is None
            conn.execute(delete(OLD_VEHICLES))
            conn.execute(delete(Manufacturer))
        upgrade()
    assert schema_differences(migration_app) == []


def test_the_concurrent_index_revision_runs_again_after_stopping_half_way(
    migration_app: Flask,
) -> None:
    """0012 builds its indexes outside a transaction (CONCURRENTLY on PostgreSQL): the
    revisions before it are committed and stamped on their own, and 0012 itself runs again
    over indexes a stopped run left behind."""
    with migration_app.app_context():
        upgrade(revision="0011_audit_token_user_active")
        upgrade(revision="0012_vehicle_indexes")
        downgrade(revision="0012_vehicle_indexes")  # from head, where PostgreSQL's test db is
        if db.engine.dialect.name != "postgresql":
            return  # SQLite's DDL is transactional: a failed 0012 leaves nothing behind
        # As a run stopped after its last index build, before the stamp.
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE alembic_version SET version_num = '0011_audit_token_user_active'"
            )
        upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
                HEAD
            )
            indexes = {index["name"] for index in inspect(conn).get_indexes("vehicles")}
        assert {"ix_vehicles_sort_combined_mpg", "ix_vehicles_model_trgm"} <= indexes
        assert "ix_vehicles_year" not in indexes


def test_0013_adds_job_heartbeats_and_keeps_the_jobs(migration_app: Flask) -> None:
    """Jobs recorded before 0013 keep their rows, with no heartbeat; downgrading keeps them."""
    row = {
        "id": "a" * 32,
        "kind": "export",
        "status": "running",
        "params": "{}",
        "rows_done": 7,
        "started_by": "admin",
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    jobs = Table("jobs", MetaData(), *(Column(name) for name in row))
    with migration_app.app_context():
        upgrade(revision="0012_vehicle_indexes")
        with db.engine.begin() as conn:
            conn.execute(delete(jobs))
            conn.execute(insert(jobs).values(row))
        upgrade()
        with db.engine.connect() as conn:
            columns = {column["name"] for column in inspect(conn).get_columns("jobs")}
            assert "heartbeat_at" in columns
            stored = conn.exec_driver_sql("SELECT status, rows_done, heartbeat_at FROM jobs")
            assert stored.all() == [("running", 7, None)]
        downgrade(revision="0012_vehicle_indexes")
        with db.engine.connect() as conn:
            columns = {column["name"] for column in inspect(conn).get_columns("jobs")}
            assert "heartbeat_at" not in columns
            assert conn.exec_driver_sql("SELECT rows_done FROM jobs").all() == [(7,)]
            conn.exec_driver_sql("DELETE FROM jobs")
            conn.commit()
        upgrade()


def test_0014_runs_again_after_stopping_between_its_steps(migration_app: Flask) -> None:
    """0014 builds the wider ix_vehicles_plot under another name, then swaps it in. A run
    stopped after dropping the old index, before the rename, leaves only the new one under
    its building name: the next run ends with one ix_vehicles_plot of the new columns."""
    with migration_app.app_context():
        upgrade()
        if db.engine.dialect.name != "postgresql":
            return  # SQLite's DDL is transactional: a failed 0014 leaves nothing behind
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ALTER INDEX ix_vehicles_plot RENAME TO ix_vehicles_plot_building")
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0013_job_heartbeat'")
        upgrade()
        with db.engine.connect() as conn:
            indexes = {
                ix["name"]: ix["column_names"] for ix in inspect(conn).get_indexes("vehicles")
            }
    assert "ix_vehicles_plot_building" not in indexes
    assert indexes["ix_vehicles_plot"][-2:] == ["powertrain", "fuel_type"]
