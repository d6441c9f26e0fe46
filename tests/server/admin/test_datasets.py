"""The datasets page: list, create, describe, delete with its vehicles; the list's filter."""

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import current_data_version
from models.audit import AuditEntry
from models.datasets import dataset_summaries
from models.db import db
from tests.server.admin.helpers import VEHICLE_FORM, audit_count, post_form, vehicle_count

NEW_DATASET = {
    "name": "My garage",
    "slug": "my-garage",
    "description": "Cars I have owned",
    "source": "https://example.org/garage.csv",
    "licence": "CC-BY 4.0",
    "default_x": "weight",
    "default_y": "city_mpg",
}


def datasets(app: Flask) -> dict[str, Any]:
    with app.app_context():
        return {d.slug: d for d in dataset_summaries(db.session.connection())}


def data_version(app: Flask) -> int:
    with app.app_context(), db.engine.connect() as conn:
        return current_data_version(conn)


def audit_entries(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def create(client: FlaskClient, **changes: str) -> Any:
    return post_form(client, "/admin/datasets/new", {**NEW_DATASET, **changes})


def test_list_shows_each_dataset_with_its_count(client: FlaskClient, auth: Any) -> None:
    auth.login()
    html = client.get("/admin/datasets").get_data(as_text=True)
    row = re.search(r"<tr><td><a [^>]*>auto-mpg</a></td>.*?</tr>", html, re.S)
    assert row, html
    assert "<td>Auto MPG, 1970-82</td>" in row.group(0)
    assert '<td class="num">406</td>' in row.group(0)
    assert "Public domain (UCI Machine Learning Repository)" in row.group(0)


def test_an_editor_creates_a_dataset(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login("editor")
    version = data_version(app)
    response = create(client)
    assert response.status_code == 302
    made = datasets(app)["my-garage"]
    assert (made.name, made.description, made.source, made.licence) == (
        "My garage",
        "Cars I have owned",
        "https://example.org/garage.csv",
        "CC-BY 4.0",
    )
    assert (made.default_x, made.default_y, made.vehicles) == ("weight", "city_mpg", 0)
    [entry] = audit_entries(app)
    assert (entry.action, entry.actor, entry.after["slug"]) == (
        "create dataset",
        "editor",
        "my-garage",
    )  # type: ignore[index]
    assert data_version(app) == version + 1
    assert "my-garage" in client.get("/admin/datasets").get_data(as_text=True)


def test_bad_input_is_explained_not_fatal(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    for changes, message in [
        ({"slug": "auto-mpg"}, "a dataset is already named &#39;auto-mpg&#39;"),
        ({"slug": "My Garage!"}, "Use only lowercase letters, digits and single hyphens."),
        ({"slug": "a--b"}, "Use only lowercase letters, digits and single hyphens."),
        ({"slug": ""}, "This field is required."),
        ({"name": ""}, "This field is required."),
        ({"slug": "x" * 41}, "Field cannot be longer than 40 characters."),
        ({"default_x": "nonsense"}, "Not a valid choice."),
    ]:
        response = create(client, **changes)
        assert response.status_code == 200, changes
        assert message in response.get_data(as_text=True), changes
    assert set(datasets(app)) == {"auto-mpg"}
    assert audit_count(app) == 0
    refused = client.post("/admin/datasets/new", data=NEW_DATASET)
    assert refused.status_code == 400
    assert set(datasets(app)) == {"auto-mpg"}


def test_rename_and_describe(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    create(client)
    dataset_id = datasets(app)["my-garage"].id
    url = f"/admin/datasets/{dataset_id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'value="My garage"' in page and "Cars I have owned</textarea>" in page
    clash = post_form(client, url, {**NEW_DATASET, "slug": "auto-mpg"})
    assert "a dataset is already named" in clash.get_data(as_text=True)
    response = post_form(client, url, {**NEW_DATASET, "slug": "our-garage", "name": "Our garage"})
    assert response.status_code == 302
    assert "my-garage" not in datasets(app)
    assert datasets(app)["our-garage"].name == "Our garage"
    entry = audit_entries(app)[-1]
    assert entry.action == "edit dataset"
    assert entry.before == {"slug": "my-garage", "name": "My garage"}
    assert entry.after == {"slug": "our-garage", "name": "Our garage"}
    assert client.get("/admin/datasets/999999/edit").status_code == 404


def test_delete_says_how_many_vehicles_go_then_deletes_them_all(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login("editor")
    create(client)
    post_form(client, "/admin/vehicles/new", {**VEHICLE_FORM, "dataset": "my-garage"})
    assert vehicle_count(app) == 407
    version = data_version(app)
    auto_mpg = datasets(app)["auto-mpg"].id
    url = f"/admin/datasets/{auto_mpg}/delete"
    ask = client.get(url).get_data(as_text=True)
    assert "its <strong>406</strong> vehicles will be deleted" in ask
    assert vehicle_count(app) == 407
    response = post_form(client, url, {})
    assert response.status_code == 302
    assert vehicle_count(app) == 1
    assert set(datasets(app)) == {"my-garage"}
    entry = audit_entries(app)[-1]
    assert (entry.action, entry.actor) == ("delete dataset", "editor")
    assert entry.before["slug"] == "auto-mpg" and entry.before["vehicles"] == 406  # type: ignore[index]
    assert data_version(app) == version + 1
    assert client.get(url).status_code == 404
    assert client.post(f"/admin/datasets/{datasets(app)['my-garage'].id}/delete").status_code == 400
    assert vehicle_count(app) == 1


def test_vehicle_list_and_export_filter_by_dataset(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    create(client)
    post_form(client, "/admin/vehicles/new", {**VEHICLE_FORM, "dataset": "my-garage"})
    mine = client.get("/admin/vehicles?dataset=my-garage").get_data(as_text=True)
    assert '<p id="total"><strong>1</strong>' in mine
    assert '<option value="my-garage" selected>My garage (my-garage)</option>' in mine
    assert "<td>my-garage</td>" in mine and "<td>auto-mpg</td>" not in mine
    both = client.get("/admin/vehicles?dataset=my-garage&dataset=auto-mpg").get_data(as_text=True)
    assert '<p id="total"><strong>407</strong>' in both
    assert "dataset=my-garage" in re.search(r'href="([^"]*export.csv[^"]*)"', mine).group(1)  # type: ignore[union-attr]
    exported = client.get("/admin/vehicles/export.csv?dataset=my-garage").get_data(as_text=True)
    rows = exported.splitlines()
    assert len(rows) == 2 and ",my-garage,Toyota,corolla test," in rows[1]
