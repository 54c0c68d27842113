"""PKCE (RFC 7636): S256 only; required for public clients, and for every client with
``require_pkce``.

``plain`` gives no protection if the challenge leaks, so it is refused outright.
"""

from __future__ import annotations

import re

from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.errors import InvalidRequest

# RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(verifier)) is 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


async def check_pkce(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Validate the challenge and its method; public clients must send one whenever a
    code is issued (implicit responses have no code to protect)."""
    assert state.client is not None
    if "code" not in state.response_type.split():
        return
    challenge = state.get("code_challenge")
    method = state.get("code_challenge_method")
    if method and method != "S256":
        raise InvalidRequest("The code_challenge_method must be S256.")
    if not challenge:
        if method:
            raise InvalidRequest("The code_challenge parameter is missing.")
        if state.client.is_public:
            raise InvalidRequest("Public clients must use PKCE with S256.")
        if ctx.settings.require_pkce:
            raise InvalidRequest("This server requires PKCE with S256 from every client.")
        return
    if not method:
        # RFC 7636 §4.3 defaults to plain, which Portico refuses.
        raise InvalidRequest("The code_challenge_method must be S256.")
    if not _CHALLENGE.match(challenge):
        raise InvalidRequest("The code_challenge is malformed.")
