"""The summary tables stay equal to a recount of the vehicles after every kind of write, on
SQLite and PostgreSQL, also under concurrent writers; the pages' counts come from them."""

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, delete, func, select, text
from sqlalchemy.exc import DBAPIError

from models import summary
from models.audit import Actor
from models.dataset_editing import delete_dataset, describe_dataset
from models.datasets import SHIPPED
from models.db import db
from models.editing import (
    create_vehicle,
    delete_vehicles,
    merge_manufacturers,
    rename_manufacturer,
    update_vehicle,
    write_transaction,
)
from models.explore import dataset_choices
from models.importer import commit_import
from models.queries import count_unplottable, manufacturer_summaries
from models.summary import COUNTED, FilterValue, VehicleSummary
from models.vehicle import Dataset, Manufacturer, Vehicle, bump_data_version

ACTOR = Actor(name="test", source="cli")
SUMS = ("horsepower_sum", "combined_mpg_sum")


def stored(conn: Connection) -> tuple[dict[Any, dict[str, Any]], dict[Any, int]]:
    """The summary as stored: counts by (dataset, maker), value counts by (dataset, field,
    value); rows counted down to nothing left out."""
    rows = {
        (row.dataset_id, row.manufacturer_id): {name: getattr(row, name) for name in COUNTED}
        for row in conn.execute(select(VehicleSummary)).all()
        if row.vehicles
    }
    values = {
        (row.dataset_id, row.field, row.value): row.vehicles
        for row in conn.execute(select(FilterValue))
        if row.vehicles
    }
    return rows, values


def recounted(conn: Connection) -> tuple[dict[Any, dict[str, Any]], dict[Any, int]]:
    """The summary as counted from the vehicles now."""
    everything = Vehicle.id.is_not(None)
    rows = {
        (row[0], row[1]): dict(zip(COUNTED, row[2:], strict=True))
        for row in conn.execute(summary._summary_select(everything, +1))
    }
    values = {
        (row[0], row[1], row[2]): row[3]
        for row in conn.execute(summary._values_select(everything, +1))
    }
    return rows, values


def assert_summary_is_a_recount(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        (rows, values), (expected_rows, expected_values) = stored(conn), recounted(conn)
    assert values == expected_values
    assert rows.keys() == expected_rows.keys()
    for key, counts in rows.items():
        expected = expected_rows[key]
        assert {k: counts[k] for k in COUNTED if k not in SUMS} == {
            k: expected[k] for k in COUNTED if k not in SUMS
        }, key
        for name in SUMS:  # sums of floats, added in another order
            assert math.isclose(counts[name], expected[name], rel_tol=1e-9, abs_tol=1e-6)


def maker_id(conn: Connection, name: str) -> int:
    found = conn.scalar(select(Manufacturer.id).where(Manufacturer.name == name))
    assert found is not None
    return found


def vehicle_ids(conn: Connection, maker: str, count: int) -> list[int]:
    stmt = (
        select(Vehicle.id)
        .where(Vehicle.manufacturer_id == maker_id(conn, maker))
        .order_by(Vehicle.id)
        .limit(count)
    )
    return list(conn.scalars(stmt))


def test_the_seeded_sample_is_counted(app: Flask) -> None:
    assert_summary_is_a_recount(app)
    with app.app_context(), db.engine.connect() as conn:
        assert count_unplottable(conn) == (14, 406)
        toyota = next(s for s in manufacturer_summaries(conn) if s.name == "Toyota")
        assert (toyota.vehicles, toyota.plottable) == (26, 26)


def test_create_edit_and_delete_keep_the_summary_a_recount(app: Flask) -> None:
    with app.app_context():
        with write_transaction() as conn:
            new = create_vehicle(
                conn,
                ACTOR,
                {"manufacturer": "Brand New Motors", "model": "one", "origin": "Mars"},
            )
            create_vehicle(
                conn,
                ACTOR,
                {"manufacturer": "Toyota", "model": "two", "horsepower": 90.0, "cylinders": 3},
            )
        assert_summary_is_a_recount(app)
        with write_transaction() as conn:
            ford = vehicle_ids(conn, "Ford", 3)
            update_vehicle(conn, ACTOR, ford[0], {"horsepower": None, "origin": "Europe"})
            update_vehicle(conn, ACTOR, ford[1], {"manufacturer": "Toyota", "weight": 1234.5})
            update_vehicle(conn, ACTOR, new, {"combined_mpg": 50.0, "horsepower": 40.0})
        assert_summary_is_a_recount(app)
        with write_transaction() as conn:
            assert delete_vehicles(conn, ACTOR, [ford[2], new, 999_999]) == 2
        assert_summary_is_a_recount(app)
        with db.engine.connect() as conn:
            choices = dataset_choices(conn)["auto-mpg"]
            assert "Mars" not in choices.values["origins"]  # its only vehicle went
            assert 3 in choices.values["cylinders"]


def test_merge_rename_and_dataset_changes_keep_the_summary_a_recount(app: Flask) -> None:
    with app.app_context():
        with db.engine.connect() as conn:
            before = {s.name: (s.vehicles, s.plottable) for s in manufacturer_summaries(conn)}
        with write_transaction() as conn:
            merge_manufacturers(conn, ACTOR, maker_id(conn, "Chevrolet"), maker_id(conn, "Ford"))
            rename_manufacturer(conn, ACTOR, maker_id(conn, "Toyota"), "Toyoda")
        assert_summary_is_a_recount(app)
        with db.engine.connect() as conn:
            after = {s.name: (s.vehicles, s.plottable) for s in manufacturer_summaries(conn)}
        assert after["Ford"] == tuple(
            f + c for f, c in zip(before["Ford"], before["Chevrolet"], strict=True)
        )
        assert "Chevrolet" not in after and after["Toyoda"] == before["Toyota"]
        with write_transaction() as conn:
            dataset_id = conn.scalar(select(Dataset.id).where(Dataset.slug == "auto-mpg"))
            assert dataset_id is not None
            axes = replace(SHIPPED["auto-mpg"], default_x="acceleration")
            describe_dataset(conn, ACTOR, dataset_id, axes)
        assert_summary_is_a_recount(app)
        with write_transaction() as conn:
            delete_dataset(conn, ACTOR, dataset_id)
        assert_summary_is_a_recount(app)
        with db.engine.connect() as conn:
            assert count_unplottable(conn) == (0, 0)
            assert dataset_choices(conn) == {}


def test_an_import_keeps_the_summary_a_recount(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        with db.engine.connect() as conn:
            honda = vehicle_ids(conn, "Honda", 1)[0]
        path = tmp_path / "cars.csv"
        path.write_text(
            "make,model,hp,mpg,year,cylinders,origin,fueldash_id\n"
            f"Honda,civic again,,33,1980,4,Japan,{honda}\n"
            "Lada,niva,70,20,1985,4,Russia,\n"
            "Lada,samara,65,,1986,4,Russia,\n",
            encoding="utf-8",
        )
        with write_transaction() as conn:
            report = commit_import(conn, ACTOR, path, "auto-mpg")
        assert (report.new, report.updated) == (2, 1)
        assert_summary_is_a_recount(app)
        with db.engine.connect() as conn:
            lada = next(s for s in manufacturer_summaries(conn, "auto-mpg") if s.name == "Lada")
            assert (lada.vehicles, lada.plottable) == (2, 1)


def test_the_summary_stays_a_recount_under_concurrent_writers(app: Flask) -> None:
    threads = 8
    with app.app_context(), db.engine.connect() as conn:
        fords = vehicle_ids(conn, "Ford", threads)
    start = threading.Barrier(threads)

    def write(n: int) -> None:
        with app.app_context():
            start.wait(timeout=10)
            with write_transaction() as conn:
                create_vehicle(
                    conn, ACTOR, {"manufacturer": "Ford", "model": f"m{n}", "horsepower": 80.0}
                )
                update_vehicle(conn, ACTOR, fords[n], {"combined_mpg": 10.0 + n})
                update_vehicle(conn, ACTOR, fords[(n + 1) % threads], {"horsepower": 99.0 + n})

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, range(threads)))
    assert_summary_is_a_recount(app)
    with app.app_context(), db.engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(Vehicle))
        assert count_unplottable(conn)[1] == total == 406 + threads


def test_rebuild_recounts_and_only_raises_versions(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as conn:
        before = dict(
            conn.execute(select(VehicleSummary.manufacturer_id, VehicleSummary.version)).all()
        )
        summary.rebuild(conn)
        after = dict(
            conn.execute(select(VehicleSummary.manufacturer_id, VehicleSummary.version)).all()
        )
    assert all(after[maker] > version for maker, version in before.items())
    assert_summary_is_a_recount(app)


@pytest.mark.parametrize("slug", ["auto-mpg", None])
def test_the_page_layout_reads_no_vehicle_rows(app: Flask, slug: str | None) -> None:
    """dataset_choices and the counts read the summary tables only."""
    from tests.server.api.helpers import counting_statements

    with counting_statements(app) as statements, app.app_context():
        conn = db.session.connection()
        dataset_choices(conn)
        count_unplottable(conn, slug)
        manufacturer_summaries(conn, slug)
    assert statements
    assert not [s for s in statements if "FROM vehicles" in s or "JOIN vehicles" in s]


# --- written at commit: rollbacks, savepoints, sessions, pooled connections ----------------


class Abandoned(Exception):
    """Raised inside a write to roll it back."""


def summary_versions(conn: Connection) -> dict[tuple[int, int], int]:
    stmt = select(VehicleSummary.dataset_id, VehicleSummary.manufacturer_id, VehicleSummary.version)
    return {(dataset, maker): version for dataset, maker, version in conn.execute(stmt)}


def snapshot(app: Flask) -> tuple[Any, Any, dict[tuple[int, int], int]]:
    with app.app_context(), db.engine.connect() as conn:
        return (*stored(conn), summary_versions(conn))


def a_little_of_everything(conn: Connection, path: Path) -> None:
    """An import, a create, an edit, a delete and a merge, in the caller's transaction."""
    commit_import(conn, ACTOR, path, "auto-mpg")
    new = create_vehicle(conn, ACTOR, {"manufacturer": "Lada", "model": "x", "horsepower": 70.0})
    ford = vehicle_ids(conn, "Ford", 2)
    update_vehicle(conn, ACTOR, ford[0], {"combined_mpg": None, "origin": "Europe"})
    update_vehicle(conn, ACTOR, new, {"manufacturer": "Ford", "cylinders": 3})
    delete_vehicles(conn, ACTOR, [ford[1]])
    merge_manufacturers(conn, ACTOR, maker_id(conn, "Chevrolet"), maker_id(conn, "Ford"))


def lada_file(tmp_path: Path) -> Path:
    path = tmp_path / "ladas.csv"
    path.write_text(
        "make,model,hp,mpg,year,cylinders,origin\n"
        "Lada,niva,70,20,1985,4,Russia\n"
        "Chevrolet,nova,,18,1975,6,USA\n",
        encoding="utf-8",
    )
    return path


def test_a_rolled_back_write_leaves_the_summary_as_it_was(app: Flask, tmp_path: Path) -> None:
    before = snapshot(app)
    with pytest.raises(Abandoned), app.app_context(), write_transaction() as conn:
        a_little_of_everything(conn, lada_file(tmp_path))
        raise Abandoned
    assert snapshot(app) == before
    # The next transaction, on the pooled connection the abandoned one used, writes only
    # its own counts.
    with app.app_context(), write_transaction() as conn:
        create_vehicle(conn, ACTOR, {"manufacturer": "Toyota", "model": "after"})
    assert_summary_is_a_recount(app)
    with app.app_context(), db.engine.connect() as conn:
        toyota = next(s for s in manufacturer_summaries(conn) if s.name == "Toyota")
        assert toyota.vehicles == 27


def makers_now(app: Flask) -> dict[str, tuple[int, int]]:
    with app.app_context(), db.engine.connect() as conn:
        return {s.name: (s.vehicles, s.plottable) for s in manufacturer_summaries(conn)}


def test_all_of_it_committed_is_a_recount(app: Flask, tmp_path: Path) -> None:
    before = makers_now(app)
    with app.app_context(), write_transaction() as conn:
        a_little_of_everything(conn, lada_file(tmp_path))
    assert_summary_is_a_recount(app)
    makers = makers_now(app)
    # Chevrolets (and the one imported), the Lada made a Ford, one Ford deleted
    assert makers["Ford"][0] == before["Ford"][0] + before["Chevrolet"][0] + 1 + 1 - 1
    assert makers["Lada"] == (1, 1) and "Chevrolet" not in makers


def test_a_savepoint_rolled_back_takes_its_counts_with_it(app: Flask, tmp_path: Path) -> None:
    before = makers_now(app)
    with app.app_context(), write_transaction() as conn:
        kept = create_vehicle(conn, ACTOR, {"manufacturer": "Honda", "model": "kept"})
        undone = conn.begin_nested()
        a_little_of_everything(conn, lada_file(tmp_path))
        inner = conn.begin_nested()
        update_vehicle(conn, ACTOR, kept, {"horsepower": 80.0, "combined_mpg": 40.0})
        inner.commit()  # released inside the savepoint that is rolled back
        undone.rollback()
        released = conn.begin_nested()
        update_vehicle(conn, ACTOR, kept, {"origin": "Japan", "combined_mpg": 35.0})
        released.commit()
    assert_summary_is_a_recount(app)
    makers = makers_now(app)
    honda = before["Honda"]
    assert makers["Honda"] == (honda[0] + 1, honda[1])  # the kept one has no horsepower
    assert makers["Chevrolet"] == before["Chevrolet"] and makers["Ford"] == before["Ford"]
    assert "Lada" not in makers


def test_orm_writes_and_a_session_savepoint_keep_the_summary_a_recount(app: Flask) -> None:
    before = {name: counts[0] for name, counts in makers_now(app).items()}
    with app.app_context():
        conn = db.session.connection()
        dataset = conn.scalar(select(Dataset.id).where(Dataset.slug == "auto-mpg"))
        honda, toyota = maker_id(conn, "Honda"), maker_id(conn, "Toyota")
        ford = vehicle_ids(conn, "Ford", 2)
        db.session.add(
            Vehicle(
                dataset_id=dataset,
                manufacturer_id=honda,
                model="orm",
                horsepower=90.0,
                combined_mpg=30.0,
                origin="Korea",
            )
        )
        first = db.session.get(Vehicle, ford[0])
        assert first is not None
        first.manufacturer_id = toyota
        db.session.commit()
        assert_summary_is_a_recount(app)
        with db.session.begin_nested():
            second = db.session.get(Vehicle, ford[1])
            assert second is not None
            second.horsepower = None
        with pytest.raises(Abandoned), db.session.begin_nested():
            gone = db.session.get(Vehicle, ford[1])
            assert gone is not None
            db.session.delete(gone)
            db.session.flush()
            raise Abandoned
        db.session.commit()
        assert_summary_is_a_recount(app)
    makers = {name: counts[0] for name, counts in makers_now(app).items()}
    assert makers["Honda"] == before["Honda"] + 1
    assert makers["Toyota"] == before["Toyota"] + 1
    assert makers["Ford"] == before["Ford"] - 1


def test_a_reader_in_the_writing_transaction_sees_its_counts_after_a_flush(app: Flask) -> None:
    with app.app_context(), write_transaction() as conn:
        create_vehicle(conn, ACTOR, {"manufacturer": "Toyota", "model": "new", "horsepower": 1.0})

        def toyotas() -> int:
            return next(s.vehicles for s in manufacturer_summaries(conn) if s.name == "Toyota")

        assert toyotas() == 26  # written at commit
        summary.flush(conn)
        assert toyotas() == 27
    assert_summary_is_a_recount(app)  # flushed once, not again at commit


def test_every_write_gives_exactly_its_rows_new_versions(app: Flask) -> None:
    with app.app_context():
        with db.engine.connect() as conn:
            before = summary_versions(conn)
            dataset = conn.execute(
                select(Dataset.id).where(Dataset.slug == "auto-mpg")
            ).scalar_one()
            ford, toyota = maker_id(conn, "Ford"), maker_id(conn, "Toyota")
        with write_transaction() as conn:  # a change that changes no count
            update_vehicle(conn, ACTOR, vehicle_ids(conn, "Ford", 1)[0], {"model": "renamed"})
        with db.engine.connect() as conn:
            after_edit = summary_versions(conn)
        with write_transaction() as conn:
            rename_manufacturer(conn, ACTOR, toyota, "Toyoda")
        with db.engine.connect() as conn:
            after_rename = summary_versions(conn)
    assert after_edit[dataset, ford] > before[dataset, ford]
    assert {k: v for k, v in after_edit.items() if k != (dataset, ford)} == {
        k: v for k, v in before.items() if k != (dataset, ford)
    }
    assert after_rename[dataset, toyota] > after_edit[dataset, toyota]
    assert {k: v for k, v in after_rename.items() if k != (dataset, toyota)} == {
        k: v for k, v in after_edit.items() if k != (dataset, toyota)
    }


def test_a_connection_closed_without_commit_leaves_nothing_for_the_next(app: Flask) -> None:
    """Counts gathered on a connection that is closed (or rolled back) without a commit
    are never written by a later transaction, on that connection or on the pooled DBAPI
    connection under it."""
    with app.app_context():
        with db.engine.connect() as conn:
            toyotas = vehicle_ids(conn, "Toyota", 26)
            summary.added(conn, toyotas)  # counted twice, if it were ever written
        with db.engine.connect() as conn:
            summary.added(conn, toyotas)
            conn.rollback()
            bump_data_version(conn)  # the next transaction on the same Connection
            conn.commit()
        with db.engine.begin() as conn:
            bump_data_version(conn)
    assert_summary_is_a_recount(app)


# --- a maker or dataset deleted in the transaction that changed its vehicles ---------------


def test_an_orm_delete_of_a_makers_vehicles_and_then_the_maker_commits(app: Flask) -> None:
    """The vehicles' negative counts were written at commit after ON DELETE CASCADE had
    removed the maker's summary rows: a foreign key violation failed the commit."""
    with app.app_context():
        conn = db.session.connection()
        bmw = maker_id(conn, "BMW")
        for vehicle in db.session.scalars(select(Vehicle).where(Vehicle.manufacturer_id == bmw)):
            db.session.delete(vehicle)
        db.session.flush()
        maker = db.session.get(Manufacturer, bmw)
        assert maker is not None
        db.session.delete(maker)
        db.session.commit()
    assert_summary_is_a_recount(app)
    assert "BMW" not in makers_now(app)


def test_core_deletes_of_vehicles_and_then_their_maker_or_dataset_commit(app: Flask) -> None:
    with app.app_context():
        with write_transaction() as conn:
            bmw = maker_id(conn, "BMW")
            ids = conn.scalars(select(Vehicle.id).where(Vehicle.manufacturer_id == bmw)).all()
            assert delete_vehicles(conn, ACTOR, ids) == len(ids) > 0
            conn.execute(delete(Manufacturer).where(Manufacturer.id == bmw))
        assert_summary_is_a_recount(app)
        with write_transaction() as conn:
            dataset = conn.execute(
                select(Dataset.id).where(Dataset.slug == "auto-mpg")
            ).scalar_one()
            # Counts for a maker (Ford) and for filter values (origins) of the dataset.
            ford = vehicle_ids(conn, "Ford", 2)
            update_vehicle(conn, ACTOR, ford[0], {"origin": "Atlantis", "horsepower": None})
            delete_vehicles(conn, ACTOR, [ford[1]])
            delete_dataset(conn, ACTOR, dataset)
        assert_summary_is_a_recount(app)
        with db.engine.connect() as conn:
            assert dataset_choices(conn) == {}


REFUSING_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER refuse_atlantis BEFORE INSERT ON vehicle_filter_values"
        " WHEN NEW.value = 'Atlantis' BEGIN SELECT RAISE(ABORT, 'Atlantis refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_atlantis() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'Atlantis refused'; END $$",
        "CREATE TRIGGER refuse_atlantis BEFORE INSERT ON vehicle_filter_values FOR EACH ROW"
        " WHEN (NEW.value = 'Atlantis') EXECUTE FUNCTION refuse_atlantis()",
    ],
}
DROP_TRIGGER = {
    "sqlite": ["DROP TRIGGER IF EXISTS refuse_atlantis"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS refuse_atlantis ON vehicle_filter_values",
        "DROP FUNCTION IF EXISTS refuse_atlantis()",
    ],
}


def test_a_commit_whose_summary_write_fails_leaves_no_transaction_open(app: Flask) -> None:
    """When the write at commit failed on a Session's commit, SQLAlchemy had already ended
    the transaction, and the connection went back to the pool without a ROLLBACK: SQLite
    kept its write lock, PostgreSQL an aborted transaction holding row locks, and the next
    writes failed. (A trigger refuses the summary write here.)"""
    with app.app_context():
        dialect = db.engine.dialect.name
        with db.engine.begin() as conn:
            for statement in REFUSING_TRIGGER[dialect]:
                conn.execute(text(statement))
        try:
            conn = db.session.connection()
            honda = db.session.get(Vehicle, vehicle_ids(conn, "Honda", 1)[0])
            assert honda is not None
            honda.origin = "Atlantis"
            with pytest.raises(DBAPIError, match="Atlantis refused"):
                db.session.commit()
            db.session.remove()
            with pytest.raises(DBAPIError, match="Atlantis refused"), write_transaction() as conn:
                create_vehicle(
                    conn, ACTOR, {"manufacturer": "Honda", "model": "x", "origin": "Atlantis"}
                )
            for n in range(4):
                with write_transaction() as conn:
                    create_vehicle(conn, ACTOR, {"manufacturer": "Toyota", "model": f"after {n}"})
        finally:
            db.session.remove()
            db.engine.dispose()  # a connection left in a transaction would hold the locks
            with db.engine.begin() as conn:
                for statement in DROP_TRIGGER[dialect]:
                    conn.execute(text(statement))
    assert_summary_is_a_recount(app)
    assert makers_now(app)["Toyota"][0] == 26 + 4
