"""The JSON write API: bearer tokens, validation like the forms, problem details, audit,
and the change showing on the very next read."""

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models.audit import AuditEntry
from models.db import db
from tests.dashapp.helpers import post_figure
from tests.server.admin.helpers import audit_count, first_vehicle_id, snapshot, vehicle_count
from tests.server.api.helpers import NEW_VEHICLE, bearer


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}, bearer("fd_not-a-token")],
)
def test_writes_need_a_valid_token(app: Flask, client: FlaskClient, headers: Any) -> None:
    for method, path in [
        ("POST", "/api/v1/vehicles"),
        ("PATCH", "/api/v1/vehicles/1"),
        ("DELETE", "/api/v1/vehicles/1"),
    ]:
        response = client.open(path, method=method, json=NEW_VEHICLE, headers=headers)
        assert response.status_code == 401, (method, headers)
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert vehicle_count(app) == 406


def test_reads_stay_open(client: FlaskClient) -> None:
    assert client.get("/api/v1/vehicles?limit=1").status_code == 200


def test_create(app: Flask, client: FlaskClient, token: str) -> None:
    response = client.post("/api/v1/vehicles", json=NEW_VEHICLE, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["manufacturer"] == "Volkswagen"
    assert (body["dataset"], body["combined_mpg"]) == ("auto-mpg", 31.5)
    assert body["combined_mpg_derived"] is False
    assert response.headers["Location"] == f"/api/v1/vehicles/{body['id']}"
    assert client.get(response.headers["Location"]).get_json() == body
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.source, entry.actor, entry.vehicle_id) == (
            "create",
            "api",
            "admin",
            body["id"],
        )


def test_validation_matches_the_forms(app: Flask, client: FlaskClient, token: str) -> None:
    bad = {
        "manufacturer": "",
        "model": "x",
        "horsepower": "not-a-number",
        "combined_mpg": -2,
        "year": 1.5,
    }
    response = client.post("/api/v1/vehicles", json=bad, headers=bearer(token))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422
    assert problem["errors"] == {
        "manufacturer": ["is required"],
        "horsepower": ["not a number"],
        "combined_mpg": ["must be greater than 0"],
        "year": ["not a whole number"],
    }
    unknown = client.post(
        "/api/v1/vehicles", json={**NEW_VEHICLE, "colour": "red"}, headers=bearer(token)
    )
    assert unknown.status_code == 422
    not_json = client.post(
        "/api/v1/vehicles", data="{not json", content_type="application/json", headers=bearer(token)
    )
    assert not_json.status_code in (400, 422)
    assert not_json.mimetype == "application/problem+json"
    assert vehicle_count(app) == 406
    assert audit_count(app) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("model", "a\x00b"), ("model", "\ud800"), ("manufacturer", "\udcff"), ("origin", "Jap\ud800")],
)
def test_text_that_cannot_be_stored_is_refused(
    app: Flask, client: FlaskClient, token: str, field: str, value: str
) -> None:
    # JSON carries NUL (PostgreSQL text cannot hold it) and lone surrogates (no encoder
    # takes them); both used to reach the database and answer 500.
    vehicle_id = first_vehicle_id(app, "corolla 1200")
    before = snapshot(app, vehicle_id)
    created = client.post(
        "/api/v1/vehicles", json={**NEW_VEHICLE, field: value}, headers=bearer(token)
    )
    patched = client.patch(
        f"/api/v1/vehicles/{vehicle_id}", json={field: value}, headers=bearer(token)
    )
    for response in (created, patched):
        assert response.status_code == 422
        assert response.get_json()["errors"] == {
            field: ["contains a character that cannot be stored (NUL or a lone surrogate)"]
        }
    assert vehicle_count(app) == 406
    assert snapshot(app, vehicle_id) == before


def test_patch_changes_only_what_is_sent(app: Flask, client: FlaskClient, token: str) -> None:
    vehicle_id = first_vehicle_id(app, "corolla 1200")
    before = snapshot(app, vehicle_id)
    response = client.patch(
        f"/api/v1/vehicles/{vehicle_id}", json={"combined_mpg": "44.5"}, headers=bearer(token)
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["combined_mpg"] == 44.5
    assert snapshot(app, vehicle_id) == {**before, "combined_mpg": 44.5}  # type: ignore[dict-item]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry)).one()
        assert (entry.before, entry.after) == (
            {"combined_mpg": before["combined_mpg"]},  # type: ignore[index]
            {"combined_mpg": 44.5},
        )
    cleared = client.patch(
        f"/api/v1/vehicles/{vehicle_id}", json={"model": None}, headers=bearer(token)
    )
    assert cleared.status_code == 422
    assert cleared.get_json()["errors"] == {"model": ["is required"]}


def test_patch_and_delete_unknown_vehicle(client: FlaskClient, token: str) -> None:
    for method, vehicle_id in [("PATCH", 999999), ("DELETE", 999999), ("DELETE", 2**70)]:
        response = client.open(
            f"/api/v1/vehicles/{vehicle_id}",
            method=method,
            json={"combined_mpg": 3},
            headers=bearer(token),
        )
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


def test_delete(app: Flask, client: FlaskClient, token: str) -> None:
    vehicle_id = first_vehicle_id(app, "corolla 1200")
    assert client.delete(f"/api/v1/vehicles/{vehicle_id}", headers=bearer(token)).status_code == 204
    assert client.get(f"/api/v1/vehicles/{vehicle_id}").status_code == 404
    assert vehicle_count(app) == 405


def test_revoked_token_is_refused(app: Flask, client: FlaskClient, token: str) -> None:
    from models.user import ApiToken, utcnow

    with app.app_context():
        for row in db.session.scalars(select(ApiToken)):
            row.revoked_at = utcnow()
        db.session.commit()
    response = client.post("/api/v1/vehicles", json=NEW_VEHICLE, headers=bearer(token))
    assert response.status_code == 401


def test_write_shows_on_the_next_read_and_changes_the_etag(client: FlaskClient, token: str) -> None:
    first = client.get("/api/v1/manufacturers")
    etag = first.headers["ETag"]
    honda = next(m for m in first.get_json()["items"] if m["name"] == "Honda")
    created = client.post(
        "/api/v1/vehicles", json={**NEW_VEHICLE, "manufacturer": "Honda"}, headers=bearer(token)
    )
    assert created.status_code == 201
    again = client.get("/api/v1/manufacturers", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert again.headers["ETag"] != etag
    now = next(m for m in again.get_json()["items"] if m["name"] == "Honda")
    assert now["plottable"] == honda["plottable"] + 1
    figure = post_figure(client, "Honda")
    assert "14 vehicles plotted" in figure["layout"]["title"]["subtitle"]["text"]


def test_hostile_name_is_plain_json_data(client: FlaskClient, token: str) -> None:
    hostile = "<script>alert(1)</script>"
    created = client.post(
        "/api/v1/vehicles", json={**NEW_VEHICLE, "manufacturer": hostile}, headers=bearer(token)
    )
    assert created.status_code == 201
    assert created.mimetype == "application/json"
    assert created.headers["X-Content-Type-Options"] == "nosniff"
    assert created.get_json()["manufacturer"].lower() == hostile


def test_write_endpoints_are_in_the_openapi_spec(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["paths"]["/api/v1/vehicles"]["post"]["security"] == [{"bearerAuth": []}]
    one = spec["paths"]["/api/v1/vehicles/{vehicle_id}"]
    assert {"patch", "delete", "get"} <= set(one)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_a_deleted_id_is_never_given_to_a_new_vehicle(client: FlaskClient, token: str) -> None:
    # SQLite without AUTOINCREMENT hands the largest rowid + 1 out again, so old links
    # and the audit history of a deleted vehicle would name the next car.
    newest = client.post("/api/v1/vehicles", json=NEW_VEHICLE, headers=bearer(token)).get_json()
    assert (
        client.delete(f"/api/v1/vehicles/{newest['id']}", headers=bearer(token)).status_code == 204
    )
    again = client.post("/api/v1/vehicles", json=NEW_VEHICLE, headers=bearer(token)).get_json()
    assert again["id"] > newest["id"]
    assert client.get(f"/api/v1/vehicles/{newest['id']}").status_code == 404


def test_a_write_names_an_existing_dataset(app: Flask, client: FlaskClient, token: str) -> None:
    response = client.post(
        "/api/v1/vehicles", json={**NEW_VEHICLE, "dataset": "nope"}, headers=bearer(token)
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == {"dataset": ["no dataset is named 'nope'"]}
    vehicle_id = first_vehicle_id(app, "corolla 1200")
    before = snapshot(app, vehicle_id)
    patched = client.patch(
        f"/api/v1/vehicles/{vehicle_id}", json={"dataset": "nope"}, headers=bearer(token)
    )
    assert patched.status_code == 422
    assert patched.get_json()["errors"] == {"dataset": ["no dataset is named 'nope'"]}
    assert vehicle_count(app) == 406 and snapshot(app, vehicle_id) == before
    assert audit_count(app) == 0
    moved = client.patch(
        f"/api/v1/vehicles/{vehicle_id}", json={"dataset": "epa-1984-2015"}, headers=bearer(token)
    )
    assert moved.get_json()["dataset"] == "epa-1984-2015"
