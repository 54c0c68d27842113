"""Scopes: known ones kept, unknown ones ignored (OIDC Core §3.1.2.1: "Scope values used
that are not understood by an implementation SHOULD be ignored")."""

from __future__ import annotations

from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.claims import SUPPORTED_SCOPES
from portico.protocol.errors import InvalidScope


async def check_scope(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Keep supported scopes the client may ask for, in a stable order."""
    assert state.client is not None
    requested = (state.get("scope") or "").split()
    allowed = set(state.client.scope.split()) if state.client.scope else set(SUPPORTED_SCOPES)
    kept = [s for s in SUPPORTED_SCOPES if s in requested and s in allowed]
    if "offline_access" in kept and "refresh_token" not in state.client.grant_types:
        kept.remove("offline_access")
    if not kept:
        raise InvalidScope("The requested scope is empty or not allowed for this client.")
    state.scopes = tuple(kept)
