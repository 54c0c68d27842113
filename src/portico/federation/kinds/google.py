"""Google: OpenID Connect at https://accounts.google.com.

Quirk: a Google Workspace can be required with the ``hosted_domain`` option; it is
sent as ``hd`` and, since anyone can edit a URL, the ``hd`` claim of the ID token is
what is actually checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from portico.federation.base import UpstreamError
from portico.federation.kinds import Kind, register
from portico.federation.kinds.oidc import OIDC_MAPPING, OIDCConnector

GOOGLE = "https://accounts.google.com"


class GoogleOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hosted_domain: str | None = Field(None, max_length=253,
                                      pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$")
    fetch_userinfo: bool = False


class GoogleConnector(OIDCConnector):
    def authorize_extras(self) -> dict[str, str]:
        hd = self.config.options.get("hosted_domain")
        return {"hd": hd} if hd else {}

    def check_id_claims(self, claims: Mapping[str, Any], metadata: Mapping[str, Any]) -> None:
        hd = self.config.options.get("hosted_domain")
        if hd and claims.get("hd") != hd:
            raise UpstreamError("wrong_domain",
                                f"Use your {hd} account to sign in with Google.")


KIND = register(Kind(
    name="google",
    title="Google",
    description="Sign in with Google accounts (optionally only one Workspace domain).",
    factory=GoogleConnector,
    options_model=GoogleOptions,
    issuer="optional",
    default_issuer=GOOGLE,
    default_mapping=OIDC_MAPPING,
))
