"""``resource`` (RFC 8707 §2): the resource servers the requested tokens are for.

Each value must be an absolute URI without a fragment and known to this server (see
``protocol.resources`` for the policy); otherwise ``invalid_target``, which travels
back to the client like any error after the redirect URI is trusted (§2). The
resources are kept with the code: the token endpoint may only narrow them.
"""

from __future__ import annotations

from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.resources import from_parameter, requested


async def check_resource(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Validate and record every ``resource`` value."""
    values = from_parameter(state.get("resource"), state.params.multi.get("resource", []))
    state.resources = tuple(requested(values, ctx.settings) or ())
