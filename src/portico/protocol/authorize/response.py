"""What to answer with (``response_type``) and how to deliver it (``response_mode``).

``code`` is for every client. The implicit (``id_token``, ``id_token token``) and
hybrid (``code id_token``, ``code token``, ``code id_token token``) response types put
tokens in the browser, so a client gets them only once it registered them
(``response_types``, OIDC Registration §2). Tokens travel in the fragment or a form
post, never in the query (OAuth 2.0 Multiple Response Types §5).
"""

from __future__ import annotations

from portico.protocol import jarm
from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.errors import InvalidRequest, UnauthorizedClient, UnsupportedResponseType

RESPONSE_TYPES = (
    "code",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
)
RESPONSE_MODES = ("query", "fragment", "form_post", *jarm.JARM_MODES)
_FRONT_CHANNEL_TOKENS = {"token", "id_token"}


def normalise(response_type: str) -> str:
    """Space-separated values in any order mean the same (Multiple Response Types §3)."""
    return " ".join(sorted(set(response_type.split())))


_SUPPORTED = {normalise(t) for t in RESPONSE_TYPES}


def carries_tokens(response_type: str | None) -> bool:
    """Whether the response would hold an access or ID token."""
    return bool(_FRONT_CHANNEL_TOKENS & set((response_type or "").split()))


async def check_response_mode(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Pick the delivery first, so later errors already travel the way the client asked.

    The default is the response type's (Multiple Response Types §2.1, §5): query for
    ``code``, fragment when tokens come back. An unknown mode, or the query for a
    response with tokens (§5; JARM §2.3.1: ``query.jwt`` only when encrypted), is
    refused by the default.
    """
    tokens = carries_tokens(state.get("response_type"))
    state.response_mode = "fragment" if tokens else "query"
    mode = state.get("response_mode")
    if mode is None:
        return
    if mode not in RESPONSE_MODES:
        raise InvalidRequest("The response_mode is not supported.")
    mode = jarm.resolve(mode, tokens)
    encrypted = state.client is not None and jarm.encrypts(state.client)
    if tokens and (mode == "query" or (mode == "query.jwt" and not encrypted)):
        if mode == "query.jwt":
            state.response_mode = "fragment.jwt"
        raise InvalidRequest(
            "Tokens are never returned in the query; use response_mode fragment or form_post."
        )
    state.response_mode = mode


async def reject_repeated_parameters(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """RFC 6749 §3.1: parameters must not be included more than once."""
    if state.params.repeated:
        name = sorted(state.params.repeated)[0]
        raise InvalidRequest(f"The {name} parameter was included more than once.")
    if state.params.oversized:
        name = sorted(state.params.oversized)[0]
        raise InvalidRequest(f"The {name} parameter is too long.")


async def check_response_type(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """A supported response type the client registered; ``code`` in it needs the
    authorization code grant too (RFC 6749 §4.1.2.1 ``unauthorized_client``)."""
    assert state.client is not None
    response_type = state.get("response_type")
    if not response_type:
        raise InvalidRequest("The response_type parameter is missing.")
    value = normalise(response_type)
    if value not in _SUPPORTED:
        raise UnsupportedResponseType("The response_type is not supported.")
    registered = {normalise(t) for t in (state.client.response_types or ["code"])}
    if value not in registered:
        raise UnauthorizedClient("The client has not registered this response_type.")
    if "code" in value.split() and "authorization_code" not in state.client.grant_types:
        raise UnauthorizedClient("The client may not use the authorization code flow.")
    state.response_type = value


async def check_front_channel_tokens(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """An ID token from /authorize needs ``openid`` and a ``nonce`` (OIDC Core §3.2.2.1,
    §3.3.2.11: "REQUIRED" for ``id_token`` response types, to stop replay)."""
    if "id_token" not in state.response_type.split():
        return
    if "openid" not in state.scopes:
        raise InvalidRequest("The id_token response types need the openid scope.")
    if not state.get("nonce"):
        raise InvalidRequest("The nonce parameter is required for this response_type.")
