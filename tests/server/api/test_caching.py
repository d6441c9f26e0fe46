"""ETags follow the data version in the database and the request; If-None-Match gives 304."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.server.api.helpers import API, add_vehicles, vehicle_id

URLS = [
    f"{API}/datasets",
    f"{API}/manufacturers",
    f"{API}/manufacturers?dataset=auto-mpg",
    f"{API}/vehicles?manufacturer=toyota",
    f"{API}/vehicles?format=csv",
    f"{API}/stats?group_by=origin",
    f"{API}/stats?group_by=dataset&fuel_type=regular",
    f"{API}/figures/fuel-efficiency?manufacturer=Ford",
    f"{API}/figures/fuel-efficiency?manufacturer=Ford&dataset=auto-mpg",
]


@pytest.mark.parametrize("url", URLS)
def test_if_none_match_answers_304_until_the_data_changes(
    client: FlaskClient, app: Flask, url: str
) -> None:
    url = url.format(first_id=vehicle_id(client))
    first = client.get(url)
    first.get_data()  # a streamed body runs to its end, as a real client would read it
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"v')
    assert first.headers["Cache-Control"] == "no-cache"
    # Flask-Compress (issue 5) adds Accept-Encoding: the body depends on it too.
    assert "Accept" in [v.strip() for v in first.headers["Vary"].split(",")]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    add_vehicles(app, 1)
    after_write = client.get(url, headers={"If-None-Match": etag})
    assert after_write.status_code == 200
    assert after_write.headers["ETag"] != etag


def test_different_queries_and_representations_get_different_etags(client: FlaskClient) -> None:
    def etag_of(url: str, **kwargs: object) -> str:
        response = client.get(url, **kwargs)  # type: ignore[arg-type]
        response.get_data()
        return response.headers["ETag"]

    tags = {
        etag_of(f"{API}/vehicles?manufacturer=toyota"),
        etag_of(f"{API}/vehicles?manufacturer=honda"),
        etag_of(f"{API}/vehicles?manufacturer=honda&format=csv"),
        etag_of(f"{API}/vehicles", headers={"Accept": "text/csv"}),
        etag_of(f"{API}/vehicles"),
    }
    assert len(tags) == 5


def test_streamed_csv_releases_its_context(client: FlaskClient) -> None:
    for _ in range(2):
        response = client.get(f"{API}/vehicles?format=csv")
        assert response.get_data(as_text=True).count("\r\n") == 407


def test_etag_is_shared_by_every_app_on_the_database(make_app: object, app: Flask) -> None:
    """A second app (another gunicorn worker) computes the same ETag from the database."""
    other = make_app()  # type: ignore[operator]
    url = f"{API}/stats?group_by=year"
    assert (
        app.test_client().get(url).headers["ETag"] == other.test_client().get(url).headers["ETag"]
    )
    add_vehicles(app, 1)
    tag = app.test_client().get(url).headers["ETag"]
    assert other.test_client().get(url, headers={"If-None-Match": tag}).status_code == 304
