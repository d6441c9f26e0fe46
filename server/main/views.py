"""Routes for ``/`` (a landing page) and ``/healthz`` (database status for load balancers)."""

from flask import Blueprint, Response, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from models import count_unplottable, current_data_version, manufacturer_summaries
from models.db import db

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """Say what fueldash is and link to its surfaces."""
    manufacturers: int | None
    hidden: int | None
    total: int | None
    try:
        with db.engine.connect() as conn:
            manufacturers = len(manufacturer_summaries(conn))
            hidden, total = count_unplottable(conn)
    except SQLAlchemyError:
        manufacturers = hidden = total = None
    return render_template("index.html", manufacturers=manufacturers, hidden=hidden, total=total)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers and is migrated, 503 with the reason when not."""
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return _unhealthy(f"cannot reach the database ({error.__class__.__name__})")
    try:
        with db.engine.connect() as conn:
            version = current_data_version(conn)
    except SQLAlchemyError:
        return _unhealthy("the schema is missing; run `flask --app wsgi db upgrade`")
    return jsonify(
        status="ok",
        database={"status": "ok", "backend": db.engine.dialect.name, "data_version": version},
    ), 200


def _unhealthy(reason: str) -> tuple[Response, int]:
    return jsonify(
        status="error",
        database={"status": "unavailable", "backend": db.engine.dialect.name, "detail": reason},
    ), 503
