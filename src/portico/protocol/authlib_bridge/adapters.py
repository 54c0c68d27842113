"""Portico rows presented as authlib's model mixins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin

from portico.crypto.tokens import same_hash
from portico.orgs.active import Acting
from portico.protocol.authlib_bridge.context import (
    timestamp,
)
from portico.storage.models import AuthorizationCode, Client, RefreshToken, User
from portico.storage.models.base import utcnow

# --- authlib model adapters -------------------------------------------------------


class ClientAdapter(ClientMixin):
    """Presents a ``Client`` row the way authlib asks about clients."""

    def __init__(self, row: Client) -> None:
        self.row = row
        self.id_token_signed_response_alg = row.id_token_signed_response_alg

    def get_client_id(self) -> str:
        return self.row.id

    def get_default_redirect_uri(self) -> str | None:
        return self.row.redirect_uris[0] if self.row.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(self.row.scope.split())
        requested = (scope or "").split()
        if not allowed:
            return " ".join(requested)
        return " ".join(s for s in requested if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.row.secret_hash) and same_hash(client_secret, self.row.secret_hash or "")

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.row.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


class UserAdapter:
    """authlib's RFC 9068 and OIDC code want ``get_user_id``; ``acting`` is the
    person's membership in the organization the grant acts in (None once they left)."""

    def __init__(self, row: User, acting: Acting | None = None) -> None:
        self.row = row
        self.acting = acting

    def get_user_id(self) -> str:
        return self.row.id


class CodeAdapter:
    """An ``AuthorizationCode`` row as authlib's AuthorizationCodeMixin."""

    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return timestamp(self.row.auth_time)

    def get_acr(self) -> str | None:
        return self.row.acr

    def get_amr(self) -> list[str]:
        return list(self.row.amr or [])


@dataclass
class TokenView:
    """An access or refresh token as authlib's introspection/revocation see it."""

    kind: str
    client_id: str
    user_id: str | None
    scope: str
    issued_at: datetime
    expires_at: datetime
    revoked: bool
    jti: str | None = None
    family_id: str | None = None
    refresh_row: RefreshToken | None = None
    org_id: str | None = None
    # RFC 8707 audience, RFC 9449 key binding and RFC 8693 actor of an access token.
    audience: list[str] | None = None
    cnf_jkt: str | None = None
    actor: dict[str, Any] | None = None
    # The user and client rows when the lookup already loaded them (one JOIN).
    user_row: User | None = None
    client_row: Client | None = None

    def check_client(self, client: ClientAdapter) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.expires_at - utcnow()).total_seconds()))

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked
