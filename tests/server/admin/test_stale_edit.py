"""Two people editing one vehicle: a save made on a form opened before someone else's save
is refused, shows the newer values, changes nothing and is not audited."""

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.server.admin.helpers import (
    audit_count,
    first_vehicle_id,
    form_values,
    post_form,
    snapshot,
)
from tests.server.api.helpers import API, bearer


def _open(client: FlaskClient, vehicle_id: int) -> tuple[str, dict[str, str]]:
    """The edit page's version and the values its fields show, as a browser would send them."""
    url = f"/admin/vehicles/{vehicle_id}/edit"
    html = client.get(url).get_data(as_text=True)
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, "the edit form carries the vehicle's version"
    return found.group(1), form_values(html)


def test_a_save_on_a_form_opened_before_another_save_is_refused(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    vehicle_id = first_vehicle_id(app, "chevelle malibu")
    url = f"/admin/vehicles/{vehicle_id}/edit"
    version_a, form_a = _open(client, vehicle_id)
    version_b, form_b = _open(client, vehicle_id)
    saved = post_form(client, url, {**form_a, "version": version_a, "combined_mpg": "33"})
    assert saved.status_code == 302
    audited = audit_count(app)
    stale = post_form(client, url, {**form_b, "version": version_b, "horsepower": "140"})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "changed by someone else" in html
    assert re.search(r"Combined fuel economy.*?33", html, re.S)  # the newer value is shown
    after = snapshot(app, vehicle_id)
    assert after is not None
    assert (after["combined_mpg"], after["horsepower"]) == (33, 130)
    assert audit_count(app) == audited
    # The refusal's form carries the new version: saving it again is a deliberate overwrite.
    current = re.search(r'name="version" value="(\d+)"', html)
    assert current and current.group(1) != version_b
    assert 'value="140"' in html  # the editor's own input is kept
    again = post_form(client, url, {**form_b, "version": current.group(1), "horsepower": "140"})
    assert again.status_code == 302
    after = snapshot(app, vehicle_id)
    assert after is not None and after["horsepower"] == 140


def test_a_form_save_does_not_undo_an_api_patch(
    app: Flask, client: FlaskClient, auth: Any, token: str
) -> None:
    auth.login()
    vehicle_id = first_vehicle_id(app, "chevelle malibu")
    version, form = _open(client, vehicle_id)
    patched = client.patch(
        f"{API}/vehicles/{vehicle_id}", json={"combined_mpg": 35}, headers=bearer(token)
    )
    assert patched.status_code == 200
    url = f"/admin/vehicles/{vehicle_id}/edit"
    stale = post_form(client, url, {**form, "version": version, "year": "1971"})
    assert stale.status_code == 409
    after = snapshot(app, vehicle_id)
    assert after is not None and (after["combined_mpg"], after["year"]) == (35, 1970)


def test_a_garbled_version_is_a_400_and_changes_nothing(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    vehicle_id = first_vehicle_id(app, "chevelle malibu")
    _version, form = _open(client, vehicle_id)
    before = snapshot(app, vehicle_id)
    url = f"/admin/vehicles/{vehicle_id}/edit"
    for bad in ("abc", "²", "-1", "99999999999999999999999"):
        response = post_form(client, url, {**form, "version": bad, "horsepower": "99"})
        assert response.status_code == 400, bad
    assert snapshot(app, vehicle_id) == before
