"""No N+1: each API request runs a fixed number of SQL statements, however many rows."""

import pytest
from flask import Flask

from tests.server.api.helpers import API, add_vehicles, counting_statements, vehicle_id

URLS = [
    f"{API}/datasets",
    f"{API}/manufacturers",
    f"{API}/manufacturers?dataset=auto-mpg",
    f"{API}/vehicles?limit=500",
    f"{API}/vehicles?sort=-horsepower&limit=500",
    f"{API}/vehicles?format=csv",
    f"{API}/vehicles?dataset=auto-mpg&sort=fuel_type&limit=500",
    f"{API}/vehicles/{{first_id}}",
    f"{API}/stats?group_by=manufacturer",
    f"{API}/stats?group_by=vehicle_class&dataset=auto-mpg",
    f"{API}/figures/fuel-efficiency?manufacturer=Toyota",
    f"{API}/figures/fuel-efficiency?manufacturer=Toyota&dataset=auto-mpg",
]


def statements_for(app: Flask, url: str) -> int:
    client = app.test_client()
    with counting_statements(app) as statements:
        response = client.get(url)
        response.get_data()
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("url", URLS)
def test_statement_count_does_not_grow_with_rows(app: Flask, url: str) -> None:
    # The first request also runs Dash's one-off setup; it is not the API's to count.
    url = url.format(first_id=vehicle_id(app.test_client()))
    before = statements_for(app, url)
    add_vehicles(app, 300)
    add_vehicles(app, 300, manufacturer="Ford", horsepower=None)
    assert statements_for(app, url) == before
    # BEGIN, the data version, a dataset's lookup when one is named, then a few fixed
    # queries (a figure also reads the datasets' default axes, and its own data version).
    assert before <= 8
