"""HTTP bindings of the protocol endpoints: parse the request, call the endpoint
module, serialise the answer. Every JSON answer carries ``Cache-Control: no-store``."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from quart import Blueprint, Response, g, jsonify, redirect, render_template, request

from portico.http import metrics, services
from portico.protocol import authorize as authorize_flow
from portico.protocol.authlib_bridge import build_request
from portico.protocol.authorize.context import AuthorizeContext
from portico.protocol.authorize.interaction import PASSWORD_CHANGE, SELECT_ACCOUNT
from portico.protocol.authorize.respond import FormPost, RedirectTo
from portico.protocol.discovery import (
    ENDPOINTS,
    authorization_server_metadata,
    openid_configuration,
)
from portico.protocol.errors import InvalidRequest, OAuthError
from portico.protocol.params import parse
from portico.protocol.userinfo import bearer_token, userinfo

bp = Blueprint("protocol", __name__)
SESSION_COOKIE = "portico_session"
INTERACTION_PATHS = {
    "login": "/login",
    SELECT_ACCOUNT: "/login",
    "consent": "/consent",
    PASSWORD_CHANGE: "/account/password/change-required",
}


def json_response(
    body: dict[str, Any], status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    """JSON with the caching rules of RFC 6749 §5.1."""
    response = jsonify(body)
    response.status_code = status
    for name, value in headers or []:
        if name.lower() not in ("content-type",):
            response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def oauth_error_response(err: OAuthError, *, bearer: bool = False) -> Response:
    """An OAuth error as JSON; bearer errors also get ``WWW-Authenticate`` (RFC 6750 §3)."""
    response = json_response(err.as_dict(), err.status)
    if bearer:
        response.headers["WWW-Authenticate"] = (
            f'Bearer error="{err.error}", error_description="{err.description}"'
        )
    return response


def _public_json(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/.well-known/openid-configuration")
async def discovery() -> Response:
    svc = services()
    return _public_json(openid_configuration(svc.settings, svc.bridge.server))


@bp.get("/.well-known/oauth-authorization-server")
async def oauth_metadata() -> Response:
    svc = services()
    return _public_json(authorization_server_metadata(svc.settings, svc.bridge.server))


@bp.get(ENDPOINTS["jwks_uri"])
async def jwks() -> Response:
    keys = await services().keys.load()
    response = jsonify(keys.jwks)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


async def _deliver(outcome: authorize_flow.Outcome) -> Response:
    if isinstance(outcome, authorize_flow.GoTo):
        query = {"ticket": outcome.ticket}
        if outcome.step == SELECT_ACCOUNT:
            query["select"] = "1"
        target = f"{INTERACTION_PATHS[outcome.step]}?{urlencode(query)}"
        response = redirect(target, 303)
    elif isinstance(outcome, FormPost):
        g.csp_nonce = secrets.token_urlsafe(16)
        html = await render_template(
            "form_post.html", action=outcome.action, params=outcome.params, nonce=g.csp_nonce
        )
        response = Response(html, content_type="text/html; charset=utf-8")
    else:
        assert isinstance(outcome, RedirectTo)
        response = redirect(outcome.location, 303 if request.method == "POST" else 302)
    response.headers["Cache-Control"] = "no-store"
    return response


def _authorize_context() -> AuthorizeContext:
    svc = services()
    return AuthorizeContext(svc.settings, svc.db, None, svc.fetcher)  # type: ignore[arg-type]


@bp.route(ENDPOINTS["authorization_endpoint"], methods=["GET", "POST"])
async def authorize() -> Response:
    svc = services()
    ctx = _authorize_context()
    ctx.keys = await svc.keys.load()
    if request.method == "POST":
        items = list((await request.form).items(multi=True))
    else:
        items = list(request.args.items(multi=True))
    params = parse(items, long_limit=svc.settings.request_object_max_bytes)
    outcome = await authorize_flow.authorize(params, ctx, request.cookies.get(SESSION_COOKIE))
    return await _deliver(outcome)


@bp.get("/authorize/resume")
async def authorize_resume() -> Response:
    svc = services()
    ctx = _authorize_context()
    ctx.keys = await svc.keys.load()
    ticket = request.args.get("ticket", "")
    outcome = await authorize_flow.resume(ticket, ctx, request.cookies.get(SESSION_COOKIE))
    return await _deliver(outcome)


async def _bridge(endpoint: str) -> Response:
    svc = services()
    form = await request.form
    items = list(form.items(multi=True))
    names = [name for name, _ in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        return oauth_error_response(
            InvalidRequest(f"The {repeated[0]} parameter was included more than once.")
        )
    headers = {k: v for k, v in request.headers.items()}
    oauth_request = build_request("POST", svc.settings.url(request.path), items, headers)
    result = await svc.bridge.handle(endpoint, oauth_request, request.remote_addr)
    return json_response(result.body, result.status, result.headers)


@bp.post(ENDPOINTS["token_endpoint"])
async def token() -> Response:
    await services().limiter.hit("token", request.remote_addr or "-")
    response = await _bridge("token")
    if response.status_code == 200:
        metrics.token_issued((await request.form).get("grant_type"))
    return response


@bp.post(ENDPOINTS["introspection_endpoint"])
async def introspect() -> Response:
    return await _bridge("introspection")


@bp.post(ENDPOINTS["revocation_endpoint"])
async def revoke() -> Response:
    return await _bridge("revocation")


@bp.route(ENDPOINTS["userinfo_endpoint"], methods=["GET", "POST"])
async def userinfo_endpoint() -> Response:
    svc = services()
    form_token = None
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        form_token = (await request.form).get("access_token") or None
    try:
        token = bearer_token(request.headers.get("Authorization"), form_token)
        if token is None:
            response = json_response(
                {"error": "invalid_token", "error_description": "No access token was sent."}, 401
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="portico"'
            return response
        result = await userinfo(token, settings=svc.settings, db=svc.db, keys=await svc.keys.load())
    except OAuthError as err:
        # RFC 6750 §3: every refused resource request carries a Bearer challenge.
        return oauth_error_response(err, bearer=True)
    if result.jwt:
        response = Response(result.jwt, content_type="application/jwt")
        response.headers["Cache-Control"] = "no-store"
        return response
    return json_response(result.claims)
