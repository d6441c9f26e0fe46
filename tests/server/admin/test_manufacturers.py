"""Manufacturers: rename, merge (vehicles move over), aliases shown; hostile names escaped."""

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models.audit import AuditEntry
from models.db import db
from tests.dashapp.helpers import post_figure
from tests.server.admin.helpers import VEHICLE_FORM, manufacturers, post_form, rename_manufacturer

HOSTILE = "<script>alert(1)</script>"


def _dropdown_options(node: Any) -> list[Any]:
    """The manufacturer dropdown's options, found anywhere in a Dash layout tree."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == "manufacturer-dropdown":
            return node["props"]["options"]
        return [o for child in node.values() for o in _dropdown_options(child)]
    if isinstance(node, list):
        return [o for child in node for o in _dropdown_options(child)]
    return []


def test_page_lists_counts_and_aliases(client: FlaskClient, auth: Any) -> None:
    auth.login()
    html = client.get("/admin/manufacturers").get_data(as_text=True)
    assert "chevroelt, chevy → Chevrolet" in html
    assert "vokswagen, vw → Volkswagen" in html
    assert ">Honda</a>" in html


def test_rename(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    honda_id, count = manufacturers(app)["Honda"]
    response = rename_manufacturer(client, honda_id, "Honda Motor")
    assert response.status_code == 302
    after = manufacturers(app)
    assert "Honda" not in after
    assert after["Honda Motor"] == (honda_id, count)
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.before, entry.after) == (
            "rename",
            {"name": "Honda"},
            {"name": "Honda Motor"},
        )


def test_rename_onto_an_existing_name_is_refused(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    honda_id, _ = manufacturers(app)["Honda"]
    response = rename_manufacturer(client, honda_id, "toyota")
    assert response.status_code == 302
    page = client.get("/admin/manufacturers").get_data(as_text=True)
    assert "toyota already exists; merge into it instead" in page  # matched ignoring case
    assert "Honda" in manufacturers(app)


def test_merge_moves_every_vehicle(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    before = manufacturers(app)
    (datsun_id, datsun), (nissan_id, nissan) = before["Datsun"], before["Nissan"]
    response = post_form(
        client,
        "/admin/manufacturers/merge",
        {"source": datsun_id, "target": nissan_id},
        "/admin/manufacturers",
    )
    assert response.status_code == 302
    after = manufacturers(app)
    assert "Datsun" not in after
    assert after["Nissan"] == (nissan_id, nissan + datsun)
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEntry))]
    assert actions.count("merge") == 1
    assert actions.count("update") == datsun


def test_merge_into_itself_is_refused(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    honda_id, _ = manufacturers(app)["Honda"]
    post_form(
        client,
        "/admin/manufacturers/merge",
        {"source": honda_id, "target": honda_id},
        "/admin/manufacturers",
    )
    assert "cannot be merged into itself" in client.get("/admin/manufacturers").get_data(
        as_text=True
    )


def test_hostile_manufacturer_name_is_escaped_everywhere(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    new = {"manufacturer": HOSTILE, "manufacturer_confirm": "y"}
    post_form(client, "/admin/vehicles/new", {**VEHICLE_FORM, **new})
    stored = next(name for name in manufacturers(app) if "alert" in name.lower())
    assert stored == HOSTILE  # stored in the case given
    for url in ("/admin/manufacturers", "/admin/vehicles", "/admin/audit"):
        html = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        assert "<script>alert" not in html, url
    # The dashboard: Dash sends the name as JSON data, which React renders as text ...
    layout = client.get("/dash/_dash-layout").get_data(as_text=True)
    assert "&lt;" not in layout  # data, not pre-escaped HTML
    options = _dropdown_options(json.loads(layout))
    assert {"label": f"{stored} (1)", "value": stored, "search": stored} in options
    # ... and the figure title, which plotly renders as HTML, is escaped.
    figure = post_figure(client, stored)
    title = figure["layout"]["title"]["text"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in title
    assert "<script>" not in title
