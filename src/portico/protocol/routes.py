"""HTTP bindings of the protocol endpoints: parse the request, call the endpoint
module, serialise the answer. Every JSON answer carries ``Cache-Control: no-store``."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from quart import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
)

from portico.http import metrics, services
from portico.protocol import authorize as authorize_flow
from portico.protocol import dpop, par
from portico.protocol.authlib_bridge import build_request
from portico.protocol.authlib_bridge.binding import MULTI_VALUED
from portico.protocol.authlib_bridge.pushed import PAR_ENDPOINT
from portico.protocol.authorize.context import AuthorizeContext
from portico.protocol.authorize.interaction import PASSWORD_CHANGE, SELECT_ACCOUNT
from portico.protocol.authorize.respond import FormPost, RedirectTo
from portico.protocol.discovery import ENDPOINTS
from portico.protocol.encryption import seal_token_response
from portico.protocol.errors import InvalidRequest, OAuthError
from portico.protocol.params import parse
from portico.protocol.resource_metadata import WELL_KNOWN, protected_resource_metadata
from portico.protocol.resources import USERINFO_PATH
from portico.protocol.userinfo import Presentation, challenges, presented_token, userinfo

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


async def _published(path: str) -> Response:
    """A precomputed document with its ETag; 304 when the client has it (RFC 9110 §13.1.2).
    GET and HEAD without a query string never get here: ``portico.http.documents``
    answers them before Quart, from the same cache."""
    from portico.http.documents import documents_of, headers_for, not_modified

    doc = await documents_of(current_app).get(path)
    status = 304 if not_modified(request.headers.get("If-None-Match"), doc.etag) else 200
    response = Response(doc.body if status == 200 else b"", status=status,
                        content_type="application/json")
    for name, value in headers_for(doc, None, status):
        if name not in ("Content-Type", "Content-Length"):
            response.headers[name] = value
    return response


@bp.get("/.well-known/openid-configuration")
async def discovery() -> Response:
    return await _published("/.well-known/openid-configuration")


@bp.get("/.well-known/oauth-authorization-server")
async def oauth_metadata() -> Response:
    return await _published("/.well-known/oauth-authorization-server")


@bp.get(ENDPOINTS["jwks_uri"])
async def jwks() -> Response:
    return await _published(ENDPOINTS["jwks_uri"])


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


@bp.post(ENDPOINTS["pushed_authorization_request_endpoint"])
async def pushed_authorization_request() -> Response:
    """RFC 9126 §2: authenticate the client as the token endpoint does, validate the
    request as /authorize does, answer 201 with its ``request_uri``."""
    svc = services()
    await svc.limiter.hit("token", request.remote_addr or "-")
    form = await request.form
    items = list(form.items(multi=True))
    headers = {k: v for k, v in request.headers.items()}
    oauth_request = build_request("POST", svc.settings.url(request.path), items, headers)
    result = await svc.bridge.handle(PAR_ENDPOINT, oauth_request, request.remote_addr)
    if result.status != 200:
        return json_response(result.body, result.status, result.headers)
    ctx = _authorize_context()
    ctx.keys = await svc.keys.load()
    try:
        pushed = await par.push(items, result.body["client_id"], ctx,
                                dpop_values=request.headers.getlist("DPoP"),
                                url=svc.settings.url(request.path))
    except OAuthError as err:
        response = oauth_error_response(err)
        if isinstance(err, dpop.UseDpopNonce):
            response.headers[dpop.NONCE_HEADER] = err.nonce
        return response
    return json_response({"request_uri": pushed.request_uri, "expires_in": pushed.expires_in}, 201)


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
    repeated = sorted({n for n in names if names.count(n) > 1} - MULTI_VALUED)
    if repeated:
        return oauth_error_response(
            InvalidRequest(f"The {repeated[0]} parameter was included more than once.")
        )
    headers = {k: v for k, v in request.headers.items()}
    oauth_request = build_request("POST", svc.settings.url(request.path), items, headers)
    oauth_request.header_lists = {"dpop": request.headers.getlist("DPoP")}  # RFC 9449 §4.3
    result = await svc.bridge.handle(endpoint, oauth_request, request.remote_addr)
    if endpoint == "token" and result.status == 200:
        metrics.token_issued(form.get("grant_type"))
        # OIDC Core §10.2: encrypted ID tokens, for the clients that registered them.
        await seal_token_response(result.body, result.id_token_client, svc.fetcher.jwks)
    return json_response(result.body, result.status, result.headers)


@bp.post(ENDPOINTS["token_endpoint"])
async def token() -> Response:
    await services().limiter.hit("token", request.remote_addr or "-")
    return await _bridge("token")


@bp.post(ENDPOINTS["device_authorization_endpoint"])
async def device_authorization() -> Response:
    """RFC 8628 §3.1, rate-limited like the token endpoint it feeds."""
    await services().limiter.hit("token", request.remote_addr or "-")
    return await _bridge("device_authorization")


@bp.post(ENDPOINTS["introspection_endpoint"])
async def introspect() -> Response:
    return await _bridge("introspection")


@bp.post(ENDPOINTS["revocation_endpoint"])
async def revoke() -> Response:
    return await _bridge("revocation")


def _resource_refusal(err: OAuthError | None, scheme: str | None) -> Response:
    """RFC 6750 §3 / RFC 9449 §7.1: a refused resource request, with its challenges."""
    status, headers = challenges(err, scheme, services().settings)
    body = err.as_dict() if err else {
        "error": "invalid_token", "error_description": "No access token was sent."}
    response = json_response(body, status)
    for name, value in headers:
        response.headers.add(name, value)
    return response


@bp.get(WELL_KNOWN)
@bp.get(WELL_KNOWN + USERINFO_PATH)
async def protected_resource() -> Response:
    """RFC 9728 §3: metadata of Portico's own protected resources."""
    path = request.path.removeprefix(WELL_KNOWN)
    response = jsonify(protected_resource_metadata(services().settings, path))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route(ENDPOINTS["userinfo_endpoint"], methods=["GET", "POST"])
async def userinfo_endpoint() -> Response:
    svc = services()
    form_token = None
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        form_token = (await request.form).get("access_token") or None
    scheme = None
    try:
        presented = presented_token(request.headers.get("Authorization"), form_token)
        if presented is None:
            return _resource_refusal(None, None)
        scheme, token = presented
        shown = Presentation(scheme, request.headers.getlist("DPoP"), request.method,
                             svc.settings.url(request.path))
        result = await userinfo(token, settings=svc.settings, db=svc.db, keys=await svc.keys.load(),
                                fetch_jwks=svc.fetcher.jwks, presentation=shown)
    except OAuthError as err:
        return _resource_refusal(err, scheme)
    if result.jwt:
        response = Response(result.jwt, content_type="application/jwt")
        response.headers["Cache-Control"] = "no-store"
        return response
    return json_response(result.claims)


# Dynamic client registration (RFC 7591/7592) adds its routes to ``bp``.
from portico.protocol.registration import http as _registration_http  # noqa: E402,F401
