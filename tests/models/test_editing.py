"""Writes through ``models.editing`` on a real database: ids are never handed out twice."""

from flask import Flask
from sqlalchemy import func, select

from models.audit import Actor
from models.editing import create_vehicle, delete_vehicles, merge_manufacturers, write_transaction
from models.vehicle import Manufacturer, Vehicle

ACTOR = Actor(name="test", source="cli")


def test_the_newest_vehicle_id_is_not_reused_after_a_delete(app: Flask) -> None:
    with app.app_context():
        with write_transaction() as conn:
            newest = create_vehicle(conn, ACTOR, {"manufacturer": "Ford", "model": "gone"})
        with write_transaction() as conn:
            assert delete_vehicles(conn, ACTOR, [newest]) == 1
        with write_transaction() as conn:
            assert create_vehicle(conn, ACTOR, {"manufacturer": "Ford", "model": "new"}) > newest


def test_a_merged_away_manufacturer_id_is_not_reused(app: Flask) -> None:
    with app.app_context():
        with write_transaction() as conn:
            create_vehicle(conn, ACTOR, {"manufacturer": "Zzz Motors", "model": "one"})
            newest = conn.execute(select(func.max(Manufacturer.id))).scalar_one()
            ford = conn.execute(
                select(Manufacturer.id).where(Manufacturer.name == "Ford")
            ).scalar_one()
            merge_manufacturers(conn, ACTOR, newest, ford)
        with write_transaction() as conn:
            create_vehicle(conn, ACTOR, {"manufacturer": "Yyy Motors", "model": "two"})
            assert conn.execute(select(func.max(Manufacturer.id))).scalar_one() > newest


def test_a_manufacturer_with_a_non_ascii_capital_is_found_again(app: Flask) -> None:
    # SQLite's lower() folds ASCII only, so the stored "Škoda" never matched "škoda" and
    # the second vehicle tried to insert the manufacturer again (a 500 from the API).
    with app.app_context(), write_transaction() as conn:
        first = create_vehicle(conn, ACTOR, {"manufacturer": "Škoda", "model": "favorit"})
        second = create_vehicle(conn, ACTOR, {"manufacturer": "Škoda", "model": "felicia"})
        makers = conn.scalars(
            select(Manufacturer.name).join(Vehicle).where(Vehicle.id.in_([first, second]))
        ).all()
    assert makers == ["Škoda", "Škoda"]
