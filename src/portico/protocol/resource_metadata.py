"""Protected resource metadata (RFC 9728) for Portico's own protected resources.

Two identifiers name Portico as a resource server: the issuer itself (the default
``aud`` of its access tokens) and the UserInfo endpoint. Each has a document at the
well-known path with the resource's path appended (§3.1): ``/.well-known/
oauth-protected-resource`` for the issuer and ``…/oauth-protected-resource/userinfo``
for UserInfo, whose 401s point there (§5.1). That keeps §3.3 exact: a client that
followed the ``resource_metadata`` link from UserInfo finds ``resource`` equal to the
URL it called.

These paths sit under the issuer. For an issuer without a path (the usual case) they
are exactly the RFC's; for an issuer with a path, RFC 9728 would put the document at
the host root, which Portico does not serve — clients that follow the
``resource_metadata`` link from a 401 still find it.
"""

from __future__ import annotations

from typing import Any

from portico.protocol import dpop
from portico.protocol.claims import SUPPORTED_SCOPES
from portico.protocol.resources import USERINFO_PATH
from portico.settings import Settings

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def metadata_url(settings: Settings, resource_path: str = "") -> str:
    """Where the metadata of the resource at ``resource_path`` (under the issuer) lives."""
    return settings.url(WELL_KNOWN + resource_path)


def protected_resource_metadata(settings: Settings, resource_path: str = "") -> dict[str, Any]:
    """RFC 9728 §2 metadata of Portico's resource at ``resource_path`` ("" or /userinfo).

    Access tokens go in the ``Authorization`` header, or for UserInfo also in a form
    body (OIDC Core §5.3.1, RFC 6750 §2.2); DPoP-bound tokens are accepted but not
    required (RFC 9449 §5.2 ``dpop_bound_access_tokens_required``).
    """
    methods = ["header", "body"] if resource_path == USERINFO_PATH else ["header"]
    return {
        "resource": settings.url(resource_path),
        "authorization_servers": [settings.issuer],
        "jwks_uri": settings.url("/jwks"),
        "scopes_supported": list(SUPPORTED_SCOPES),
        "bearer_methods_supported": methods,
        "resource_name": "Portico UserInfo" if resource_path else "Portico",
        "dpop_signing_alg_values_supported": list(dpop.DPOP_ALGS),
        "dpop_bound_access_tokens_required": False,
    }
