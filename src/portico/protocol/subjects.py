"""Subject identifiers as each client sees them (OIDC Core §8).

``public`` clients get the user's id, the same for every client. ``pairwise`` clients
get ``HMAC-SHA256(key, sector || 0x00 || user id)`` (OIDC Core §8.1), so two clients of
different sectors cannot correlate a person by ``sub``; clients of one sector (several
clients sharing a ``sector_identifier_uri``) see the same value.

The key is derived from the instance's master key (the one every instance already
shares, since it seals the signing keys): the value is stable across restarts and
instances, and nothing process-local decides it. A pairwise ``sub`` cannot be turned
back into a user id; to recognise one (``id_token_hint``), compute the candidate's
``subject_for`` and compare.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from portico.storage.models import Client

PAIRWISE = "pairwise"
PUBLIC = "public"
SUBJECT_TYPES = (PUBLIC, PAIRWISE)
_EXTENSION_KEY = "portico.pairwise_key"


def pairwise_key(master_key: bytes) -> bytes:
    """The pairwise-subject key: a purpose-bound derivation of the master key."""
    return hmac.new(master_key, b"portico-pairwise-subject-v1", hashlib.sha256).digest()


def sector_of(sector_identifier_uri: str | None, redirect_uris: list[str]) -> str | None:
    """OIDC Core §8.1: the host of ``sector_identifier_uri``, else the host shared by
    every redirect URI; None when there is no single host (registration must refuse)."""
    if sector_identifier_uri:
        return (urlsplit(sector_identifier_uri).hostname or "").lower() or None
    hosts = {(urlsplit(uri).hostname or "").lower() for uri in redirect_uris}
    hosts.discard("")
    return hosts.pop() if len(hosts) == 1 else None


def pairwise_subject(key: bytes, sector: str, user_id: str) -> str:
    """The pairwise ``sub`` of ``user_id`` in ``sector`` (43 base64url characters)."""
    digest = hmac.new(key, sector.encode() + b"\x00" + user_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _current_key() -> bytes:
    """The running app's pairwise key, derived once per app from its master key."""
    from quart import current_app

    from portico.services import master_key

    key = current_app.extensions.get(_EXTENSION_KEY)
    if key is None:
        key = pairwise_key(master_key(current_app.extensions["portico"].settings))
        current_app.extensions[_EXTENSION_KEY] = key
    return key  # type: ignore[no-any-return]


def subject_for(client: Client | None, user_id: str, key: bytes | None = None) -> str:
    """The ``sub`` ``client`` knows ``user_id`` by: in ID tokens, userinfo, access
    tokens, introspection and logout tokens alike.

    ``key`` defaults to the current app's pairwise key (inside a request or an app
    context); pass ``pairwise_key(master_key)`` elsewhere.
    """
    if client is None or client.subject_type != PAIRWISE:
        return user_id
    sector = sector_of(client.sector_identifier_uri, list(client.redirect_uris or []))
    if sector is None:
        # Registration refuses such clients; an admin edit that broke it must not leak ids.
        sector = f"client:{client.id}"
    return pairwise_subject(key if key is not None else _current_key(), sector, user_id)
