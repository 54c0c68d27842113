"""Dynamic client registration (RFC 7591), its management protocol (RFC 7592) and the
OIDC Dynamic Client Registration 1.0 metadata rules.

``metadata`` reads and writes client metadata, ``service`` registers, reads, replaces
and deletes clients and manages initial access tokens, ``http`` binds the endpoints
(imported by ``portico.protocol.routes``).
"""

from __future__ import annotations

from typing import Any

from portico.crypto.jwe import CONTENT_ENCS, KEY_ALGS
from portico.settings import Settings

REGISTRATION_PATH = "/connect/register"


def discovery_metadata(settings: Settings) -> dict[str, Any]:
    """What this area adds to discovery (OIDC Discovery §3, RFC 8414 §2): the
    registration endpoint when registration is on, and the JWE algorithms ID tokens
    and userinfo can be encrypted with (``crypto.jwe``)."""
    doc: dict[str, Any] = {
        "id_token_encryption_alg_values_supported": list(KEY_ALGS),
        "id_token_encryption_enc_values_supported": list(CONTENT_ENCS),
        "userinfo_encryption_alg_values_supported": list(KEY_ALGS),
        "userinfo_encryption_enc_values_supported": list(CONTENT_ENCS),
    }
    if settings.client_registration != "off":
        doc["registration_endpoint"] = settings.url(REGISTRATION_PATH)
    return doc
