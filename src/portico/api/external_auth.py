"""``/api/v1/external-auth``: signing in through an upstream identity provider.

``start`` persists a flow and sends the browser upstream (302), or answers
``{"authorization_url": …}`` to callers that ask for JSON; ``callback`` is where the
upstream sends the browser back. The callback is a browser page: failures render a
friendly page naming the provider and offering the other ways in, and are audited
with their reason. ``providers`` lists what a login page may show.

A cookie bound to the browser that started a trip (its hash is in the flow row) must
come back with the callback, so a callback URL cannot sign another browser in.
"""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import BaseModel
from quart import Blueprint, Response, current_app, jsonify, redirect, request
from quart_schema import document_response, hide, tag_blueprint, validate_response

from portico.api.problems import problem_response
from portico.api.schemas import Problem
from portico.errors import NotFound
from portico.federation.base import LoginHints, UpstreamError
from portico.federation.cache import ConnectorCache
from portico.federation.flow import Completed, FlowContext, Trip, begin, complete
from portico.federation.linking import LinkRequired
from portico.federation.providers import enabled_providers, public_view
from portico.federation.signin import link_identity, record_failure, sign_in
from portico.http import services
from portico.http.rate_limit import limiter
from portico.protocol.authorize.request import AuthorizationRequest
from portico.web.blueprint import local_path, page
from portico.web.interaction import load_ticket, resume_url
from portico.web.session_cookie import current_login, forget_login, set_session_cookie

bp = Blueprint("api_external_auth", __name__, url_prefix="/api/v1/external-auth")
tag_blueprint(bp, ["external-auth"])
BINDING_COOKIE = "portico_fed"
COOKIE_PATH = "/api/v1/external-auth/"
EXTENSION = "portico.federation"
# Upstream down, slow or broken is not the caller's fault: 502. Policy refusals: 403.
STATUS = {"unreachable": 502, "timeout": 504, "upstream_http_error": 502,
          "bad_discovery": 502, "issuer_mismatch": 502, "unsupported_alg": 502,
          "internal": 502, "misconfigured": 502, "signup_disabled": 403,
          "link_required": 403, "domain_not_allowed": 403, "account_disabled": 403,
          "identity_taken": 409, "provider_disabled": 404}


class PublicProvider(BaseModel):
    slug: str
    display_name: str
    icon: str | None = None
    kind: str
    start_url: str


class PublicProviders(BaseModel):
    items: list[PublicProvider]


class AuthorizationUrl(BaseModel):
    authorization_url: str


def flow_context() -> FlowContext:
    """This app's flow context; its connector cache lives as long as the app."""
    svc = services()
    cache = current_app.extensions.get(EXTENSION)
    if cache is None:
        cache = current_app.extensions[EXTENSION] = ConnectorCache(
            svc.box, svc.settings.upstream_timeout)
    return FlowContext(svc.db, svc.box, cache, svc.settings.issuer,
                       svc.settings.upstream_flow_ttl)


def browser_binding() -> tuple[str, bool]:
    """This browser's binding value, and whether it is new (and must be set)."""
    value = request.cookies.get(BINDING_COOKIE, "")
    if 32 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(32), True


def set_browser_binding(response: Response, value: str) -> None:
    settings = services().settings
    response.set_cookie(BINDING_COOKIE, value, max_age=settings.upstream_flow_ttl,
                        httponly=True, secure=settings.cookies_secure, samesite="Lax",
                        path=COOKIE_PATH)


def hints_for(req: AuthorizationRequest | None, login_hint: str | None = None) -> LoginHints:
    """Portico's own prompt=login / max_age become a fresh login upstream."""
    if req is None:
        return LoginHints(login_hint=login_hint)
    force = "login" in req.prompt or req.max_age == 0
    return LoginHints(force_login=force, max_age=None if force else req.max_age,
                      login_hint=login_hint or req.login_hint)


async def _start_params() -> dict[str, str]:
    values: dict[str, str] = {k: v for k, v in request.args.items()}
    if request.method == "POST":
        if request.is_json:
            body = await request.get_json(silent=True)
            if isinstance(body, dict):
                values.update({k: v for k, v in body.items() if isinstance(v, str)})
        else:
            values.update({k: v for k, v in (await request.form).items()})
    return {k: v[:2000] for k, v in values.items()}


def _wants_json(params: dict[str, str]) -> bool:
    return params.get("format") == "json" or request.accept_mimetypes.best == "application/json"


@bp.get("/providers")
@validate_response(PublicProviders)
async def providers() -> PublicProviders:
    """The enabled upstream providers: public information only, enough for buttons."""
    rows = await enabled_providers(services().db)
    return PublicProviders(items=[PublicProvider(**public_view(r)) for r in rows])


@bp.route("/<slug>/start", methods=["GET", "POST"])
@hide  # a browser hop (302 or an HTML failure page); documented in docs/federation.md
@document_response(AuthorizationUrl, 200)
@document_response(Problem, 404)
@document_response(Problem, 502)
async def start(slug: str) -> Response:
    """Begin an upstream sign-in: ``ticket`` resumes a pending /authorize request,
    ``return_to`` a local page. Browsers get a 302; ``format=json`` (or ``Accept:
    application/json``) gets ``{"authorization_url": …}``."""
    params = await _start_params()
    as_json = _wants_json(params)
    await limiter().hit("login", request.remote_addr or "-")
    ticket = await load_ticket(params.get("ticket"))
    binding, fresh = browser_binding()
    trip = Trip(binding=binding, pending_id=ticket.pending.id if ticket else None,
                return_to=None if ticket else local_path(params.get("return_to")),
                hints=hints_for(ticket.request if ticket else None,
                                (params.get("login_hint") or "")[:320] or None))
    try:
        url = await begin(flow_context(), slug[:64], trip)
    except UpstreamError as exc:
        await record_failure(services().db, slug, exc.reason, ip=request.remote_addr,
                             user_agent=request.headers.get("User-Agent"), detail=exc.detail)
        if as_json:
            return problem_response(STATUS.get(exc.reason, 400), "Upstream sign-in failed",
                                    exc.message, kind="upstream")
        return await failure_page(slug, exc, ticket.pending.id if ticket else None)
    response = jsonify({"authorization_url": url}) if as_json else redirect(url, 302)
    response.headers["Cache-Control"] = "no-store"
    if fresh:
        set_browser_binding(response, binding)
    return response


@bp.get("/<slug>/callback")
@hide  # the upstream's redirect target, for browsers only
async def callback(slug: str) -> Response:
    """Where the upstream sends the browser back (code, state, iss or an error)."""
    params = {k: v[:4096] for k, v in request.args.items()}
    ctx = flow_context()
    svc = services()
    ip, agent = request.remote_addr, request.headers.get("User-Agent")
    completed: Completed | None = None
    try:
        completed = await complete(ctx, slug[:64], params, request.cookies.get(BINDING_COOKIE))
        if completed.flow.purpose == "link":
            return await _finish_link(completed)
        current = await current_login()
        signed = await sign_in(svc.db, completed, session_ttl=svc.settings.session_ttl,
                               ip=ip, user_agent=agent,
                               replaces=current[0].id if current else None)
    except UpstreamError as exc:
        flow = completed.flow if completed else None
        await record_failure(svc.db, slug, exc.reason, ip=ip, user_agent=agent,
                             purpose=flow.purpose if flow else "login",
                             actor_id=flow.link_user_id if flow else None,
                             detail=exc.detail)
        return await failure_page(slug, exc, flow.pending_id if flow else None)
    forget_login()
    flow = completed.flow
    target = resume_url(flow.pending_id) if flow.pending_id else (flow.return_to or "/account")
    response = redirect(target, 303)
    response.headers["Cache-Control"] = "no-store"
    set_session_cookie(response, signed.started.cookie)
    return response


async def _finish_link(completed: Completed) -> Response:
    current = await current_login()
    if current is None or current[1].id != completed.flow.link_user_id:
        raise UpstreamError("link_session_changed",
                            "You were signed out (or signed in as someone else) while linking. "
                            "Sign in and try again.")
    await link_identity(services().db, completed, current[1].id, ip=request.remote_addr)
    return redirect("/account/links?done=linked", 303)


async def failure_page(slug: str, exc: UpstreamError, pending_id: str | None) -> Response:
    """A friendly page: what went wrong, at which provider, and the other ways in."""
    rows = await enabled_providers(services().db)
    name = next((r.display_name for r in rows if r.slug == slug), None)
    others: list[dict[str, Any]] = [public_view(r) for r in rows if r.slug != slug]
    login = "/login" + (f"?ticket={pending_id}" if pending_id else "")
    return await page(
        "federation_error.html", status=STATUS.get(exc.reason, 400),
        title=f"Signing in with {name} did not work" if name else "Signing in did not work",
        message=exc.message, provider=name, others=others, ticket=pending_id or "",
        login_url=login, link_required=isinstance(exc, LinkRequired))


@bp.errorhandler(NotFound)
async def _not_found(err: NotFound) -> Response:
    """An unknown provider or ticket: a page for browsers, problem JSON when asked."""
    if request.path.endswith("/providers") or request.accept_mimetypes.best == \
            "application/json" or request.args.get("format") == "json":
        return problem_response(404, "Not found", err.message, kind="not-found")
    return await page("error.html", status=404, title="Not found", message=err.message)
