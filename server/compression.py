"""Response compression, and how long browsers may keep static files.

- Dynamic responses (callback and API JSON, CSV exports, HTML) go through Flask-Compress,
  configured by its documented settings only, above ``COMPRESS_MIN_SIZE``: below that,
  compression costs more than it saves.
- Static JavaScript and CSS (Dash's component suites and assets, ``/static/``) are gzipped
  the first time a worker serves them and kept, one body per file: compressing plotly.js
  on every request would cost a worker far more than sending it. A proxy in front can do
  this job instead (README, "Running in production").
- A static URL whose fingerprint matches its file is cached by browsers for a year. Dash
  fingerprints asset URLs with ``?m=<mtime>``; ``fingerprint_static_urls`` does the same for
  ``url_for("static", ...)``; Dash itself sets the caching of its component suites.
"""

import gzip
from pathlib import Path
from typing import Any

from dash.fingerprint import check_fingerprint
from flask import Flask, Response, current_app, request
from flask_compress import Compress

COMPONENT_SUITES = "/dash/_dash-component-suites/"
STATIC_MIMETYPES = frozenset({"application/javascript", "text/javascript", "text/css"})
FINGERPRINTED_CACHE_CONTROL = "public, max-age=31536000, immutable"

#: Flask-Compress settings for dynamic responses; static files are handled here instead.
COMPRESS_DEFAULTS: dict[str, Any] = {
    "COMPRESS_MIMETYPES": ["application/json", "text/html", "text/csv"],
    "COMPRESS_MIN_SIZE": 2048,
    # zstd first, the cheapest for what it saves (bench/optimisations.md); gzip for the rest.
    "COMPRESS_ALGORITHM": ["zstd", "br", "gzip"],
    "COMPRESS_ZSTD_LEVEL": 3,
    "COMPRESS_BR_LEVEL": 4,
    "COMPRESS_LEVEL": 5,
    # Flask-Compress tags a compressed answer's ETag with its coding ("...:zstd") and judges
    # If-None-Match itself; for a streamed answer, such as the CSV export, only on these.
    "COMPRESS_STREAMING_ENDPOINT_CONDITIONAL": ["static", "api.list_vehicles"],
}

compress = Compress()

#: Gzipped static files by URL path (never the query string, which only versions a file),
#: each with the ETag of the file it was made from, so an edited file is compressed again.
gzipped_static: dict[str, tuple[str | None, bytes]] = {}


def file_fingerprint(path: Path) -> str:
    """What ``?m=`` carries for a file: its modification time, written as Dash writes it."""
    return str(path.stat().st_mtime)


def fingerprint_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    """Add ``?m=<mtime>`` to ``url_for("static", filename=...)`` for a file that exists."""
    if endpoint == "static" and "filename" in values:
        path = Path(current_app.static_folder or "", values["filename"])
        if path.is_file():
            values.setdefault("m", file_fingerprint(path))


def served_static_file() -> Path | None:
    """The file this request's Flask static route serves (``/static/``, Dash's assets)."""
    if request.endpoint is None or request.view_args is None:
        return None
    owner_name, _dot, view = request.endpoint.rpartition(".")
    if view != "static":
        return None
    owner = current_app.blueprints[owner_name] if owner_name else current_app
    return Path(owner.static_folder or "", request.view_args["filename"])


def compress_static_files(response: Response) -> Response:
    """Cache truly fingerprinted static files for a year; gzip JS and CSS once per file."""
    if request.method != "GET" or response.status_code != 200:
        return response
    static_file = served_static_file()
    if static_file is not None:
        if request.args.get("m") == file_fingerprint(static_file):
            response.headers["Cache-Control"] = FINGERPRINTED_CACHE_CONTROL
        key = request.path
    elif request.path.startswith(COMPONENT_SUITES):
        key, _fingerprinted = check_fingerprint(request.path)  # Dash's is in the file name
    else:
        return response
    if (
        response.mimetype not in STATIC_MIMETYPES
        or "Content-Encoding" in response.headers
        or not request.accept_encodings["gzip"]
    ):
        return response
    response.direct_passthrough = False
    etag = response.headers.get("ETag")
    cached = gzipped_static.get(key)
    if cached is None or cached[0] != etag:
        cached = (etag, gzip.compress(response.get_data(), compresslevel=9, mtime=0))
        gzipped_static[key] = cached
    response.set_data(cached[1])
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def init_compression(app: Flask) -> None:
    """Compress this app's responses: static files once per worker, dynamic ones on the fly."""
    for key, value in COMPRESS_DEFAULTS.items():
        app.config.setdefault(key, value)
    compress.init_app(app)
    # Registered after Flask-Compress, so it runs before it and claims static files.
    app.after_request(compress_static_files)
    app.url_defaults(fingerprint_static_urls)
