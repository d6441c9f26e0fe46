"""The JSON API under ``/api/v1``, built with flask-smorest on the plain Flask app.

``init_api(app)`` configures the OpenAPI document (``/api/v1/openapi.json``), the Swagger UI
page (``/api/v1/docs``, assets served from the installed ``swagger-ui-bundle`` package, no
CDN) and registers the API blueprint. With ``FUELDASH_PRIVATE`` every read also needs a
signed-in session or a bearer token, and the document says so on every GET operation; the
docs page and the spec stay open.
"""

import http

from apispec import APISpec, BasePlugin
from flask import Blueprint, Flask, Response, current_app, request
from flask_login import current_user
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from swagger_ui_bundle import swagger_ui_path

from server.api.problems import PROBLEM_CONTENT_TYPE
from server.api.schemas import ProblemSchema

API_URL_PREFIX = "/api/v1"
READ_METHODS = frozenset({"GET", "HEAD"})
#: The security scheme of a signed-in browser session (private mode's reads accept it).
SESSION_COOKIE = "signInSession"
DOCS_ASSETS_PATH = f"{API_URL_PREFIX}/docs/assets"


class ProblemApi(Api):
    """An ``Api`` whose documented errors are problem details.

    Error handling itself is left to the API blueprint and ``server.errors``, so the app's
    HTML error pages for non-API URLs stay as they are.
    """

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """Do not replace the app-wide HTTPException handler (see ``server.errors``)."""

    def _register_responses(self) -> None:
        """Document every error status, and the default error, as application/problem+json."""
        for status in http.HTTPStatus:
            response: dict[str, object] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any other error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class ReadsNeedCredentials(BasePlugin):
    """With FUELDASH_PRIVATE: every GET operation documents that it needs a bearer token or
    a signed-in session, and its 401 answer. Writes already name the bearer token."""

    def __init__(self, session_cookie: str) -> None:
        self.session_cookie = session_cookie

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        spec.components.security_scheme(
            SESSION_COOKIE,
            {
                "type": "apiKey",
                "in": "cookie",
                "name": self.session_cookie,
                "description": "The session cookie of a sign-in at /login.",
            },
        )

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: object
    ) -> None:
        from server.api.writes import BEARER

        read = (operations or {}).get("get")
        if read is not None:
            read.setdefault("security", [{BEARER: []}, {SESSION_COOKIE: []}])
            read.setdefault("responses", {}).setdefault("401", http.HTTPStatus(401).name)


def _private_api_request() -> bool:
    from server.api.views import blp

    return bool(current_app.config["FUELDASH_PRIVATE"]) and request.blueprint == blp.name


def require_sign_in_for_reads() -> Response | None:
    """With FUELDASH_PRIVATE, a read needs a signed-in session or a valid bearer token.

    Writes check their token in ``server.api.writes``; the docs and the spec are served by
    another blueprint, so they stay open.
    """
    if not _private_api_request() or request.method not in READ_METHODS:
        return None
    if current_user.is_authenticated:
        return None
    from server.api.writes import check_bearer_token

    return check_bearer_token("Sign in at /login or send 'Authorization: Bearer <token>'.")


def private_answers(response: Response) -> Response:
    """With FUELDASH_PRIVATE, answers depend on who asks: no shared cache may keep them."""
    if _private_api_request():
        response.cache_control.private = True
    return response


def init_api(app: Flask) -> ProblemApi:
    """Configure the OpenAPI document and docs page, and register ``/api/v1``."""
    from server.api import compare  # noqa: F401  (adds GET /compare to blp)
    from server.api.views import blp
    from server.api.writes import document_bearer_auth  # adds the write routes to blp

    app.config.setdefault("API_TITLE", "fueldash API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_URL_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", f"{DOCS_ASSETS_PATH}/")
    private = [ReadsNeedCredentials(app.config["SESSION_COOKIE_NAME"])]
    api = ProblemApi(
        app,
        spec_kwargs={
            "info": {
                "description": "Vehicle fuel-efficiency data. Errors are RFC 9457 problem "
                "details; responses carry an ETag tied to the store's data version."
            },
            "extra_plugins": private if app.config["FUELDASH_PRIVATE"] else [],
        },
    )
    document_bearer_auth(api)
    # App hooks limited to blp's views: blp is a module global, set up once per process.
    app.before_request(require_sign_in_for_reads)
    app.after_request(private_answers)
    api.register_blueprint(blp)
    app.register_blueprint(
        Blueprint(
            "api_docs_assets",
            __name__,
            static_folder=str(swagger_ui_path),
            static_url_path=DOCS_ASSETS_PATH,
        )
    )
    return api
