"""Import through /admin/import and ``flask vehicles import``: dry run, confirm, all or
nothing, and the audit log of what was written."""

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import select

from models.audit import AuditEntry
from models.db import db
from tests.conftest import csrf_token
from tests.server.admin.helpers import audit_count, first_vehicle_id, snapshot, vehicle_count

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


def upload(client: FlaskClient, content: str | bytes, name: str = "cars.csv") -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        "/admin/import",
        data={"file": (io.BytesIO(data), name), "csrf_token": csrf_token(client, "/admin/import")},
        content_type="multipart/form-data",
    )


def confirm(client: FlaskClient, html: str) -> Any:
    import re

    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html)
    assert token, "no confirm form"
    return client.post(
        "/admin/import/confirm",
        data={"token": token.group(1), "csrf_token": csrf_token(client, "/admin/import")},
    )


def test_dry_run_reports_and_writes_nothing(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    response = upload(client, GOOD_CSV)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<strong>3</strong> new, <strong>0</strong> updated, <strong>0</strong> invalid" in html
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
        "manufacturer": "Chevrolet",
        "model": "import one",
        "year": 1980,
        "horsepower": 90.0,
        "mpg": 25.5,
        "cylinders": 4,
        "displacement": None,
        "weight": None,
        "acceleration": None,
        "origin": "USA",
    }
    three = snapshot(app, first_vehicle_id(app, "import three"))
    assert three["manufacturer"] == "Newco" and three["horsepower"] is None  # type: ignore[index]
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.action, e.source, e.actor) for e in entries] == [
            ("create", "import", "admin")
        ] * 3
        assert [e.after["model"] for e in entries] == ["import one", "import two", "import three"]
    log = client.get("/admin/audit?user=admin").get_data(as_text=True)
    assert "3 changes" in log
    assert "import three" in log
    # The token is used up: confirming twice cannot import twice.
    assert confirm(client, html).status_code == 302
    assert vehicle_count(app) == 409


def test_rows_with_an_id_update_that_vehicle(app: Flask, client: FlaskClient, auth: Any) -> None:
    auth.login()
    vehicle_id = first_vehicle_id(app, "corolla 1200")
    before = snapshot(app, vehicle_id)
    csv_text = f"id,manufacturer,model,hp,mpg\n{vehicle_id},toyouta,corolla 1200,65,40\n"
    html = upload(client, csv_text).get_data(as_text=True)
    assert "<strong>0</strong> new, <strong>1</strong> updated" in html
    confirm(client, html)
    # Columns the file lacks (year, weight, ...) keep their stored values.
    assert snapshot(app, vehicle_id) == {**before, "horsepower": 65.0, "mpg": 40.0}  # type: ignore[dict-item]
    assert vehicle_count(app) == 406


def test_export_imports_back_as_updates(client: FlaskClient, auth: Any) -> None:
    auth.login()
    exported = client.get("/admin/vehicles/export.csv").get_data()
    html = upload(client, exported).get_data(as_text=True)
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
    assert 'name="token"' not in html
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
    assert 'name="token"' not in html
    assert vehicle_count(app) == 406
    assert audit_count(app) == 0


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
    result = runner.invoke(args=["vehicles", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "3 new, 0 updated, 0 invalid" in result.output
    assert vehicle_count(app) == 406
    result = runner.invoke(args=["vehicles", "import", str(path)])
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
    result = runner.invoke(args=["vehicles", "import", str(path)])
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "Traceback" not in result.output
    assert vehicle_count(app) == 406
    assert audit_count(app) == 0
