"""Optimistic concurrency on the API: a vehicle's ETag comes from its version, and PATCH
and DELETE with an If-Match that is no longer current answer 412 and change nothing."""

from flask import Flask
from flask.testing import FlaskClient

from tests.server.admin.helpers import audit_count, first_vehicle_id, snapshot
from tests.server.api.helpers import API, bearer


def _url(app: Flask) -> str:
    return f"{API}/vehicles/{first_vehicle_id(app, 'chevelle malibu')}"


def test_a_vehicle_etag_changes_with_that_vehicle_only(
    app: Flask, client: FlaskClient, token: str
) -> None:
    url = _url(app)
    etag = client.get(url).headers["ETag"]
    other = f"{API}/vehicles/{first_vehicle_id(app, 'torino')}"
    client.patch(other, json={"horsepower": 1}, headers=bearer(token))
    assert client.get(url).headers["ETag"] == etag  # another vehicle's write
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    client.patch(url, json={"horsepower": 99}, headers=bearer(token))
    assert client.get(url).headers["ETag"] != etag


def test_patch_with_a_stale_if_match_is_refused(
    app: Flask, client: FlaskClient, token: str
) -> None:
    url = _url(app)
    seen = client.get(url).headers["ETag"]
    if_seen = {**bearer(token), "If-Match": seen}
    first = client.patch(url, json={"combined_mpg": 33}, headers=if_seen)
    assert first.status_code == 200, first.get_json()
    assert first.headers["ETag"] == client.get(url).headers["ETag"] != seen
    audited = audit_count(app)
    stale = client.patch(url, json={"horsepower": 140}, headers=if_seen)
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    assert "changed" in stale.get_json()["detail"]
    after = snapshot(app, int(url.rsplit("/", 1)[1]))
    assert after is not None
    assert (after["combined_mpg"], after["horsepower"]) == (33, 130)
    assert audit_count(app) == audited


def test_delete_with_a_stale_if_match_is_refused(
    app: Flask, client: FlaskClient, token: str
) -> None:
    url = _url(app)
    seen = client.get(url).headers["ETag"]
    client.patch(url, json={"combined_mpg": 33}, headers=bearer(token))
    stale = client.delete(url, headers={**bearer(token), "If-Match": seen})
    assert stale.status_code == 412
    assert client.get(url).status_code == 200
    current = client.get(url).headers["ETag"]
    assert client.delete(url, headers={**bearer(token), "If-Match": current}).status_code == 204


def test_without_if_match_or_with_a_star_writes_go_ahead(
    app: Flask, client: FlaskClient, token: str
) -> None:
    url = _url(app)
    assert client.patch(url, json={"year": 1971}, headers=bearer(token)).status_code == 200
    star = {**bearer(token), "If-Match": "*"}
    assert client.patch(url, json={"year": 1972}, headers=star).status_code == 200
    assert client.delete(url, headers=star).status_code == 204


def test_if_match_is_documented(client: FlaskClient) -> None:
    spec = client.get(f"{API}/openapi.json").get_json()
    for method in ("patch", "delete"):
        operation = spec["paths"]["/api/v1/vehicles/{vehicle_id}"][method]
        names = [p.get("name") for p in operation.get("parameters", [])]
        assert "If-Match" in names, method
        assert "412" in operation["responses"], method
