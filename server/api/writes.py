"""JSON writes: ``POST /api/v1/vehicles``, ``PATCH`` and ``DELETE /api/v1/vehicles/{id}``.

They need ``Authorization: Bearer <token>`` (a personal token from /admin/tokens), check
values with ``models.validation`` exactly like the admin forms, write through
``models.editing`` (audited, data version bumped) and answer errors as problem details.
"""

from typing import Any

import marshmallow as ma
from flask import Response, g, request, url_for
from sqlalchemy import Connection

from models.api_queries import get_vehicle
from models.audit import Actor
from models.db import db
from models.editing import (
    DuplicateSourceId,
    EditError,
    check_version,
    create_vehicle,
    delete_vehicles,
    update_vehicle,
    write_transaction,
)
from models.user import token_for_secret
from models.validation import MAX_MEASUREMENT, RULES, parse_vehicle
from server.api.problems import problem
from server.api.schemas import VehicleSchema
from server.api.views import blp, vehicle_etag

#: PATCH and DELETE take the ETag of GET /vehicles/{id} as a precondition.
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "The vehicle's ETag as last read; the write is refused with 412 if the "
    "vehicle has changed since. Without it the write goes ahead.",
}
PRECONDITION_FAILED = "PRECONDITION_FAILED"

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER = "bearerAuth"
SECURITY: list[dict[str, list[str]]] = [{BEARER: []}]

_TYPES = {"text": "string", "int": "integer", "float": "number"}
#: Text the store can hold has no NUL; required text has a character other than spaces
#: (Python's ``\s`` and ``str.split`` agree on what a space is).
_STORABLE = r"^[^\x00]*$"
_NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"


def _any_case(choices: tuple[str, ...]) -> str:
    """A pattern for the choices as the rules match them: any case, spaces collapsed.
    The choices are letters, spaces and hyphens, none of them special in a pattern."""

    def letters(choice: str) -> str:
        return "".join(
            r"\s+" if c == " " else f"[{c.lower()}{c.upper()}]" if c.isalpha() else c
            for c in choice
        )

    return rf"^\s*(?:{'|'.join(letters(choice) for choice in choices)})\s*$"


def _field(name: str) -> ma.fields.Raw:
    # Raw, not typed fields: every check is models.validation's, so the API gives the same
    # reasons as the admin form; the document states the same rules.
    rule = RULES[name]
    limits: dict[str, Any] = {"maxLength": rule.max_length} if rule.max_length else {}
    if rule.kind == "text":
        pattern = _any_case(rule.choices) if rule.choices else None
        limits["pattern"] = pattern or (_NOT_BLANK if rule.required else _STORABLE)
    if rule.positive:
        limits.update(minimum=0, exclusiveMinimum=True)
    if rule.positive and rule.kind == "float":
        limits.update(maximum=MAX_MEASUREMENT, exclusiveMaximum=True)
    if rule.between:
        limits.update(minimum=rule.between[0], maximum=rule.between[1], exclusiveMinimum=False)
    return ma.fields.Raw(
        # Required on create (a PATCH is partial), never null; the message is the rules' own.
        required=rule.required,
        allow_none=not rule.required,
        error_messages={"required": "is required", "null": "is required"},
        metadata={
            "type": _TYPES[rule.kind],
            "description": "Required when creating." if rule.required else "null for unknown.",
            **limits,
        },
    )


class VehicleWriteSchema(ma.Schema):
    """A vehicle's values; checked by the same rules as the admin form."""

    dataset = _field("dataset")
    manufacturer = _field("manufacturer")
    model = _field("model")
    year = _field("year")
    vehicle_class = _field("vehicle_class")
    powertrain = _field("powertrain")
    fuel_type = _field("fuel_type")
    horsepower = _field("horsepower")
    city_mpg = _field("city_mpg")
    highway_mpg = _field("highway_mpg")
    combined_mpg = _field("combined_mpg")
    cylinders = _field("cylinders")
    displacement = _field("displacement")
    weight = _field("weight")
    acceleration = _field("acceleration")
    drive = _field("drive")
    transmission = _field("transmission")
    origin = _field("origin")
    co2_g_per_mile = _field("co2_g_per_mile")
    annual_fuel_cost_usd = _field("annual_fuel_cost_usd")
    electric_range_miles = _field("electric_range_miles")
    source_id = _field("source_id")

    @ma.validates_schema(skip_on_field_errors=False)
    def _same_rules_as_the_forms(self, data: dict[str, Any], **kwargs: Any) -> None:
        _values, problems = parse_vehicle(data, partial=bool(kwargs.get("partial")))
        # A required field that was not sent, or sent as null, is already reported.
        sent = {name: [reason] for name, reason in problems.items() if name in data}
        # The rules measure text after collapsing spaces; the document's maxLength is the
        # JSON string's own length, so a longer one is refused even if spaces would go.
        for name, value in data.items():
            limit = RULES[name].max_length
            if limit and isinstance(value, str) and len(value) > limit and name not in sent:
                sent[name] = [f"is longer than {limit} characters"]
        if sent:
            raise ma.ValidationError(sent)

    @ma.post_load
    def _clean(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        values, _problems = parse_vehicle(data, partial=bool(kwargs.get("partial")))
        return values


class VehiclePatchSchema(VehicleWriteSchema):
    """Some of a vehicle's values; the fields not sent stay as they are."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


def document_bearer_auth(api: Any) -> None:
    """Declare the bearer scheme the write endpoints use in the OpenAPI document."""
    api.spec.components.security_scheme(
        BEARER,
        {"type": "http", "scheme": "bearer", "description": "A token from /admin/tokens."},
    )


def _unauthorized(detail: str) -> Response:
    return problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="fueldash"'})


@blp.before_request
def require_token_for_writes() -> Response | None:
    """Every write method under /api/v1 needs a valid bearer token; reads stay open
    unless FUELDASH_PRIVATE (see ``server.api.require_sign_in_for_reads``)."""
    if request.method not in WRITE_METHODS:
        return None
    return check_bearer_token()


def check_bearer_token(
    missing: str = "Send 'Authorization: Bearer <token>'; tokens are at /admin/tokens.",
) -> Response | None:
    """None when the request carries a valid token (its user becomes ``g.api_actor``),
    else the 401 problem to answer; ``missing`` explains a request without one."""
    scheme, _, secret = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return _unauthorized(missing)
    # The lookup also records last_used_at: on SQLite take the write lock up front, as
    # write_transaction does, or a parallel writer makes the upgrade fail as "locked".
    db.session.rollback()  # nothing is written yet; the options need a fresh transaction
    db.session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    token = token_for_secret(db.session(), secret.strip())
    if token is None:
        db.session.rollback()
        return _unauthorized("The token is unknown or revoked.")
    g.api_actor = Actor.for_token(token)  # the audit log names the token too
    db.session.commit()  # records last_used_at, and frees the session before the write
    return None


def _taken_source_id(error: DuplicateSourceId) -> Response:
    return problem(409, f"Conflict: {error}.", errors={"source_id": [str(error)]})


def _unknown_dataset(error: EditError) -> Response:
    # Writing only fails this way when the dataset named does not exist.
    return problem(422, f"Invalid parameter: dataset ({error}).", errors={"dataset": [str(error)]})


def _vehicle_or_404(vehicle_id: int) -> Any:
    """The vehicle as the reply, with its new ETag."""
    conn = db.session.connection()
    found = get_vehicle(conn, vehicle_id)
    if found is None:
        return problem(404, f"There is no vehicle with id {vehicle_id}.")
    return found, {"ETag": f'"{vehicle_etag(conn, found)}"'}


def _if_match_fails(conn: Connection, vehicle_id: int) -> Response | None:
    """A 412 when If-Match names a version of the vehicle other than the current one.

    The row is locked first, so it cannot change between this check and the write.
    """
    if not request.if_match or check_version(conn, vehicle_id, None) is None:
        return None  # no precondition; or no vehicle, which is a 404
    vehicle = get_vehicle(conn, vehicle_id)
    etag = vehicle_etag(conn, vehicle) if vehicle else ""
    if not vehicle or request.if_match.contains(etag):
        return None
    return problem(
        412,
        f"Vehicle {vehicle_id} has changed since the If-Match ETag was read; nothing was "
        "written. GET it again, and send its new ETag.",
        headers={"ETag": f'"{etag}"'},
    )


@blp.route("/vehicles", methods=["POST"])
@blp.arguments(VehicleWriteSchema)
@blp.response(201, VehicleSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.doc(security=SECURITY)
def create_one_vehicle(values: dict[str, Any]) -> Any:
    """Add a vehicle. Needs a bearer token; the change is audited."""
    try:
        with write_transaction() as conn:
            vehicle_id = create_vehicle(conn, g.api_actor, values)
    except DuplicateSourceId as error:
        return _taken_source_id(error)
    except EditError as error:
        return _unknown_dataset(error)
    location = url_for("api.get_one_vehicle", vehicle_id=vehicle_id)
    body, headers = _vehicle_or_404(vehicle_id)
    return body, 201, {**headers, "Location": location}


@blp.route("/vehicles/<int:vehicle_id>", methods=["PATCH"])
@blp.arguments(VehiclePatchSchema)
@blp.response(200, VehicleSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(412, response=PRECONDITION_FAILED)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.doc(security=SECURITY, parameters=[IF_MATCH])
def update_one_vehicle(values: dict[str, Any], vehicle_id: int) -> Any:
    """Change some of a vehicle's values (only the fields sent). Needs a bearer token."""
    try:
        with write_transaction() as conn:
            if refused := _if_match_fails(conn, vehicle_id):
                return refused
            found = update_vehicle(conn, g.api_actor, vehicle_id, values)
    except DuplicateSourceId as error:
        return _taken_source_id(error)
    except EditError as error:
        return _unknown_dataset(error)
    if not found:
        return problem(404, f"There is no vehicle with id {vehicle_id}.")
    return _vehicle_or_404(vehicle_id)


@blp.route("/vehicles/<int:vehicle_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(412, response=PRECONDITION_FAILED)
@blp.doc(security=SECURITY, parameters=[IF_MATCH])
def delete_one_vehicle(vehicle_id: int) -> Any:
    """Delete a vehicle. Needs a bearer token; the change is audited."""
    with write_transaction() as conn:
        if refused := _if_match_fails(conn, vehicle_id):
            return refused
        deleted = delete_vehicles(conn, g.api_actor, [vehicle_id])
    if not deleted:
        return problem(404, f"There is no vehicle with id {vehicle_id}.")
    return "", 204
