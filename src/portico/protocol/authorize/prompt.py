"""Interaction hints: ``prompt``, ``max_age``, ``id_token_hint``, ``nonce``, ``claims``
and the purely advisory ``login_hint``, ``ui_locales``, ``claims_locales``, ``acr_values``."""

from __future__ import annotations

from portico.protocol import tokens
from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.claims import parse_claims_parameter
from portico.protocol.errors import InvalidRequest

PROMPTS = ("none", "login", "consent", "select_account")


async def check_prompt(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """OIDC Core §3.1.2.1: ``none`` must stand alone; unknown values are refused."""
    values = tuple(dict.fromkeys((state.get("prompt") or "").split()))
    unknown = [v for v in values if v not in PROMPTS]
    if unknown:
        raise InvalidRequest("The prompt parameter has an unsupported value.")
    if "none" in values and len(values) > 1:
        raise InvalidRequest("The prompt value none must not be combined with others.")
    state.prompt = values


async def check_max_age(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """A non-negative number of seconds; ``0`` means "sign in again now" (§3.1.2.1)."""
    raw = state.get("max_age")
    if raw is None:
        # OIDC Registration §2: the client's registered default_max_age applies instead.
        default = (state.client.extra_metadata or {}).get("default_max_age") \
            if state.client is not None else None
        if isinstance(default, int) and not isinstance(default, bool):
            state.max_age = default
        return
    if not raw.isdigit() or len(raw) > 10:
        raise InvalidRequest("The max_age parameter must be a non-negative integer.")
    state.max_age = int(raw)


async def check_nonce(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Bound the nonce: it is echoed into every ID token."""
    nonce = state.get("nonce")
    if nonce is not None and len(nonce) > 500:
        raise InvalidRequest("The nonce parameter is too long.")


async def check_claims_parameter(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """OIDC Core §5.5: a JSON object with ``id_token`` and/or ``userinfo`` members."""
    state.claims = parse_claims_parameter(state.get("claims"))


async def check_id_token_hint(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """The hint must be an ID token Portico issued (expired is fine: it is only a hint)."""
    hint = state.get("id_token_hint")
    if hint is None:
        return
    try:
        claims = tokens.verify(ctx.keys, hint)
    except ValueError:
        raise InvalidRequest(
            "The id_token_hint is not a valid ID token from this issuer."
        ) from None
    if claims.get("iss") != ctx.settings.issuer or not isinstance(claims.get("sub"), str):
        raise InvalidRequest("The id_token_hint was not issued by this server.")
    state.id_token_hint_sub = claims["sub"]
