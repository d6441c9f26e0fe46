"""Writes through ``models.editing`` on a real database: ids are never handed out twice."""

from flask import Flask
from sqlalchemy import func, select

from models.audit import Actor
from models.editing import create_vehicle, delete_vehicles, merge_manufacturers, write_transaction
from models.vehicle import Manufacturer

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
            newest = conn.scalar(select(func.max(Manufacturer.id)))
            ford = conn.scalar(select(Manufacturer.id).where(Manufacturer.name == "Ford"))
            merge_manufacturers(conn, ACTOR, newest, ford)
        with write_transaction() as conn:
            create_vehicle(conn, ACTOR, {"manufacturer": "Yyy Motors", "model": "two"})
            assert conn.scalar(select(func.max(Manufacturer.id))) > newest
