"""Who is asking, and where the answer may go.

Until both the client and its redirect URI are known good, nothing is sent back to
the redirect URI: an attacker could otherwise use Portico as an open redirector
(RFC 6749 §4.1.2.1, §10.15).
"""

from __future__ import annotations

from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.errors import InvalidRequestPage
from portico.storage.repositories.clients import Clients


async def load_client(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """The client must exist; an unknown one gets an error page."""
    if "client_id" in state.params.repeated:
        raise InvalidRequestPage("The client_id parameter was included more than once.")
    client_id = state.get("client_id")
    if not client_id:
        raise InvalidRequestPage("The client_id parameter is missing.")
    async with ctx.db.session() as session:
        client = await Clients(session).get(client_id)
    if client is None:
        raise InvalidRequestPage("The client is not known to this server.")
    state.client = client


async def check_redirect_uri(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Exact string match against the registered redirect URIs (OIDC Core §3.1.2.1)."""
    assert state.client is not None
    if "redirect_uri" in state.params.repeated:
        raise InvalidRequestPage("The redirect_uri parameter was included more than once.")
    redirect_uri = state.get("redirect_uri")
    registered = state.client.redirect_uris
    if not redirect_uri:
        # OAuth 2.0 §3.1.2.3 lets a client with one registered URI omit it; OIDC does not.
        if len(registered) == 1 and "openid" not in (state.get("scope") or "").split():
            state.redirect_uri = registered[0]
            return
        raise InvalidRequestPage("The redirect_uri parameter is missing.")
    if redirect_uri not in registered:
        raise InvalidRequestPage("The redirect_uri is not registered for this client.")
    state.redirect_uri = redirect_uri
