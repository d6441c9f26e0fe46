"""Import through /admin/import and ``flask vehicles import``: dry run, confirm, all or
nothing, and the audit log of what was written."""

import io
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import select

from models.audit import AuditEntry
from models.db import db
from models.validation import VEHICLE_FIELDS
from tests.conftest import csrf_token
from tests.server.admin.helpers import (
    audit_count,
    first_vehicle_id,
    post_form,
    snapshot,
    vehicle_count,
)
from tests.server.jobs_support import job_id_of, wait_for_job

GOOD_CSV = (
    "Make,Model,Year,HP,Miles_per_Gallon,Cylinders,Origin\n"
    "chevy,import one,1980,90,25.5,4,USA\n"
    "Toyota,import two,1981,70,33,4,Japan\n"
    "NewCo,import three,1982,,28,,Europe\n"
)

BROKEN_FILES = {
    "bad number": "make,model,hp,mpg\nFord,ok,80,20\nFord,bad,not-a-number,20\n",
    "negative mpg": "make,model,hp,mpg\nFord,ok,80,20\nFord,bad,80,-5\n",
    "missing column": "make,hp,mpg\nFord,80,20\n",
    "not csv at all": "%PDF-1.4 this is not a table\x00\x01\x02",
    "garbage bytes": bytes(range(256)) * 8,
    "not utf-8": "make,model\nCitro\xebn,ds\n".encode("latin-1"),
    "empty": "",
}


def upload(
    client: FlaskClient, content: str | bytes, name: str = "cars.csv", dataset: str = "auto-mpg"
) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        "/admin/import",
        data={
            "file": (io.BytesIO(data), name),
            "dataset": dataset,
            "csrf_token": csrf_token(client, "/admin/import"),
        },
        content_type="multipart/form-data",
    )


def _hidden(html: str, name: str, form: str) -> str:
    """A hidden input's value in the form posting to ``form``."""
    found = re.search(rf'action="{form}".*?</form>', html, re.S)
    assert found, f"no form for {form}"
    value = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', found.group(0))
    assert value, name
    return unescape(value.group(1))


def mapping_shown(html: str) -> dict[str, tuple[str, str | None]]:
    """Column -> (field or "" for ignored, unit or None) as the mapping step selects them."""
    shown = {}
    for row in re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", html, re.S):
        column, cells = unescape(row[0]), row[1]
        selected = re.findall(r'<option(?: value="([^"]*)")? selected>([^<]*)</option>', cells)
        if selected and 'name="field-' in cells:
            field = selected[0][1] if selected[0][1] != "ignored" else ""
            unit = selected[1][0] if len(selected) > 1 else None
            shown[column] = (field, unit)
    return shown


def check(client: FlaskClient, html: str, **changes: tuple[str, str | None]) -> Any:
    """Post the mapping step again with some columns' field and unit changed."""
    shown = mapping_shown(html)
    data = {
        name: _hidden(html, name, "/admin/import/check")
        for name in ("token", "dataset", "filename", "csrf_token")
    }
    for index, column in enumerate(shown):
        field, unit = changes.get(column, shown[column])
        data[f"field-{index}"] = field
        if unit:
            data[f"unit-{index}"] = unit
    return client.post("/admin/import/check", data=data)


def post_confirm(client: FlaskClient, data: dict[str, str]) -> Any:
    """Post the confirm; when it starts an import job, wait until the job has finished."""
    response = client.post("/admin/import/confirm", data=data)
    if "/admin/jobs/" in (response.location or ""):
        wait_for_job(client.application, job_id_of(response.location))
    return response


def confirm(client: FlaskClient, html: str) -> Any:
    data = {
        name: _hidden(html, name, "/admin/import/confirm")
        for name in ("token", "dataset", "mapping", "csrf_token")
    }
    return post_confirm(client, data)


def test_mapping_step_and_dry_run_write_nothing(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    response = upload(client, GOOD_CSV)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert mapping_shown(html) == {
        "Make": ("manufacturer", None),
        "Model": ("model", None),
        "Year": ("year", None),
        "HP": ("horsepower", None),
        "Miles_per_Gallon": ("combined_mpg", "mpg"),
        "Cylinders": ("cylinders", None),
        "Origin": ("origin", None),
    }
    assert "<strong>3</strong> new, <strong>0</strong> updated, <strong>0</strong> invalid" in html
    # auto-mpg opens on horsepower against combined mpg: NewCo has no horsepower.
    assert '<strong id="import-plottable">2</strong>' in html
    assert "import-warning" not in html
    assert vehicle_count(app) == 406


def test_confirm_writes_exactly_the_rows_and_audits_them(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    html = upload(client, GOOD_CSV).get_data(as_text=True)
    assert confirm(client, html).status_code == 302
    assert vehicle_count(app) == 409
    one = snapshot(app, first_vehicle_id(app, "import one"))
    assert one == {
        **dict.fromkeys(VEHICLE_FIELDS),
        "dataset": "auto-mpg",
        "manufacturer": "Chevrolet",
        "model": "import one",
        "year": 1980,
        "horsepower": 90.0,
        "combined_mpg": 25.5,
        "cylinders": 4,
        "origin": "USA",
    }
    three = snapshot(app, first_vehicle_id(app, "import three"))
    assert three["manufacturer"] == "NewCo" and three["horsepower"] is None  # type: ignore[index]
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.action, e.source, e.actor) for e in entries] == [
            ("create", "import", "admin")
        ] * 3
        assert [e.after["model"] for e in entries] == ["import one", "import two", "import three"]
    log = client.get("/admin/audit?user=admin").get_data(as_text=True)
    assert "3 changes" in log
    assert "import three" in log
    # The upload is used up: confirming twice cannot import twice.
    assert confirm(client, html).status_code == 302
    assert vehicle_count(app) == 409


def test_new_dataset_with_a_column_mapped_in_cubic_inches(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login("editor")
    created = post_form(client, "/admin/datasets/new", {"name": "Old cars", "slug": "old-cars"})
    assert created.status_code == 302
    page = client.get("/admin/import").get_data(as_text=True)
    assert '<option value="old-cars">Old cars (old-cars)</option>' in page
    csv_text = (
        "make,model,engine,mpg,drv,fl\nFord,pinto test,140,26,f,r\nDodge,dart test,318,16,r,p\n"
    )
    html = upload(client, csv_text, dataset="old-cars").get_data(as_text=True)
    assert mapping_shown(html)["engine"] == ("", None)  # not a name fueldash knows
    assert "no column is mapped to" not in html
    # The field first; its unit choice appears once the page knows the field.
    html = check(client, html, engine=("displacement", None)).get_data(as_text=True)
    assert mapping_shown(html)["engine"] == ("displacement", "l")
    assert re.search(r'<option value="cu in">cubic inches</option>', html)
    html = check(client, html, engine=("displacement", "cu in")).get_data(as_text=True)
    assert mapping_shown(html)["engine"] == ("displacement", "cu in")
    # The preview shows the values as they will be stored: litres, codes spelled out.
    preview = re.search(r'<table class="data" id="import-preview">.*?</table>', html, re.S)
    assert preview, html
    assert re.findall(r"<th>([^<]*)</th>", preview.group(0)) == [
        "dataset",
        "manufacturer",
        "model",
        "fuel_type",
        "combined_mpg",
        "displacement",
        "drive",
        "combined_mpg_derived",
    ]
    assert "<td>Regular</td><td>26</td><td>2.29418896</td><td>Front-Wheel Drive</td>" in (
        preview.group(0)
    )
    assert confirm(client, html).status_code == 302
    pinto = snapshot(app, first_vehicle_id(app, "pinto test"))
    assert pinto["dataset"] == "old-cars"  # type: ignore[index]
    assert pinto["displacement"] == pytest.approx(140 * 0.016387064)  # type: ignore[index]
    assert pinto["drive"] == "Front-Wheel Drive"  # type: ignore[index]
    listed = client.get("/admin/datasets").get_data(as_text=True)
    row = re.search(r"<tr><td><a [^>]*>old-cars</a></td>.*?</tr>", listed, re.S)
    assert row and '<td class="num">2</td>' in row.group(0) and "by editor" in row.group(0)


def test_units_convert_weight_and_fuel_figures(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    csv_text = "make,model,mass,consumption\nRenault,clio test,1000,5\n"
    html = upload(client, csv_text).get_data(as_text=True)
    html = check(
        client, html, mass=("weight", "kg"), consumption=("combined_mpg", "l/100km")
    ).get_data(as_text=True)
    confirm(client, html)
    clio = snapshot(app, first_vehicle_id(app, "clio test"))
    assert clio["weight"] == pytest.approx(1000 / 0.45359237)  # type: ignore[index]
    assert clio["combined_mpg"] == pytest.approx(235.2145833 / 5)  # type: ignore[index]


def test_no_fuel_figure_is_warned_about(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    html = upload(client, "make,model,hp\nFord,no fuel,80\n").get_data(as_text=True)
    assert '<strong id="import-plottable">0</strong>' in html
    assert "no column is mapped to a fuel figure" in html
    # Ignoring a column by hand turns a plottable file into one with the warning.
    html = upload(client, GOOD_CSV).get_data(as_text=True)
    html = check(client, html, Miles_per_Gallon=("", None)).get_data(as_text=True)
    assert "no column is mapped to a fuel figure" in html
    assert '<strong id="import-plottable">0</strong>' in html


def test_a_bad_mapping_is_explained_and_cannot_be_confirmed(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    html = upload(client, GOOD_CSV).get_data(as_text=True)
    twice = check(client, html, HP=("model", None)).get_data(as_text=True)
    assert "columns &#39;Model&#39; and &#39;HP&#39; both map to model" in twice
    assert "/admin/import/confirm" not in twice
    no_model = check(client, html, Model=("", None)).get_data(as_text=True)
    assert "missing required column: model" in no_model
    forged = check(client, html, HP=("password", None)).get_data(as_text=True)
    assert "HP: there is no field &#39;password&#39;" in forged
    data = {
        name: _hidden(html, name, "/admin/import/confirm")
        for name in ("token", "dataset", "csrf_token")
    }
    for mapping in ["not json", '{"Make": ["password", null]}', "{}"]:
        response = post_confirm(client, {**data, "mapping": mapping})
        assert response.status_code == 400, mapping
    assert vehicle_count(app) == 406
    assert audit_count(app) == 0


def test_reimporting_a_file_with_its_own_ids_adds_nothing(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    vehicle_id = first_vehicle_id(app, "corolla 1200")
    before = snapshot(app, vehicle_id)
    csv_text = f"id,make,model,hp,mpg\n{vehicle_id},Toyota,ids one,65,40\n"
    html = upload(client, csv_text).get_data(as_text=True)
    assert mapping_shown(html)["id"] == ("source_id", None)
    assert "<strong>1</strong> new, <strong>0</strong> updated" in html
    confirm(client, html)
    assert snapshot(app, vehicle_id) == before  # a file's id is not a fueldash id
    assert snapshot(app, first_vehicle_id(app, "ids one"))["source_id"] == str(vehicle_id)  # type: ignore[index]
    html = upload(client, csv_text.replace(",65,", ",66,")).get_data(as_text=True)
    assert "<strong>0</strong> new, <strong>1</strong> updated" in html
    confirm(client, html)
    assert vehicle_count(app) == 407
    assert snapshot(app, first_vehicle_id(app, "ids one"))["horsepower"] == 66.0  # type: ignore[index]


def test_export_imports_back_as_updates(client: FlaskClient, auth: Any) -> None:
    auth.login()
    exported = client.get("/admin/vehicles/export.csv").get_data()
    html = upload(client, exported).get_data(as_text=True)
    assert mapping_shown(html)["fueldash_id"] == ("fueldash_id", None)
    assert (
        "<strong>0</strong> new, <strong>406</strong> updated, <strong>0</strong> invalid" in html
    )


def test_invalid_rows_are_listed_and_nothing_can_be_confirmed(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login()
    html = upload(client, BROKEN_FILES["bad number"]).get_data(as_text=True)
    assert "<strong>1</strong> new, <strong>0</strong> updated, <strong>1</strong> invalid" in html
    assert "row 3, horsepower, &#34;not-a-number&#34;: not a number" in html
    assert "/admin/import/confirm" not in html
    assert vehicle_count(app) == 406


def test_the_listing_is_capped_but_counts_are_exact(client: FlaskClient, auth: Any) -> None:
    auth.login()
    rows = "".join(f"Ford,m{i},x,20\n" for i in range(250))
    html = upload(client, "make,model,hp,mpg\n" + rows).get_data(as_text=True)
    assert "<strong>250</strong> invalid" in html
    assert html.count("<li>row ") == 100
    assert "Only the first 100 problems are listed." in html


@pytest.mark.parametrize("kind", sorted(BROKEN_FILES))
def test_broken_uploads_write_nothing(
    app: Flask, client: FlaskClient, auth: Any, kind: str
) -> None:
    auth.login()
    response = upload(client, BROKEN_FILES[kind])
    assert response.status_code in (200, 400)
    html = response.get_data(as_text=True)
    assert "Traceback" not in html
    assert "/admin/import/confirm" not in html
    assert vehicle_count(app) == 406
    assert audit_count(app) == 0


def test_an_unknown_dataset_is_refused(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    response = upload(client, GOOD_CSV, dataset="no-such-set")
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    html = upload(client, GOOD_CSV).get_data(as_text=True)
    forged = {
        name: _hidden(html, name, "/admin/import/confirm")
        for name in ("token", "mapping", "csrf_token")
    }
    response = post_confirm(client, {**forged, "dataset": "no-such-set"})
    assert response.status_code == 302
    assert vehicle_count(app) == 406


def test_xlsx_upload(app: Flask, client: FlaskClient, auth: Any) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Manufacturer", "Model", "Horsepower", "miles per gallon", "year"])
    sheet.append(["vw", "xlsx one", 60, 35.5, 1979])
    sheet.append(["Honda", "xlsx two", 68.0, 38, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    auth.login()
    html = upload(client, buffer.getvalue(), "cars.xlsx").get_data(as_text=True)
    assert "<strong>2</strong> new" in html
    confirm(client, html)
    assert snapshot(app, first_vehicle_id(app, "xlsx one"))["manufacturer"] == "Volkswagen"  # type: ignore[index]
    assert vehicle_count(app) == 408


def test_broken_xlsx_is_refused(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    response = upload(client, b"PK\x03\x04 but not really a zip", "cars.xlsx")
    assert response.status_code == 400
    assert "not a readable XLSX" in response.get_data(as_text=True)
    assert vehicle_count(app) == 406


# --- the CLI -------------------------------------------------------------------------------


def test_cli_dry_run_then_import(app: Flask, runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "cars.csv"
    path.write_text(GOOD_CSV)
    result = runner.invoke(
        args=["vehicles", "import", str(path), "--dataset", "auto-mpg", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "3 new, 0 updated, 0 invalid" in result.output
    assert vehicle_count(app) == 406
    result = runner.invoke(args=["vehicles", "import", str(path), "--dataset", "auto-mpg"])
    assert result.exit_code == 0, result.output
    assert "Imported 3 new and 0 updated vehicles." in result.output
    assert vehicle_count(app) == 409
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry)).all()
        assert {(e.source, e.actor.startswith("cli:")) for e in entries} == {("cli", True)}
        assert len(entries) == 3


@pytest.mark.parametrize("kind", ["bad number", "negative mpg", "missing column", "garbage bytes"])
def test_cli_refuses_broken_files(app: Flask, runner: Any, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "cars.csv"
    content = BROKEN_FILES[kind]
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    result = runner.invoke(args=["vehicles", "import", str(path), "--dataset", "auto-mpg"])
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "Traceback" not in result.output
    assert vehicle_count(app) == 406
    assert audit_count(app) == 0
