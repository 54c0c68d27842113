"""``create_app(settings)``: the Quart application, built fresh for every caller.

Registers the protocol and hosted-page blueprints, the per-surface error
rendering and the cross-cutting middleware. There is deliberately no
module-level app: tests and the CLI each build their own.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from pathlib import Path

from quart import Quart, Response, g, request
from quart_schema import QuartSchema, RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from portico import __version__
from portico.api import api_blueprints
from portico.api.openapi import ApiDocument
from portico.errors import PorticoError, RateLimited
from portico.http import (
    access_log,
    cors,
    documents,
    health,
    input_guard,
    metrics,
    security_headers,
)
from portico.http.disconnect import FinishOnDisconnect
from portico.policy import install_policy
from portico.protocol.errors import OAuthError, ServerError
from portico.protocol.first_party import ensure_system_client
from portico.services import Services, build_services
from portico.settings import Settings, load_settings

log = logging.getLogger("portico")
ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
JSON_PATHS = ("/token", "/userinfo", "/introspect", "/revoke", "/jwks", "/.well-known/",
              "/device_authorization")


def _wants_json() -> bool:
    return request.path.startswith(JSON_PATHS) or request.path.startswith("/api/")


def create_app(settings: Settings | None = None, services: Services | None = None) -> Quart:
    """Build the application for ``settings`` (loaded from the environment if omitted)."""
    settings = settings or load_settings()
    app = Quart(
        "portico",
        template_folder=str(settings.templates_dir or TEMPLATES),
        static_folder=str(STATIC),
        static_url_path="/static",
    )
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    app.config["MAX_FORM_MEMORY_SIZE"] = 128 * 1024
    app.config["MAX_FORM_PARTS"] = 200
    app.jinja_env.autoescape = True
    # base.html shows a "no authentication" banner on every hosted page in noop mode.
    app.jinja_env.globals["noop_mode"] = settings.auth_mode == "noop"
    logging.getLogger("portico").setLevel(settings.log_level.upper())
    svc = services or build_services(settings)
    app.extensions["portico"] = svc

    from portico.protocol.routes import bp as protocol_bp
    from portico.web import (  # noqa: F401 - routes
        account,
        account_keys,
        account_links,
        consent,
        device,
        forced_change,
        home,
        invite,
        login,
        logout,
        recover,
        register,
        setup,
    )
    from portico.web.blueprint import bp as web_bp
    from portico.web.errors import error_page

    app.register_blueprint(protocol_bp)
    app.register_blueprint(web_bp)
    QuartSchema(
        app,
        openapi_path="/api/v1/openapi.json",
        openapi_provider_class=ApiDocument,
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path=None,
        info={
            "title": "Portico API",
            "version": __version__,
            "summary": "First-party auth and admin API of a Portico OpenID Connect provider.",
            "description": (
                "Sign in with `POST /api/v1/auth/login` and send the `access_token` as "
                "`Authorization: Bearer …` (a personal API key `pk_…` works the same way; "
                "browsers may use the session cookie instead, and a route that documents it "
                "takes `?token=` or `?api_key=`). Refresh tokens rotate through "
                "`POST /api/v1/auth/refresh`. Every error is an RFC 9457 problem "
                "(`application/problem+json`: `type`, `title`, `status`, `detail`, and "
                "`errors` naming each field at fault). Admin routes need the admin role and "
                "see only the organizations the caller administers."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        servers=[{"url": settings.issuer.rstrip("/"), "description": "This Portico instance"}],
        tags=[
            {"name": "auth", "description": "Sign-in, tokens, sessions, API keys, passwords."},
            {"name": "admin", "description": "Users, organizations, clients, keys, audit log "
                                             "(admin role required)."},
            {"name": "external-auth", "description": "Signing in through an upstream identity "
                                                     "provider."},
        ],
        # quart-schema 0.25 takes no "description" on a security scheme (its base class is
        # not a dataclass): info.description says what each credential is.
        security_schemes={
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in_": "cookie", "name": "portico_session"},
            "token_query": {"type": "apiKey", "in_": "query", "name": "token"},
            "api_key_query": {"type": "apiKey", "in_": "query", "name": "api_key"},
        },
    )
    for blueprint in api_blueprints():
        app.register_blueprint(blueprint)
    # Probes and metrics: GET only, no CSRF, no rate limit (the limiter is opt-in per route).
    app.register_blueprint(health.bp)
    metrics.install(app, serve_endpoint=settings.metrics_enabled)
    access_log.install()

    @app.before_request
    async def _start() -> Response | None:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        await install_policy(svc)  # admin-set policy, re-read at most every second
        await input_guard.reject_unstorable_input()
        return await cors.preflight()

    app.after_request(cors.add_cors_headers)
    app.after_request(security_headers.add_security_headers)

    @app.errorhandler(RateLimited)
    async def _rate_limited(err: RateLimited) -> Response:
        if request.path.startswith("/api/"):
            from portico.api.problems import problem_response

            response = problem_response(429, "Too many requests", err.message)
        elif _wants_json():
            from portico.protocol.routes import json_response

            response = json_response(
                {"error": "invalid_request", "error_description": err.message}, 429
            )
        else:
            from portico.web.blueprint import page

            response = await page("error.html", status=429, title="Too many attempts",
                                  message=err.message)
        response.headers["Retry-After"] = str(err.retry_after)
        return response

    @app.errorhandler(RequestSchemaValidationError)
    async def _schema_error(err: RequestSchemaValidationError) -> Response:
        from portico.api.problems import problem_response, schema_errors

        return problem_response(400, "The request is not valid", kind="validation",
                                errors=schema_errors(err))

    @app.errorhandler(PorticoError)
    async def _portico_error(err: PorticoError) -> Response:
        if err.detail:
            log.info("request %s refused: %s", g.get("request_id"), err.detail)
        if request.path.startswith("/api/"):
            from portico.api.problems import problem_for

            return problem_for(err)
        if _wants_json():
            from portico.protocol.routes import oauth_error_response

            if isinstance(err, OAuthError):
                return oauth_error_response(err)
            from portico.protocol.errors import InvalidRequest

            return oauth_error_response(InvalidRequest(err.message))
        return await error_page(err)

    @app.errorhandler(HTTPException)
    async def _http_error(err: HTTPException) -> Response:
        status = err.code or 500
        if request.path.startswith("/api/"):
            from portico.api.problems import problem_response

            allow = {k: v for k, v in err.get_headers() if k == "Allow"}
            return problem_response(status, err.name, err.description, headers=allow)
        if _wants_json():
            from portico.protocol.routes import json_response

            code = "invalid_request" if status < 500 else "server_error"
            return json_response({"error": code, "error_description": err.name}, status)
        from portico.web.blueprint import page

        return await page(
            "error.html", status=status, title=err.name, message=err.description or err.name
        )

    @app.errorhandler(Exception)
    async def _unexpected(err: Exception) -> Response:
        log.exception("request %s failed", g.get("request_id"))
        if request.path.startswith("/api/"):
            from portico.api.problems import problem_response

            return problem_response(500, "Internal error",
                                    f"The error was logged as {g.get('request_id')}.")
        if _wants_json():
            from portico.protocol.routes import json_response

            return json_response(ServerError().as_dict(), 500)
        from portico.web.blueprint import page

        return await page(
            "error.html",
            status=500,
            title="Something went wrong",
            message=f"The error was logged as {g.get('request_id')}.",
        )

    # A client hanging up must not cancel a handler mid-transaction (http/disconnect.py).
    app.asgi_app = FinishOnDisconnect(app.asgi_app)  # type: ignore[method-assign]
    # Discovery and JWKS: precomputed, with ETags, answered before Quart (http/documents.py).
    documents.install(app, svc)
    if settings.trusted_proxy_hops:
        from hypercorn.middleware import ProxyFixMiddleware

        # Honour X-Forwarded-For/-Proto only from the configured number of proxies.
        app.asgi_app = ProxyFixMiddleware(  # type: ignore[method-assign]
            app.asgi_app, mode="legacy", trusted_hops=settings.trusted_proxy_hops
        )

    @app.while_serving
    async def _lifespan():  # type: ignore[no-untyped-def]  # noqa: ANN202
        if settings.is_sqlite:
            from portico.storage.migrate import upgrade

            await upgrade(svc.db)
        await svc.keys.ensure_keys()
        async with svc.db.session() as session:
            await ensure_system_client(session)
        from portico.accounts import noop
        from portico.storage import maintenance

        await noop.bootstrap(settings, svc.db)
        cleaner = maintenance.start_background(
            svc.db, settings.maintenance_interval,
            maintenance.Retention(invites=timedelta(seconds=settings.invite_ttl)))
        from portico.protocol.logout.worker import start_worker

        logout_worker = start_worker(app, svc)
        yield
        await logout_worker.stop()
        await maintenance.stop_background(cleaner)
        await svc.fetcher.aclose()
        await svc.db.dispose()

    return app
