"""Reading the parked authorization request a page is working on."""

from __future__ import annotations

from dataclasses import dataclass

from portico.errors import NotFound
from portico.http import services
from portico.protocol.authorize.request import AuthorizationRequest
from portico.storage.models import Client, PendingAuthorization
from portico.storage.repositories.clients import Clients
from portico.storage.repositories.interactions import PendingAuthorizations


@dataclass(frozen=True)
class Ticket:
    """A pending request, its client, and the request it carries."""

    pending: PendingAuthorization
    client: Client
    request: AuthorizationRequest


async def load_ticket(ticket: str | None) -> Ticket | None:
    """The open pending request for ``ticket``; None when no ticket was given."""
    if not ticket:
        return None
    async with services().db.session() as session:
        pending = await PendingAuthorizations(session).find_open(ticket)
        client = await Clients(session).get(pending.client_id) if pending else None
    if pending is None or client is None:
        raise NotFound(
            "This sign-in request has expired or was already used. "
            "Return to the application and start again."
        )
    return Ticket(pending, client, AuthorizationRequest.from_json(pending.params))


def resume_url(ticket: str) -> str:
    """Where the protocol picks the request up again."""
    from urllib.parse import urlencode

    return "/authorize/resume?" + urlencode({"ticket": ticket})
