"""Helpers for driving the admin pages through the test client."""

from html.parser import HTMLParser
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models.audit import AuditEntry, vehicle_snapshots
from models.db import db
from models.queries import manufacturer_summaries
from models.vehicle import Vehicle
from tests.conftest import csrf_token

VEHICLE_FORM = {
    "manufacturer": "Toyota",
    "model": "corolla test",
    "year": "1975",
    "horsepower": "75",
    "combined_mpg": "30.5",
    "cylinders": "4",
    "displacement": "1.6",
    "weight": "2100",
    "acceleration": "15.5",
    "origin": "Japan",
}


def post_form(client: FlaskClient, url: str, data: dict[str, Any], page: str | None = None) -> Any:
    """POST ``data`` with the CSRF token read from ``page`` (default: the same url)."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page or url)})


def vehicle_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Vehicle)) or 0


def audit_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def snapshot(app: Flask, vehicle_id: int) -> dict[str, Any] | None:
    with app.app_context():
        return vehicle_snapshots(db.session.connection(), [vehicle_id]).get(vehicle_id)


def first_vehicle_id(app: Flask, model: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.min(Vehicle.id)).where(Vehicle.model == model))
        assert found is not None, model
        return found


def manufacturers(app: Flask) -> dict[str, tuple[int, int]]:
    """Stored manufacturer name -> (id, vehicle count)."""
    with app.app_context():
        return {s.name: (s.id, s.vehicles) for s in manufacturer_summaries(db.session.connection())}


def rename_manufacturer(client: FlaskClient, manufacturer_id: int, name: str) -> Any:
    """Submit the manufacturers page's rename form for one manufacturer."""
    return post_form(
        client,
        f"/admin/manufacturers/{manufacturer_id}/rename",
        {"name": name},
        "/admin/manufacturers",
    )


class _FormReader(HTMLParser):
    """The values a browser would send from a page's text, number and select fields."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "input" and found.get("type") in ("text", "number") and "name" in found:
            self.values[found["name"]] = found.get("value", "")
        elif tag == "select":
            self._select = found.get("name")
        elif tag == "option" and self._select and "selected" in found:
            self.values[self._select] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def form_values(html: str) -> dict[str, str]:
    """Field name -> the value a browser would submit (text, number and select fields)."""
    reader = _FormReader()
    reader.feed(html)
    return reader.values
