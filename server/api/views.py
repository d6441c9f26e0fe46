"""The ``/api/v1`` endpoints. Views stay thin: parse (schemas), query (``models``), reply."""

import hashlib
import json
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, request, stream_with_context
from flask_smorest import Blueprint
from plotly.io.json import to_json_plotly
from sqlalchemy import Connection
from werkzeug.exceptions import HTTPException

from dashapp.view import figure_for
from models import current_data_version, find_manufacturer, manufacturer_summaries
from models.api_queries import GroupBy, Sort, get_vehicle, vehicle_page, vehicle_stats
from models.datasets import dataset_summaries
from models.db import db
from models.editing import vehicle_version
from models.export import iter_vehicles_csv
from models.filters import VehicleFilter
from server.api.problems import http_problem, problem, unexpected_problem
from server.api.schemas import (
    MAX_LIMIT,
    DatasetListSchema,
    FigureArgs,
    FigureSchema,
    ManufacturerArgs,
    ManufacturerListSchema,
    StatsArgs,
    StatsSchema,
    VehicleListArgs,
    VehiclePageSchema,
    VehicleSchema,
)

blp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Datasets, vehicles, manufacturers, statistics and figures, read-only.",
)
blp.register_error_handler(HTTPException, http_problem)
blp.register_error_handler(Exception, unexpected_problem)

JSON = "application/json"
CSV = "text/csv"
CSV_ENDPOINT = "api.list_vehicles"

CACHE_HEADERS = {
    "ETag": {
        "description": "Changes whenever the data or the request changes.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"schema": {"type": "string"}},
}
NOT_MODIFIED = "The client's copy (If-None-Match) is still current."


def documented_errors(*statuses: int) -> Any:
    """Document the problem responses an endpoint can give, besides the default."""

    def decorate(view: Any) -> Any:
        for status in (406, *statuses):
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorate


@blp.before_request
def refuse_unacceptable_media_types() -> Response | None:
    """406 when the Accept header rules out every representation the endpoint offers."""
    offers_csv = request.endpoint == CSV_ENDPOINT
    offered = [JSON, CSV] if offers_csv else [JSON]
    accept = request.accept_mimetypes
    if not accept or accept.best_match(offered) or (offers_csv and "format" in request.args):
        return None  # an explicit ?format= outranks the Accept header
    return problem(406, f"This resource is available as {' or '.join(offered)}.")


def _etag(representation: str) -> str:
    """The data version plus a digest of what was asked for, so queries differ."""
    version = current_data_version(db.session.connection())
    asked = f"{representation} {request.path}?{request.query_string.decode('latin-1')}"
    return f"v{version}-{hashlib.sha256(asked.encode()).hexdigest()[:16]}"


def _cache_headers(etag: str) -> dict[str, str]:
    # Vary: the same URL answers JSON or CSV depending on Accept.
    return {"ETag": f'"{etag}"', "Cache-Control": "no-cache", "Vary": "Accept"}


def _not_modified(etag: str) -> Response | None:
    """A 304 when the client already holds this representation."""
    if not request.if_none_match.contains_weak(etag):
        return None
    return Response(status=304, headers=_cache_headers(etag))


@blp.route("/datasets")
@blp.response(200, DatasetListSchema, headers=CACHE_HEADERS)
@blp.alt_response(304, description=NOT_MODIFIED, success=True)
@documented_errors()
def list_datasets() -> Any:
    """Every dataset: where it comes from, its licence, its last import, the axes its
    figures open on, and how many vehicles it holds."""
    etag = _etag(JSON)
    if cached := _not_modified(etag):
        return cached
    items = dataset_summaries(db.session.connection())
    return {"items": items, "total": len(items)}, 200, _cache_headers(etag)


@blp.route("/manufacturers")
@blp.arguments(ManufacturerArgs, location="query", as_kwargs=True)
@blp.response(200, ManufacturerListSchema, headers=CACHE_HEADERS)
@blp.alt_response(304, description=NOT_MODIFIED, success=True)
@documented_errors()
def list_manufacturers(dataset: str | None = None) -> Any:
    """Every manufacturer with its vehicle count and plottable count, or those of one
    dataset's manufacturers within it."""
    etag = _etag(JSON)
    if cached := _not_modified(etag):
        return cached
    items = manufacturer_summaries(db.session.connection(), dataset)
    return {"items": items, "total": len(items)}, 200, _cache_headers(etag)


@blp.route("/vehicles")
@blp.arguments(VehicleListArgs, location="query", as_kwargs=True)
@blp.response(200, VehiclePageSchema, headers=CACHE_HEADERS)
@blp.doc(
    responses={
        "200": {
            "description": "A page of vehicles as JSON, or every filtered vehicle as CSV.",
            "headers": CACHE_HEADERS,
            "content": {
                JSON: {"schema": VehiclePageSchema},
                CSV: {
                    "schema": {
                        "type": "string",
                        "description": "Header row, then every filtered vehicle.",
                    }
                },
            },
        }
    }
)
@blp.alt_response(304, description=NOT_MODIFIED, success=True)
@documented_errors()
def list_vehicles(
    vehicle_filter: VehicleFilter,
    sort: str,
    limit: int,
    cursor: str | None = None,
    format: str | None = None,
    units: str = "mpg",
) -> Any:
    """Vehicles, filtered and sorted, a page at a time; or all of them as CSV.

    Follow `next` to walk the whole filtered set; each vehicle appears once even while
    rows are added. `format=csv` (or `Accept: text/csv`) streams every match as CSV;
    `units=l100km` gives its fuel economy in litres per 100 km (JSON stays in mpg).
    With `q`, `total` counts at most `API_SEARCH_COUNT_CAP` matches (10,000 unless the
    server says otherwise): when there are more, `total` is the cap and `total_capped`
    is true.
    """
    order = Sort.parse(sort)
    as_csv = format == "csv" or (
        format is None and request.accept_mimetypes.best_match([JSON, CSV]) == CSV
    )
    etag = _etag(CSV if as_csv else JSON)
    if cached := _not_modified(etag):
        return cached
    if as_csv:
        return _csv_response(vehicle_filter, order, etag, units)
    page = vehicle_page(
        db.session.connection(),
        vehicle_filter,
        order,
        min(limit, MAX_LIMIT),
        cursor,
        count_cap=current_app.config["API_SEARCH_COUNT_CAP"],
    )
    body = {
        "items": page.items,
        "total": page.total,
        "total_capped": page.total_capped,
        "next": _next_url(page.next_cursor),
    }
    return body, 200, _cache_headers(etag)


def _next_url(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = request.args.to_dict(flat=False)
    params["cursor"] = [cursor]
    return f"{request.base_url}?{urlencode(params, doseq=True)}"


def _csv_response(
    vehicle_filter: VehicleFilter, sort: Sort, etag: str, units: str = "mpg"
) -> Response:
    """Stream the CSV from its own connection, a batch of rows at a time."""

    def generate() -> Iterator[str]:
        with db.engine.connect() as conn:
            yield from iter_vehicles_csv(conn, vehicle_filter, sort, units=units)

    response = Response(stream_with_context(generate()), mimetype=CSV)
    response.headers.update(_cache_headers(etag))
    response.headers["Content-Disposition"] = 'attachment; filename="vehicles.csv"'
    return response


@blp.route("/vehicles/<int:vehicle_id>")
@blp.response(200, VehicleSchema, headers=CACHE_HEADERS)
@blp.alt_response(304, description=NOT_MODIFIED, success=True)
@documented_errors(404)
def get_one_vehicle(vehicle_id: int) -> Any:
    """One vehicle by id.

    Its ETag changes only when this vehicle does; send it back as `If-Match` with a PATCH
    or DELETE to have the write refused (412) if someone changed the vehicle meanwhile.
    """
    conn = db.session.connection()
    vehicle = get_vehicle(conn, vehicle_id)
    if vehicle is None:
        return problem(404, f"There is no vehicle with id {vehicle_id}.")
    etag = vehicle_etag(conn, vehicle)
    if cached := _not_modified(etag):
        return cached
    return vehicle, 200, _cache_headers(etag)


def vehicle_etag(conn: Connection, vehicle: dict[str, Any]) -> str:
    """One vehicle's ETag: its version, plus a digest of what is shown, which also
    changes when its manufacturer or dataset is renamed."""
    version = vehicle_version(conn, vehicle["id"])
    shown = json.dumps(vehicle, sort_keys=True, default=str)
    return f"{vehicle['id']}.{version}-{hashlib.sha256(shown.encode()).hexdigest()[:16]}"


@blp.route("/stats")
@blp.arguments(StatsArgs, location="query", as_kwargs=True)
@blp.response(200, StatsSchema, headers=CACHE_HEADERS)
@blp.alt_response(304, description=NOT_MODIFIED, success=True)
@documented_errors()
def stats(vehicle_filter: VehicleFilter, group_by: GroupBy) -> Any:
    """Count, and mean/min/max of mpg and horsepower, per group of the filtered vehicles.

    Means are rounded to 2 decimals; groups come in key order with the null key last.
    """
    etag = _etag(JSON)
    if cached := _not_modified(etag):
        return cached
    groups = vehicle_stats(db.session.connection(), vehicle_filter, group_by)
    return {"group_by": group_by, "groups": groups}, 200, _cache_headers(etag)


@blp.route("/figures/fuel-efficiency")
@blp.arguments(FigureArgs, location="query", as_kwargs=True)
@blp.response(200, FigureSchema, headers=CACHE_HEADERS)
@blp.alt_response(304, description=NOT_MODIFIED, success=True)
@documented_errors(404)
def fuel_efficiency_figure(manufacturer: str, dataset: str) -> Any:
    """The dashboard's figure for one manufacturer in one dataset, on the dataset's default
    axes (mpg against horsepower for auto-mpg), as Plotly JSON.

    Built by the same function as the dashboard's callback, and serialized the way Dash
    serializes it.
    """
    etag = _etag(JSON)
    if cached := _not_modified(etag):
        return cached
    if find_manufacturer(db.session.connection(), manufacturer) is None:
        return problem(404, f"There is no manufacturer named {manufacturer!r}.")
    body = to_json_plotly(figure_for(manufacturer, dataset=dataset))
    return Response(body, mimetype=JSON, headers=_cache_headers(etag))
