"""The authorization endpoint as a small state machine.

A request runs through ``CHECKS`` in order; each check either records what it
established on ``AuthorizeState`` or raises an ``OAuthError``. Until the client
and its redirect URI are trusted, errors become an error page; after that they
are delivered to the client in the requested response mode.

Then the person's situation decides the next step::

    /authorize ──checks──► needed_step?
        │ none needed ──────────────► code / tokens → query | fragment | form_post [.jwt]
        │ prompt=none and a step needed ──────────► login_required | consent_required | …
        └ login / select_account / consent ──► park request (PendingAuthorization)
                                                 → hosted page → /authorize/resume
    /authorize/resume?ticket=… ── needed_step? ── (same as above, on the parked request)

A pushed request (``request_uri=urn:ietf:params:oauth:request_uri:…`` from ``/par``,
RFC 9126) swaps in the parameters validated there before the checks run again; the
``/par`` endpoint itself runs the same checks, without a person (``protocol.par``).

Once the person is known, an ``org`` parameter naming an organization they do not
belong to ends the request with ``access_denied``; the code records the organization
the person acts in (see ``authorize.organization``).

A parked request is completed exactly once (a conditional UPDATE), so a
double-submitted consent cannot mint two codes.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from portico.accounts.noop import is_noop
from portico.accounts.noop import sign_in as noop_sign_in
from portico.accounts.sessions import resolve_session
from portico.protocol.authorize import respond
from portico.protocol.authorize.client import check_redirect_uri, load_client
from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.authorize.dpop_jkt import check_dpop_jkt
from portico.protocol.authorize.interaction import (
    LOGIN,
    SELECT_ACCOUNT,
    Situation,
    needed_step,
    prompt_none_error,
)
from portico.protocol.authorize.issue import issue_response, seal_id_tokens
from portico.protocol.authorize.organization import (
    check_org_hint,
    org_for_code,
    requested_org,
)
from portico.protocol.authorize.pkce import check_pkce
from portico.protocol.authorize.prompt import (
    check_claims_parameter,
    check_id_token_hint,
    check_max_age,
    check_nonce,
    check_prompt,
)
from portico.protocol.authorize.pushed import load_pushed_request, require_pushed_request
from portico.protocol.authorize.request import AuthorizationRequest
from portico.protocol.authorize.request_object import apply_request_object
from portico.protocol.authorize.resource import check_resource
from portico.protocol.authorize.response import (
    check_front_channel_tokens,
    check_response_mode,
    check_response_type,
    reject_repeated_parameters,
)
from portico.protocol.authorize.scope import check_scope
from portico.protocol.errors import AccessDenied, InvalidRequestPage, OAuthError
from portico.protocol.params import Params
from portico.storage.models import Client, PendingAuthorization
from portico.storage.models.base import utcnow
from portico.storage.repositories.clients import Clients
from portico.storage.repositories.grants import Consents
from portico.storage.repositories.interactions import PendingAuthorizations

Check = Callable[[AuthorizeState, AuthorizeContext], Awaitable[None]]


async def note_query_redirect_uri(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Trust the query's redirect_uri early (if registered) so that a broken request
    object can still be reported to the client; the strict check comes after."""
    try:
        await check_redirect_uri(state, ctx)
    except OAuthError:
        state.redirect_uri = None


CHECKS: tuple[Check, ...] = (
    load_client,
    load_pushed_request,
    note_query_redirect_uri,
    require_pushed_request,
    apply_request_object,
    check_redirect_uri,
    check_response_mode,
    reject_repeated_parameters,
    check_response_type,
    check_scope,
    check_pkce,
    check_resource,
    check_dpop_jkt,
    check_nonce,
    check_front_channel_tokens,
    check_prompt,
    check_max_age,
    check_claims_parameter,
    check_id_token_hint,
    check_org_hint,
)


@dataclass(frozen=True)
class GoTo:
    """The person must complete ``step`` on a hosted page for parked request ``ticket``."""

    step: str
    ticket: str


Outcome = respond.Delivery | GoTo


def _words(value: str | None) -> tuple[str, ...]:
    return tuple((value or "").split())


def build_request(state: AuthorizeState) -> AuthorizationRequest:
    """Freeze what the checks established."""
    assert state.client is not None and state.redirect_uri is not None
    return AuthorizationRequest(
        client_id=state.client.id,
        redirect_uri=state.redirect_uri,
        response_mode=state.response_mode,
        scopes=state.scopes,
        response_type=state.response_type,
        state=state.get("state"),
        nonce=state.get("nonce"),
        code_challenge=state.get("code_challenge"),
        code_challenge_method=state.get("code_challenge_method"),
        prompt=state.prompt,
        max_age=state.max_age,
        login_hint=state.get("login_hint"),
        id_token_hint_sub=state.id_token_hint_sub,
        acr_values=_words(state.get("acr_values")),
        ui_locales=_words(state.get("ui_locales")),
        claims_locales=_words(state.get("claims_locales")),
        claims=state.claims,  # type: ignore[arg-type]
        resource=state.resources,
        dpop_jkt=state.get("dpop_jkt"),
        idp=state.get("idp"),
        org=state.get("org"),
    )


def reply_to(req: AuthorizationRequest, client: Client, ctx: AuthorizeContext) -> respond.Reply:
    """Where and how the answer to ``req`` goes."""
    return respond.Reply(
        req.redirect_uri,
        req.response_mode,
        req.state,
        ctx.settings.issuer,
        client,
        ctx.keys,
        ctx.fetcher.jwks,
    )


async def _fail(
    err: OAuthError, state: AuthorizeState, ctx: AuthorizeContext
) -> respond.Delivery:
    if not err.redirectable or state.redirect_uri is None or state.client is None:
        if isinstance(err, InvalidRequestPage):
            raise err
        raise InvalidRequestPage(err.description) from err
    reply = respond.Reply(
        state.redirect_uri,
        state.response_mode,
        state.get("state"),
        ctx.settings.issuer,
        state.client,
        ctx.keys,
        ctx.fetcher.jwks,
    )
    return await respond.error(reply, err)


async def authorize(params: Params, ctx: AuthorizeContext, cookie: str | None) -> Outcome:
    """Handle GET/POST /authorize."""
    state = AuthorizeState(params)
    try:
        for check in CHECKS:
            await check(state, ctx)
        req = build_request(state)
    except OAuthError as err:
        return await _fail(err, state, ctx)
    assert state.client is not None
    return await proceed(req, state.client, None, ctx, cookie)


async def resume(ticket: str, ctx: AuthorizeContext, cookie: str | None) -> Outcome:
    """Continue a parked request after a hosted page did its step."""
    async with ctx.db.session() as session:
        pending = await PendingAuthorizations(session).find_open(ticket)
        client = await Clients(session).get(pending.client_id) if pending else None
    if pending is None or client is None:
        raise InvalidRequestPage(
            "This sign-in request has expired or was already completed. "
            "Return to the application and start again."
        )
    req = AuthorizationRequest.from_json(pending.params)
    if pending.denied_at is not None:
        async with ctx.db.session() as session:
            await PendingAuthorizations(session).complete(pending.id)
        return await respond.error(
            reply_to(req, client, ctx), AccessDenied("The end user denied the request.")
        )
    return await proceed(req, client, pending, ctx, cookie)


async def proceed(
    req: AuthorizationRequest,
    client: Client,
    pending: PendingAuthorization | None,
    ctx: AuthorizeContext,
    cookie: str | None,
) -> Outcome:
    """Decide the next step for ``req``, or issue the code."""
    now = utcnow()
    async with ctx.db.session() as session:
        resolved = await resolve_session(session, cookie, ctx.settings.session_idle_ttl)
        noop = is_noop(ctx.settings)
        if noop:
            # PORTICO_AUTH_MODE=noop: everyone is the dev user; no login, no consent.
            resolved = await noop_sign_in(session, ctx.settings)
        login, user = resolved if resolved else (None, None)
        granted = await Consents(session).granted_scopes(user.id, client.id) if user else set()
        situation = Situation(login, user, pending, granted, now)
        step = None if noop and login is not None else needed_step(req, client, situation)
        chosen = None
        if user is not None and step not in (LOGIN, SELECT_ACCOUNT):
            try:
                chosen = await requested_org(session, user, req.org)
            except AccessDenied as err:
                if pending is not None:
                    await PendingAuthorizations(session).complete(pending.id)
                return await respond.error(reply_to(req, client, ctx), err)
        if step is not None:
            if "none" in req.prompt:
                return await respond.error(reply_to(req, client, ctx), prompt_none_error(step))
            if pending is None:
                pending = await PendingAuthorizations(session).add(
                    PendingAuthorization(
                        id=secrets.token_urlsafe(32),
                        client_id=client.id,
                        params=req.to_json(),
                        created_at=now,
                        expires_at=now + timedelta(seconds=ctx.settings.interaction_ttl),
                    )
                )
            return GoTo(step, pending.id)
        assert login is not None and user is not None
        if pending is not None and not await PendingAuthorizations(session).complete(pending.id):
            raise InvalidRequestPage("This sign-in request was already completed.")
        acting = await org_for_code(session, login, chosen)
        granted = await issue_response(session, req, client, user, login, acting, ctx)
    reply = reply_to(req, client, ctx)
    try:
        granted = await seal_id_tokens(client, granted, ctx)
    except OAuthError as err:
        return await respond.error(reply, err)
    return await respond.success(reply, granted)
