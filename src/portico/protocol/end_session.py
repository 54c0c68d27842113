"""RP-Initiated Logout 1.0: decide whether to sign out at once and where to go next,
and sign a browser session out so that every client of it hears about it.

§2: the request carries ``id_token_hint`` (RECOMMENDED), ``logout_hint``,
``client_id``, ``post_logout_redirect_uri``, ``state`` and ``ui_locales``, by GET or
form POST. §2: the OP "MUST ask the End-User" whether to log out when there is no
``id_token_hint`` or the hinted ID Token "does not belong to the current OP session
with the RP and/or currently logged in End-User"; expired hints are accepted ("even
when the exp time has passed"). §3: redirection is only ever to a
``post_logout_redirect_uri`` registered, exactly, for the client named by the hint
or by ``client_id``; anything else gets a page, never a redirect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from joserfc.jws import extract_compact
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.crypto.signing_keys import LoadedKeys
from portico.protocol import tokens
from portico.protocol.errors import InvalidRequestPage
from portico.protocol.logout.frontchannel import Frame, frames_for
from portico.protocol.subjects import subject_for
from portico.settings import Settings
from portico.storage.db import Database
from portico.storage.models import Client, Session, User
from portico.storage.repositories.clients import Clients
from portico.storage.repositories.logout import LogoutDeliveries, SessionClients
from portico.storage.repositories.sessions import Sessions

PARAMS = ("id_token_hint", "logout_hint", "client_id", "post_logout_redirect_uri", "state",
          "ui_locales")
# Tokens Portico signs that are not ID tokens, and so are no id_token_hint.
NOT_ID_TOKENS = ("at+jwt", "logout+jwt")


@dataclass(frozen=True)
class Hint:
    """What a verified ``id_token_hint`` says."""

    client_id: str | None
    subject: str | None
    sid: str | None


@dataclass(frozen=True)
class LogoutPlan:
    """What /end_session should do."""

    hint: Hint | None
    client: Client | None
    redirect_uri: str | None
    state: str | None
    logout_hint: str | None = None

    def redirect_location(self) -> str | None:
        """Where to send the browser after signing out, with ``state`` echoed (§3)."""
        if not self.redirect_uri:
            return None
        if self.state is None:
            return self.redirect_uri
        parts = urlsplit(self.redirect_uri)
        extra = urlencode({"state": self.state})
        query = f"{parts.query}&{extra}" if parts.query else extra
        return urlunsplit(parts._replace(query=query))

    def belongs_to(self, login: tuple[Session, User] | None) -> bool:
        """Whether the hint was issued to this browser's session and person (§2), so
        signing out needs no confirmation. Nobody signed in: nothing to protect."""
        if self.hint is None:
            return False
        if self.logout_hint and login is not None and not _names(login[1], self.logout_hint):
            return False
        if login is None:
            return True
        session, user = login
        if self.hint.sid is not None:
            return self.hint.sid == session.id and session.user_id == user.id
        # A pairwise sub cannot be read back: compute the person's and compare.
        return self.client is not None and subject_for(self.client, user.id) == self.hint.subject


def _names(user: User, logout_hint: str) -> bool:
    """Whether ``logout_hint`` (Portico reads it as a username or an email) is this user."""
    wanted = logout_hint.strip().casefold()
    return wanted in (user.username.casefold(), user.email.casefold())


def read_hint(keys: LoadedKeys, settings: Settings, value: str) -> Hint | None:
    """The hint's audience, subject and session, or None when it is not an ID token
    Portico issued (a bad signature, ``alg: none``, another issuer, an access token)."""
    try:
        claims = tokens.verify(keys, value)
        header_typ = _typ(value)
    except ValueError:
        return None
    if claims.get("iss") != settings.issuer or header_typ in NOT_ID_TOKENS:
        return None
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    client_id = claims.get("azp") if len(audiences) > 1 else audiences[0]
    sub, sid = claims.get("sub"), claims.get("sid")
    return Hint(client_id if isinstance(client_id, str) else None,
                sub if isinstance(sub, str) else None,
                sid if isinstance(sid, str) else None)


def _typ(token: str) -> Any:
    """The ``typ`` header of a token that already verified."""
    return extract_compact(token.encode()).headers().get("typ")


async def plan_logout(
    params: dict[str, str], *, settings: Settings, db: Database, keys: LoadedKeys
) -> LogoutPlan:
    """Validate the logout request; raises a page error for an unsafe redirect."""
    raw_hint = params.get("id_token_hint") or None
    client_id = params.get("client_id") or None
    redirect_uri = params.get("post_logout_redirect_uri") or None
    hint = read_hint(keys, settings, raw_hint) if raw_hint else None
    if hint is not None:
        # §2: "the OP MUST verify that the Client Identifier matches the one used when
        # issuing the ID Token".
        if client_id and hint.client_id != client_id:
            raise InvalidRequestPage("The client_id does not match the id_token_hint.")
        client_id = hint.client_id
    client = None
    if client_id:
        async with db.session() as session:
            client = await Clients(session).get(client_id)
    if redirect_uri and client is None:
        raise InvalidRequestPage(
            "The post_logout_redirect_uri is not registered for this client." if client_id
            else "The post_logout_redirect_uri can only be used with a valid id_token_hint "
                 "or client_id.")
    if redirect_uri and client is not None and redirect_uri not in client.post_logout_redirect_uris:
        raise InvalidRequestPage("The post_logout_redirect_uri is not registered for this client.")
    return LogoutPlan(hint, client, redirect_uri, params.get("state") or None,
                      params.get("logout_hint") or None)


# --- signing a browser session out -------------------------------------------------------


@dataclass(frozen=True)
class SignedOut:
    """What ending a browser session set in motion: the front-channel iframes to render
    and the back-channel notices queued (already committed)."""

    frames: list[Frame] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


async def sign_out(db: Database, login: Session, user: User, *, issuer: str,
                   ip: str | None) -> SignedOut:
    """End ``login``: revoke it (which queues the back-channel notices and revokes its
    online grants, ``storage.repositories.logout``), audit, and list its clients'
    front-channel iframes. Ending an already ended session sets nothing in motion."""

    async def write(session: AsyncSession) -> SignedOut:
        if not await Sessions(session).revoke(login.id):
            return SignedOut()
        clients = await SessionClients(session).clients_of(login.id)
        notices = await LogoutDeliveries(session).pending_for_session(login.id)
        await record(session, "logout", actor_id=user.id, ip=ip, target=f"session:{login.id}",
                     clients=len(clients), backchannel=len(notices))
        return SignedOut(frames_for(clients, issuer=issuer, sid=login.id), notices)

    return await db.run(write)
