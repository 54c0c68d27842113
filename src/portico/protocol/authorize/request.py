"""The authorization request after every check: immutable, and storable as JSON
while the person signs in or consents."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated OAuth 2.0 / OIDC authorization request."""

    client_id: str
    redirect_uri: str
    response_mode: str
    scopes: tuple[str, ...]
    # Space-sorted, e.g. "code", "code id_token", "id_token token" (OIDC Core §3).
    response_type: str = "code"
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    prompt: tuple[str, ...] = ()
    max_age: int | None = None
    login_hint: str | None = None
    id_token_hint_sub: str | None = None
    acr_values: tuple[str, ...] = ()
    ui_locales: tuple[str, ...] = ()
    claims_locales: tuple[str, ...] = ()
    claims: dict[str, Any] | None = None
    idp: str | None = None
    # The ``org`` parameter as sent (an organization id or slug); checked at issue time.
    org: str | None = None
    # RFC 8707 resource indicators and the RFC 9449 §10 DPoP key thumbprint.
    resource: tuple[str, ...] = ()
    dpop_jkt: str | None = None

    @property
    def scope(self) -> str:
        """Space-separated scopes, as OAuth writes them."""
        return " ".join(self.scopes)

    @property
    def returns(self) -> frozenset[str]:
        """What /authorize itself hands out: a subset of code, token, id_token."""
        return frozenset(self.response_type.split())

    @property
    def is_openid(self) -> bool:
        """OpenID Connect request (``openid`` scope) rather than plain OAuth."""
        return "openid" in self.scopes

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict for the pending-authorization row."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuthorizationRequest:
        """Rebuild from ``to_json`` output."""
        tuples = ("scopes", "prompt", "acr_values", "ui_locales", "claims_locales", "resource")
        return cls(**{k: tuple(v) if k in tuples else v for k, v in data.items()})
