"""Schemathesis fuzzes the whole API from its own OpenAPI document, reads and writes (with a
valid bearer token), positive and negative data, with every check it has: no 5xx, every
answer documented (status, content type, headers, body), valid data accepted, invalid data
rejected, and writes refused without the token.

Schemathesis's lazy pytest loader (``from_fixture``) fails on pytest 9, so each operation's
Hypothesis strategy is driven directly here, with a bounded number of examples: over 5,000
requests in all (``test_the_run_was_big_enough``). CI runs this module once, on PostgreSQL.
"""

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from server.api.schemas import MAX_LIMIT

pytestmark = pytest.mark.fuzz

OPERATIONS = [
    ("GET", "/api/v1/datasets"),
    ("GET", "/api/v1/manufacturers"),
    ("GET", "/api/v1/vehicles"),
    ("POST", "/api/v1/vehicles"),
    ("GET", "/api/v1/vehicles/{vehicle_id}"),
    ("PATCH", "/api/v1/vehicles/{vehicle_id}"),
    ("DELETE", "/api/v1/vehicles/{vehicle_id}"),
    ("GET", "/api/v1/stats"),
    ("GET", "/api/v1/figures/fuel-efficiency"),
    ("GET", "/api/v1/compare"),
]
#: /datasets takes no parameters: one request is all there is, and nothing can be invalid.
RUNS = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in GenerationMode
    if path != "/api/v1/datasets" or mode is GenerationMode.POSITIVE
]
EXAMPLES_PER_RUN = 290
MIN_REQUESTS = 5000
#: Rules the document cannot state, as they depend on stored data or on other parameters:
#: a dataset must exist, a cursor must be one the API issued, a minimum may not exceed its
#: maximum, compared vehicle ids must differ. A schema-valid request that breaks one gets
#: its documented 422.
STATEFUL_RULES = {"dataset", "cursor", "year_min", "hp_min", "mpg_min", "ids"}

#: Requests made per run, for ``test_the_run_was_big_enough``.
requests_made: Counter[tuple[str, str, GenerationMode]] = Counter()


def _schema(app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_every_operation_is_fuzzed(app: Flask) -> None:
    found = [(r.ok().method.upper(), r.ok().path) for r in _schema(app).get_all_operations()]
    assert sorted(found) == sorted(OPERATIONS)


def _rejects_for_state(case: schemathesis.Case, response: Any) -> bool:
    """Whether a valid request was refused for a reason the document cannot state: a rule
    in STATEFUL_RULES, or an If-Match naming a version the vehicle no longer has."""
    if response.status_code == 412:
        return "If-Match" in (case.headers or {})
    if response.status_code == 422:
        return set(response.json()["errors"]) <= STATEFUL_RULES
    return False


@pytest.mark.parametrize(("method", "path", "mode"), RUNS)
def test_api_matches_its_openapi_document(
    app: Flask, token: str, method: str, path: str, mode: GenerationMode
) -> None:
    operation = _schema(app)[path][method]
    # Schemathesis's WSGI transport does not decode Content-Encoding, and the app compresses
    # large responses, so ask for the identity encoding.
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=1 if path == "/api/v1/datasets" else EXAMPLES_PER_RUN,
        deadline=None,
        database=None,
        # The same examples every run, so CI is repeatable; FUZZ_RANDOM=1 explores anew.
        derandomize=not os.environ.get("FUZZ_RANDOM"),
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: schemathesis.Case) -> None:
        requests_made[method, path, mode] += 1
        response = case.call(headers=headers)
        assert response.status_code < 500, response.text
        # Every check runs, but "valid data is accepted" cannot hold for the rules the
        # document has no words for (see STATEFUL_RULES).
        stateful = mode is GenerationMode.POSITIVE and _rejects_for_state(case, response)
        case.validate_response(
            response,
            excluded_checks=[positive_data_acceptance] if stateful else [],
            headers=headers,
            transport_kwargs={"headers": headers},
        )
        if method == "GET" and path == "/api/v1/vehicles" and response.status_code == 200:
            kinds = {name.lower(): values for name, values in response.headers.items()}
            if kinds["content-type"][0].startswith("application/json"):
                assert len(response.json()["items"]) <= MAX_LIMIT

    conforms()


def test_the_run_was_big_enough() -> None:
    if set(requests_made) != set(RUNS):
        pytest.skip("only some of the fuzz runs were selected")
    total = sum(requests_made.values())
    print(f"Schemathesis made {total} requests in {len(RUNS)} runs")
    assert total >= MIN_REQUESTS, requests_made
