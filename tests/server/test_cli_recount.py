"""`flask vehicles recount`: the summary recounted after writes made around fueldash."""

from flask import Flask
from sqlalchemy import select, text

from models.db import db
from models.vehicle import DataVersion
from tests.models.test_summary import assert_summary_is_a_recount


def test_recount_repairs_the_summary_after_raw_sql(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as conn:
        changed = conn.execute(
            text(
                "UPDATE vehicles SET horsepower = NULL WHERE id IN "
                "(SELECT id FROM vehicles WHERE horsepower IS NOT NULL ORDER BY id LIMIT 7)"
            )
        ).rowcount
        version = conn.scalar(select(DataVersion.version))
    assert changed == 7
    try:
        assert_summary_is_a_recount(app)
    except AssertionError:
        pass  # raw SQL went around the summary, as the command's docstring says
    else:
        raise AssertionError("the raw UPDATE should have left the summary behind")

    result = app.test_cli_runner().invoke(args=["vehicles", "recount"])

    assert result.exit_code == 0, result.output
    assert "Recounted" in result.output
    assert_summary_is_a_recount(app)
    with app.app_context(), db.engine.connect() as conn:
        assert conn.scalar(select(DataVersion.version)) == version + 1
