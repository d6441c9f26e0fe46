"""Compressed answers: dynamic ones decode on their own, static files are gzipped once per file."""

import gzip
import json
from pathlib import Path

from backports import zstd
from flask import Flask
from flask.testing import FlaskClient

from dashapp import ASSETS_DIR
from server import compression
from tests.dashapp.helpers import UPDATE_URL, callback_payload, point_count

ZSTD_ONLY = {"Accept-Encoding": "zstd"}
GZIP = {"Accept-Encoding": "gzip"}
PLOTLY_ASSET = next(ASSETS_DIR.glob("plotly-basic-*.min.js"))
PLOTLY_URL = f"/dash/assets/{PLOTLY_ASSET.name}"
YEAR = "max-age=31536000"


def figure_points(body: bytes) -> int:
    return point_count(
        json.loads(body)["response"]["fuel-efficiency-vs-horsepower-graph"]["figure"]
    )


def test_callback_answers_in_a_row_each_decode_on_their_own(client: FlaskClient) -> None:
    points = {}
    for maker in ("Ford", "Chevrolet", "Ford"):
        response = client.post(UPDATE_URL, json=callback_payload(maker), headers=ZSTD_ONLY)
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "zstd"
        assert int(response.headers["Content-Length"]) == len(response.data)
        plain = client.post(UPDATE_URL, json=callback_payload(maker))
        assert "Content-Encoding" not in plain.headers
        points[maker] = figure_points(zstd.decompress(response.data))
        assert points[maker] == figure_points(plain.data)
    assert points == {"Ford": 49, "Chevrolet": 47}  # the Capri II is a Ford


def cached_bodies(name: str) -> list[bytes]:
    return [body for key, (_etag, body) in compression.gzipped_static.items() if name in key]


def test_one_gzipped_body_per_file_whatever_the_query_string(client: FlaskClient) -> None:
    for key in [key for key in compression.gzipped_static if PLOTLY_ASSET.name in key]:
        del compression.gzipped_static[key]
    for version in range(5):
        response = client.get(f"{PLOTLY_URL}?m={version}", headers=GZIP)
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.data) == PLOTLY_ASSET.read_bytes()
        # A fingerprint that is not the file's own must not pin it in caches for a year.
        assert YEAR not in response.headers.get("Cache-Control", "")
    assert len(cached_bodies(PLOTLY_ASSET.name)) == 1


def test_only_a_true_fingerprint_is_cached_for_a_year(client: FlaskClient) -> None:
    page = client.get("/dash/").get_data(as_text=True)
    true_url = f"{PLOTLY_URL}?m={PLOTLY_ASSET.stat().st_mtime}"
    assert true_url in page  # the URL Dash writes into the page
    cache_control = client.get(true_url, headers=GZIP).headers["Cache-Control"]
    assert cache_control == "public, max-age=31536000, immutable"
    assert YEAR not in client.get(PLOTLY_URL).headers.get("Cache-Control", "")


def test_static_urls_carry_a_fingerprint_that_earns_a_year(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    css = Path(app.static_folder or "", "site.css")
    url = f"/static/site.css?m={css.stat().st_mtime}"
    assert f'href="{url}"' in page
    fingerprinted = client.get(url, headers=GZIP)
    assert fingerprinted.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert gzip.decompress(fingerprinted.data) == css.read_bytes()
    assert YEAR not in client.get("/static/site.css?m=1").headers.get("Cache-Control", "")


def test_an_edited_file_is_compressed_again(app: Flask, tmp_path: Path) -> None:
    app.static_folder = str(tmp_path)
    script = tmp_path / "edited.js"
    script.write_text("var first = 1;" * 100)
    client = app.test_client()
    assert gzip.decompress(client.get("/static/edited.js", headers=GZIP).data).startswith(
        b"var first"
    )
    script.write_text("var second = 2;" * 200)
    assert gzip.decompress(client.get("/static/edited.js", headers=GZIP).data).startswith(
        b"var second"
    )
    assert len(cached_bodies("/static/edited.js")) == 1
