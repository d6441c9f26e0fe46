"""Response compression where it pays, and static files compressed once per worker.

- Static JavaScript and CSS (Dash's component suites, ``/dash/assets/``, ``/static/``) are
  gzipped at level 9 the first time a worker serves them and kept in memory, so workers
  never recompress plotly.js per request (about 200 ms of CPU each time). Their URLs are
  versioned (a fingerprint or ``?m=<mtime>``), so they are cached by browsers for a year.
- Dynamic responses (callback and API JSON, CSV exports, HTML) go through Flask-Compress,
  above ``COMPRESS_MIN_SIZE`` only: below that, compression costs more than it saves.
- Flask-Compress makes a new zstd context for every response it compresses whole. Setting
  one up costs more than compressing a dashboard answer (about 70 of a callback's ~900 µs
  in a worker), so each thread keeps one context per level and reuses it.
"""

import gzip
import threading
from typing import Any

import flask_compress.flask_compress as flask_compress_internals
from flask import Flask, Response, request
from flask_compress import Compress
from flask_compress.compat import compression

STATIC_PREFIXES = ("/dash/_dash-component-suites/", "/dash/assets/", "/static/")
STATIC_MIMETYPES = frozenset({"application/javascript", "text/javascript", "text/css"})
ONE_YEAR_S = 365 * 24 * 3600

#: Flask-Compress settings for dynamic responses; static files are handled here instead.
COMPRESS_DEFAULTS: dict[str, Any] = {
    "COMPRESS_MIMETYPES": ["application/json", "text/html", "text/csv"],
    "COMPRESS_MIN_SIZE": 2048,
    # zstd first: at level 3 it compresses a 100 KB figure in well under a millisecond,
    # where brotli 4 took about 3 ms; gzip for clients without zstd.
    "COMPRESS_ALGORITHM": ["zstd", "br", "gzip"],
    "COMPRESS_ZSTD_LEVEL": 3,
    "COMPRESS_BR_LEVEL": 4,
    "COMPRESS_LEVEL": 5,
}

compress = Compress()


class StaticGzip:
    """Per-worker memory of gzipped static files, keyed by their versioned URL."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}

    def init_app(self, app: Flask) -> None:
        app.after_request(self.after_request)

    def after_request(self, response: Response) -> Response:
        if (
            request.method != "GET"
            or response.status_code != 200
            or not request.path.startswith(STATIC_PREFIXES)
        ):
            return response
        if request.query_string or "/_dash-component-suites/" in request.path:
            # Versioned URLs: a new release or file changes the URL, never the content.
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR_S
        if (
            response.mimetype not in STATIC_MIMETYPES
            or "Content-Encoding" in response.headers
            or "gzip" not in request.headers.get("Accept-Encoding", "")
        ):
            return response
        key = request.full_path
        body = self.bodies.get(key)
        if body is None:
            response.direct_passthrough = False
            body = gzip.compress(response.get_data(), compresslevel=9, mtime=0)
            self.bodies[key] = body
        response.direct_passthrough = False
        response.set_data(body)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response


static_gzip = StaticGzip()

_compress_data = flask_compress_internals._compress_data
_zstd_contexts = threading.local()


def zstd_compressor(level: int) -> Any:
    """This thread's zstd context at ``level``; a context compresses one request at a time."""
    contexts: dict[int, Any] = _zstd_contexts.__dict__.setdefault("by_level", {})
    if level not in contexts:
        contexts[level] = compression.zstd.ZstdCompressor(level=level)
    return contexts[level]


def compress_reusing_zstd_context(app: Flask, data: bytes, algorithm: str) -> bytes:
    """Flask-Compress's whole-body compression, with zstd on a reused context.

    Each call ends its frame, so every response is a complete zstd frame on its own.
    """
    if algorithm != "zstd":
        return _compress_data(app, data, algorithm)
    level = app.config["COMPRESS_ZSTD_LEVEL"]
    compressor = zstd_compressor(level)
    try:
        return compressor.compress(data, mode=compressor.FLUSH_FRAME)  # type: ignore[no-any-return]
    except BaseException:
        del _zstd_contexts.by_level[level]  # a frame left half-written must not be continued
        raise


def init_compression(app: Flask) -> None:
    """Compress this app's responses: static files once per worker, dynamic ones on the fly."""
    for key, value in COMPRESS_DEFAULTS.items():
        app.config.setdefault(key, value)
    compress.init_app(app)
    # Flask-Compress 1.x calls this module function for each whole body it compresses.
    flask_compress_internals._compress_data = compress_reusing_zstd_context
    # Registered after Flask-Compress, so it runs before it and claims static files.
    static_gzip.init_app(app)
