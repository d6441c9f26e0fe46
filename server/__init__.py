"""The fueldash Flask application factory.

``create_app`` reads defaults, then the environment, then ``test_config``; binds the
extensions; registers the blueprints and CLI; and mounts the Dash app at ``/dash/``.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from dashapp.cache import init_cache
from models.db import db
from server.auth.throttle import init_login_throttle
from server.compression import init_compression
from server.config import (
    check_config,
    default_config,
    engine_defaults,
    environment_config,
    secure_cookies_default,
)
from server.extensions import bootstrap, login_manager, migrate
from server.replica import init_read_replica
from server.security import responses_ignore_cookies

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: The admin import's upload route, whose bodies are bounded by IMPORT_MAX_BYTES.
UPLOAD_ENDPOINTS = frozenset({"admin.import_file"})
#: Room for the multipart framing and form fields around an upload of IMPORT_MAX_BYTES.
UPLOAD_OVERHEAD = 64 * 1024


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build a configured fueldash app."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(default_config(app.instance_path))
    app.config.from_mapping(environment_config(app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)
    secure_cookies_default(app.config)
    engine_defaults(app.config)
    check_config(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    trust_proxies(app)
    register_request_limits(app)  # first, so no other hook reads a body past its limit
    register_extensions(app)
    register_blueprints(app)
    register_cli(app)
    register_dashapps(app)
    bootstrap_admin(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Take the client address, scheme and host from the last TRUSTED_PROXIES proxies.

    With the default 0 the X-Forwarded-* headers are ignored, since any client could
    send them: the login throttle would count forged addresses.
    """
    if proxies := app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )


def register_request_limits(app: Flask) -> None:
    """Bound every request body: uploads by IMPORT_MAX_BYTES, all else by REQUEST_MAX_BYTES.

    A body over its limit is a 413 before anything reads it, whoever sends it; a body
    without a Content-Length (chunked) is cut off at the limit as it is read.
    """

    @app.before_request
    def limit_request_body() -> None:
        if request.endpoint in UPLOAD_ENDPOINTS:
            limit = app.config["IMPORT_MAX_BYTES"] + UPLOAD_OVERHEAD
        else:
            limit = app.config["REQUEST_MAX_BYTES"]
        request.max_content_length = limit  # per request, as Flask 3.1 allows
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()


def register_extensions(app: Flask) -> None:
    """Bind the shared extension objects to this app."""
    import models  # noqa: F401  (the tables must be known before migrations run)

    db.init_app(app)
    init_read_replica(app)
    init_cache(app)
    init_compression(app)
    migrate.init_app(
        app, db, directory=str(MIGRATIONS_DIR), compare_type=True, render_as_batch=True
    )
    # After-request hooks run in reverse order: this one runs after Flask-Login's.
    app.after_request(responses_ignore_cookies)
    login_manager.init_app(app)
    init_login_throttle(app)
    bootstrap.init_app(app)
    app.config["BOOTSTRAP_SERVE_LOCAL"] = True  # never a CDN


def register_blueprints(app: Flask) -> None:
    """Attach the Flask surfaces."""
    from server.admin import transfer  # noqa: F401  (its routes join the admin blueprint)
    from server.admin.views import bp as admin_bp
    from server.api import init_api
    from server.auth.access import register_access
    from server.auth.views import bp as auth_bp
    from server.compare.views import bp as compare_bp
    from server.errors import register_error_handlers
    from server.main.views import bp as main_bp
    from server.security import register_security

    app.register_blueprint(main_bp)
    app.register_blueprint(compare_bp)
    init_api(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    register_access(app)  # before Dash's own request hooks, so the gate answers first
    register_security(app)
    register_error_handlers(app)


def register_cli(app: Flask) -> None:
    """Add the ``flask vehicles ...``, ``flask users ...`` and ``flask jobs ...`` commands."""
    from server.auth.cli import users_cli
    from server.cli import vehicles_cli
    from server.jobs import init_jobs

    app.cli.add_command(vehicles_cli)
    app.cli.add_command(users_cli)
    init_jobs(app)  # its settings, and `flask jobs worker|status`


def bootstrap_admin(app: Flask) -> None:
    """Create the ADMIN_USERNAME user at start-up when it is configured and missing."""
    from server.auth.bootstrap import bootstrap_admin as create_configured_admin

    create_configured_admin(app)


def register_dashapps(app: Flask) -> None:
    """Mount the Dash dashboard on this same server at /dash/."""
    from dashapp import init_dashboard

    init_dashboard(app)
