"""Microsoft Entra ID (Azure AD), v2.0 endpoints.

Quirks: the issuer is derived from the ``tenant`` option. For the multi-tenant
aliases (``common``, ``organizations``, ``consumers``) discovery advertises the
template ``https://login.microsoftonline.com/{tenantid}/v2.0``, and each ID token's
``iss`` must equal that template filled with the token's own ``tid``. Entra's
``email`` is not verified by Microsoft, so it never counts as verified here (no
linking by email through Entra). The stable subject is ``oid`` + ``tid`` (``sub`` is
pairwise per application).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from portico.federation.base import UpstreamError
from portico.federation.kinds import Kind, register
from portico.federation.kinds.oidc import OIDC_MAPPING, OIDCConnector

LOGIN = "https://login.microsoftonline.com"
MULTI_TENANT = ("common", "organizations", "consumers")
TEMPLATE = "{tenantid}"


class MicrosoftOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = Field("common", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.-]+$")
    fetch_userinfo: bool = False


def derive_issuer(options: Mapping[str, Any]) -> str:
    return f"{LOGIN}/{options.get('tenant', 'common')}/v2.0"


class MicrosoftConnector(OIDCConnector):
    def issuer_matches(self, discovered: str) -> bool:
        if self.config.options.get("tenant", "common") in MULTI_TENANT:
            return discovered == f"{LOGIN}/{TEMPLATE}/v2.0" or discovered.startswith(LOGIN)
        return super().issuer_matches(discovered)

    def id_claims_options(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        return {"iss": {"essential": True}}

    def check_id_claims(self, claims: Mapping[str, Any], metadata: Mapping[str, Any]) -> None:
        tid = claims.get("tid")
        expected = str(metadata["issuer"]).replace(TEMPLATE, str(tid))
        if not isinstance(tid, str) or claims.get("iss") != expected:
            raise UpstreamError("invalid_id_token",
                                "Microsoft sent an identity token for another tenant.",
                                detail="iss does not match the tenant template")


def _mapping() -> dict[str, Any]:
    mapping = dict(OIDC_MAPPING)
    mapping.update(subject={"template": "{oid}@{tid}"}, email_verified={"value": False})
    return mapping


KIND = register(Kind(
    name="microsoft",
    title="Microsoft Entra ID",
    description="Sign in with Microsoft work, school or personal accounts; the tenant "
    "option picks one directory or a multi-tenant alias (common, organizations, consumers).",
    factory=MicrosoftConnector,
    options_model=MicrosoftOptions,
    issuer="derived",
    derive_issuer=derive_issuer,
    default_issuer=derive_issuer({}),
    default_mapping=_mapping(),
))
