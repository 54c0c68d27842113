"""Front-channel logout (OIDC Front-Channel Logout 1.0): the page that signs a person
out renders one hidden iframe per client of the ended session that registered a
``frontchannel_logout_uri``, so each client clears its own cookies in the browser.

§2: "If the RP's frontchannel_logout_session_required is true, the OP includes iss
and sid query parameters" (appended to any query the URI already has: the RP "MAY
contain port, path, and query parameter components"). The page's CSP names exactly
these origins in ``frame-src`` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from portico.storage.models import Client


@dataclass(frozen=True)
class Frame:
    """One client's front-channel logout iframe."""

    client_name: str
    url: str

    @property
    def origin(self) -> str:
        """scheme://host[:port], rebuilt from its parts (never user info) for the CSP."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def frame_url(client: Client, *, issuer: str, sid: str) -> str:
    """``frontchannel_logout_uri``, with ``iss`` and ``sid`` when the client asked."""
    uri = client.frontchannel_logout_uri or ""
    if not client.frontchannel_logout_session_required:
        return uri
    parts = urlsplit(uri)
    extra = urlencode({"iss": issuer, "sid": sid})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def frames_for(clients: list[Client], *, issuer: str, sid: str) -> list[Frame]:
    """The iframes for the clients of session ``sid`` (those without a URI have none)."""
    return [Frame(c.name, frame_url(c, issuer=issuer, sid=sid))
            for c in clients if c.frontchannel_logout_uri]


def frame_sources(frames: list[Frame]) -> list[str]:
    """The distinct origins for the page's CSP ``frame-src``."""
    return list(dict.fromkeys(f.origin for f in frames))
