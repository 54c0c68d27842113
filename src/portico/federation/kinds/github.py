"""GitHub (and GitHub Enterprise Server): OAuth 2.0, not OpenID Connect.

Quirks: the stable subject is the numeric ``id`` (``login`` can be renamed); the
profile's ``email`` is whatever the person chose to make public, unverified, so the
address comes from ``/user/emails`` — the primary one, and only if GitHub verified it.
The issuer field, when set, is the base URL of a GitHub Enterprise Server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portico.federation.kinds import Kind, register
from portico.federation.kinds.oauth2 import OAuth2Connector

GITHUB = "https://github.com"


class GitHubConnector(OAuth2Connector):
    """OAuth 2.0 against github.com or an Enterprise Server."""

    def endpoints(self) -> tuple[str, str, str]:
        base = (self.config.issuer or GITHUB).rstrip("/")
        self.api = "https://api.github.com" if base == GITHUB else f"{base}/api/v3"
        return (f"{base}/login/oauth/authorize", f"{base}/login/oauth/access_token",
                f"{self.api}/user")

    async def enrich(self, token: Mapping[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
        claims = {k: v for k, v in claims.items() if k not in ("email", "email_verified")}
        response = await self.app.get(f"{self.api}/user/emails", token=token)
        response.raise_for_status()
        emails = response.json()
        primary = next((e for e in emails if isinstance(e, dict) and e.get("primary")), None) \
            if isinstance(emails, list) else None
        if primary and isinstance(primary.get("email"), str):
            claims["email"] = primary["email"]
            claims["email_verified"] = primary.get("verified") is True
        return claims


KIND = register(Kind(
    name="github",
    title="GitHub",
    description="Sign in with GitHub (github.com, or a GitHub Enterprise Server given as the "
    "issuer). Uses the verified primary address from /user/emails.",
    factory=GitHubConnector,
    issuer="optional",
    default_issuer=GITHUB,
    default_scopes=("read:user", "user:email"),
    default_mapping={"subject": "id", "username": "login", "email": "email",
                     "email_verified": "email_verified", "name": "name",
                     "picture": "avatar_url"},
))
