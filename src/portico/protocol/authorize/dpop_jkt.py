"""``dpop_jkt`` (RFC 9449 §10): the client binds the code to its DPoP key up front.

The thumbprint is kept with the code; the token endpoint then refuses to redeem the
code with a proof of any other key, so a stolen code is useless without the key.
"""

from __future__ import annotations

from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.dpop import is_thumbprint
from portico.protocol.errors import InvalidRequest


async def check_dpop_jkt(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """A JWK SHA-256 thumbprint (RFC 7638), base64url: 43 characters."""
    value = state.get("dpop_jkt")
    if value is not None and not is_thumbprint(value):
        raise InvalidRequest("The dpop_jkt must be a base64url JWK SHA-256 thumbprint.")
