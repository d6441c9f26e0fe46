"""Schemathesis on the write endpoints, with a valid token: whatever the body, no 5xx, and
every answer is one the OpenAPI document allows."""

import os

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from models.db import db
from models.user import User, issue_token

pytestmark = pytest.mark.fuzz

WRITES = [
    ("POST", "/api/v1/vehicles"),
    ("PATCH", "/api/v1/vehicles/{vehicle_id}"),
    ("DELETE", "/api/v1/vehicles/{vehicle_id}"),
]


def test_every_write_operation_is_fuzzed(app: Flask) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    found = {
        (r.ok().method.upper(), r.ok().path)
        for r in schema.get_all_operations()
        if r.ok().method.upper() != "GET"
    }
    assert found == set(WRITES)


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [
        (m, p, mode)
        for m, p in WRITES
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ],
)
def test_writes_match_the_document(
    app: Flask, users: dict[str, int], method: str, path: str, mode: GenerationMode
) -> None:
    with app.app_context():
        _token, secret = issue_token(db.session, db.session.get(User, users["admin"]), "fuzz")
        db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        # The same examples every run, so CI is repeatable; FUZZ_RANDOM=1 explores anew.
        derandomize=not os.environ.get("FUZZ_RANDOM"),
    )
    def conforms(case: schemathesis.Case) -> None:
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {secret}"},
            excluded_checks=[positive_data_acceptance],
        )
        assert response.status_code < 500

    conforms()
