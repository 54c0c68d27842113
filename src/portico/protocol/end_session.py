"""RP-Initiated Logout 1.0: decide whether to sign out at once and where to go next.

Redirecting is only ever to a ``post_logout_redirect_uri`` registered, exactly, for
the client named by a valid ``id_token_hint`` (or by ``client_id`` after the person
confirmed). Anything less gets a confirmation page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from portico.crypto.signing_keys import LoadedKeys
from portico.protocol import tokens
from portico.protocol.errors import InvalidRequestPage
from portico.settings import Settings
from portico.storage.db import Database
from portico.storage.models import Client
from portico.storage.repositories.clients import Clients


@dataclass(frozen=True)
class LogoutPlan:
    """What /end_session should do."""

    hint_subject: str | None
    client: Client | None
    redirect_uri: str | None
    state: str | None

    def redirect_location(self) -> str | None:
        """Where to send the browser after signing out, with ``state`` echoed."""
        if not self.redirect_uri:
            return None
        if self.state is None:
            return self.redirect_uri
        parts = urlsplit(self.redirect_uri)
        extra = urlencode({"state": self.state})
        query = f"{parts.query}&{extra}" if parts.query else extra
        return urlunsplit(parts._replace(query=query))


async def plan_logout(
    params: dict[str, str], *, settings: Settings, db: Database, keys: LoadedKeys
) -> LogoutPlan:
    """Validate the logout request; raises a page error for an unsafe redirect."""
    hint = params.get("id_token_hint") or None
    client_id = params.get("client_id") or None
    redirect_uri = params.get("post_logout_redirect_uri") or None
    state = params.get("state") or None
    subject = None
    if hint:
        try:
            claims = tokens.verify(keys, hint)
        except ValueError:
            claims = {}
        if claims.get("iss") == settings.issuer:
            aud = claims.get("aud")
            hinted = aud[0] if isinstance(aud, list) and aud else aud
            if client_id and hinted != client_id:
                raise InvalidRequestPage("The client_id does not match the id_token_hint.")
            client_id = hinted if isinstance(hinted, str) else client_id
            subject = claims.get("sub") if isinstance(claims.get("sub"), str) else None
    client = None
    if client_id:
        async with db.session() as session:
            client = await Clients(session).get(client_id)
    if redirect_uri and (client is None or redirect_uri not in client.post_logout_redirect_uris):
        raise InvalidRequestPage("The post_logout_redirect_uri is not registered for this client.")
    return LogoutPlan(subject, client, redirect_uri, state)
