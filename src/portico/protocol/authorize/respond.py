"""Delivering a result to the client: query, fragment or form_post (OAuth 2.0
Multiple Response Types §2, Form Post Response Mode §2), or any of them as one signed
(and, when the client registered for it, encrypted) JWT (JARM §2.3), always with RFC
9207 ``iss``.

Only a redirect URI registered for the client ever gets here: until then errors are
pages (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from portico.protocol import jarm
from portico.protocol.errors import OAuthError

if TYPE_CHECKING:
    from portico.crypto.jwe import FetchJwks
    from portico.crypto.signing_keys import LoadedKeys
    from portico.storage.models import Client


@dataclass(frozen=True)
class RedirectTo:
    """Send the browser to ``location`` (302)."""

    location: str


@dataclass(frozen=True)
class FormPost:
    """Auto-submit ``params`` to ``action`` from an HTML page (rendered by the route)."""

    action: str
    params: list[tuple[str, str]]


Delivery = RedirectTo | FormPost


@dataclass(frozen=True)
class Reply:
    """Where the answer to one authorization request goes, and how: everything but
    the answer itself. ``client``, ``keys`` and ``fetch_jwks`` (the client's encryption
    keys) seal JARM responses."""

    redirect_uri: str
    response_mode: str
    state: str | None
    issuer: str
    client: Client
    keys: LoadedKeys
    fetch_jwks: FetchJwks

    def __repr__(self) -> str:
        return f"Reply({self.redirect_uri!r}, {self.response_mode!r})"


def deliver(redirect_uri: str, response_mode: str, params: list[tuple[str, str]]) -> Delivery:
    """Attach ``params`` to ``redirect_uri`` the way a plain ``response_mode`` says."""
    if response_mode == "form_post":
        return FormPost(redirect_uri, params)
    parts = urlsplit(redirect_uri)
    encoded = urlencode(params)
    if response_mode == "fragment":
        return RedirectTo(urlunsplit(parts._replace(fragment=encoded)))
    query = f"{parts.query}&{encoded}" if parts.query else encoded
    return RedirectTo(urlunsplit(parts._replace(query=query)))


async def send(reply: Reply, params: list[tuple[str, str]]) -> Delivery:
    """``params`` plus ``state`` and ``iss``, sealed into a JWT for the JARM modes."""
    params = list(params)
    if reply.state is not None:
        params.append(("state", reply.state))
    params.append(("iss", reply.issuer))
    mode = reply.response_mode
    if jarm.is_jarm(mode):
        sealed = await jarm.seal(reply.keys, reply.issuer, reply.client, params, reply.fetch_jwks)
        return deliver(reply.redirect_uri, jarm.base_mode(mode), [("response", sealed)])
    return deliver(reply.redirect_uri, mode, params)


async def success(reply: Reply, granted: list[tuple[str, str]]) -> Delivery:
    """The authorization response (RFC 6749 §4.1.2, OIDC Core §3.2.2.5, §3.3.2.5)."""
    return await send(reply, granted)


async def error(reply: Reply, err: OAuthError) -> Delivery:
    """The error response (RFC 6749 §4.1.2.1, §4.2.2.1)."""
    return await send(reply, list(err.as_dict().items()))
