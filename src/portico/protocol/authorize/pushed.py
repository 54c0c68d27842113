"""Authorization requests pushed to ``/par`` first (RFC 9126 §4, §5).

The browser brings only ``client_id`` and ``request_uri``; the parameters are the ones
validated at ``/par``, and nothing else in the query counts ("the authorization server
MUST only use the parameters in the pushed authorization request"). A ``request_uri``
works once, for the client that pushed it, until it expires. The checks still run
again on the pushed parameters: the client may have changed since.
"""

from __future__ import annotations

from portico.crypto.tokens import lookup_hash
from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.errors import InvalidRequest, InvalidRequestUri
from portico.protocol.params import Params
from portico.storage.repositories.pushed import PushedRequests

# RFC 9126 §2.2: "urn:ietf:params:oauth:request_uri:" followed by a random reference.
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


def pushed_required(state: AuthorizeState, ctx: AuthorizeContext) -> bool:
    """RFC 9126 §5–6: instance-wide, or the client's ``require_pushed_authorization_requests``."""
    assert state.client is not None
    return bool(
        ctx.settings.require_pushed_authorization_requests
        or state.client.require_pushed_authorization_requests
    )


async def load_pushed_request(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Swap in the pushed parameters for a PAR ``request_uri``, consuming it."""
    assert state.client is not None
    request_uri = state.get("request_uri")
    if not request_uri or not request_uri.startswith(REQUEST_URI_PREFIX):
        return
    if len(request_uri) > 200:
        raise InvalidRequestUri("The request_uri is unknown, expired or was already used.")
    async with ctx.db.session() as session:
        row = await PushedRequests(session).consume(lookup_hash(request_uri), state.client.id)
    if row is None:
        raise InvalidRequestUri("The request_uri is unknown, expired or was already used.")
    stored = row.params
    state.params = Params(values=dict(stored["params"]), multi=dict(stored.get("multi", {})))
    state.pushed = True
    state.signed_request_object = bool(stored.get("signed_request_object"))


async def require_pushed_request(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Refuse a request that did not come through ``/par`` when pushing is required."""
    if not state.pushed and pushed_required(state, ctx):
        raise InvalidRequest("This client must push its authorization requests to /par first.")
