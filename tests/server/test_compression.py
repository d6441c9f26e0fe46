"""Dynamic responses compressed with zstd on a reused context: each one a whole frame."""

import json
import threading
from typing import Any

import pytest
from backports import zstd
from flask import Flask
from flask.testing import FlaskClient

from server.compression import compress_reusing_zstd_context, zstd_compressor
from tests.dashapp.helpers import UPDATE_URL, callback_payload, point_count

ZSTD_ONLY = {"Accept-Encoding": "zstd"}


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
        # A frame the reused context left open would not decompress on its own.
        points[maker] = figure_points(zstd.decompress(response.data))
        assert points[maker] == figure_points(plain.data)
    assert points == {"Ford": 49, "Chevrolet": 47}  # the Capri II is a Ford


def test_each_thread_keeps_its_own_context() -> None:
    here = zstd_compressor(3)
    assert zstd_compressor(3) is here
    assert zstd_compressor(9) is not here
    elsewhere: list[Any] = []
    worker = threading.Thread(target=lambda: elsewhere.append(zstd_compressor(3)))
    worker.start()
    worker.join()
    assert elsewhere[0] is not here


def test_a_failed_compression_does_not_poison_the_next(app: Flask) -> None:
    level = app.config["COMPRESS_ZSTD_LEVEL"]
    before = zstd_compressor(level)
    with pytest.raises(TypeError):
        compress_reusing_zstd_context(app, "not bytes", "zstd")  # type: ignore[arg-type]
    assert zstd_compressor(level) is not before
    body = b"fuel efficiency " * 200
    assert zstd.decompress(compress_reusing_zstd_context(app, body, "zstd")) == body


def test_other_algorithms_still_go_through_flask_compress(app: Flask) -> None:
    import gzip

    body = b"horsepower,mpg\n" * 300
    assert gzip.decompress(compress_reusing_zstd_context(app, body, "gzip")) == body


def test_flask_compress_uses_the_reused_context(app: Flask) -> None:
    import flask_compress.flask_compress as flask_compress_internals

    # If a Flask-Compress release renames this hook, every response pays for a new context.
    assert flask_compress_internals._compress_data is compress_reusing_zstd_context
