"""What to answer with (``response_type``) and how to deliver it (``response_mode``)."""

from __future__ import annotations

from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.errors import InvalidRequest, UnauthorizedClient, UnsupportedResponseType

RESPONSE_TYPES = ("code",)
RESPONSE_MODES = ("query", "fragment", "form_post")


async def check_response_mode(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Pick the delivery first, so later errors already travel the way the client asked.

    An unknown mode falls back to the default for ``code`` (query) and is refused.
    """
    mode = state.get("response_mode")
    if mode is None:
        return
    if mode not in RESPONSE_MODES:
        raise InvalidRequest("The response_mode is not supported.")
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
    """Only the authorization code flow is offered; the client must be allowed it."""
    assert state.client is not None
    response_type = state.get("response_type")
    if not response_type:
        raise InvalidRequest("The response_type parameter is missing.")
    if " ".join(sorted(response_type.split())) not in RESPONSE_TYPES:
        raise UnsupportedResponseType("The response_type is not supported.")
    if "authorization_code" not in state.client.grant_types:
        raise UnauthorizedClient("The client may not use the authorization code flow.")
