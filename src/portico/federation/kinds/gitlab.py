"""GitLab (gitlab.com or self-managed): OpenID Connect.

Quirk: GitLab's username is the ``nickname`` claim, not ``preferred_username``. The
issuer defaults to https://gitlab.com; a self-managed instance is given as the issuer.
"""

from __future__ import annotations

from portico.federation.kinds import Kind, register
from portico.federation.kinds.oidc import OIDC_MAPPING, OIDCConnector, OIDCOptions

GITLAB = "https://gitlab.com"

KIND = register(Kind(
    name="gitlab",
    title="GitLab",
    description="Sign in with GitLab (gitlab.com, or a self-managed instance given as the "
    "issuer).",
    factory=OIDCConnector,
    options_model=OIDCOptions,
    issuer="optional",
    default_issuer=GITLAB,
    default_scopes=("openid", "email", "profile"),
    default_mapping={**OIDC_MAPPING, "username": {"path": "nickname",
                                                  "template": "{preferred_username}"}},
))
