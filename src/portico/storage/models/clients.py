"""Registered relying parties (OAuth clients)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portico.storage.models.base import Base, utcnow


class Client(Base):
    """An application. The secret is stored only as SHA-256; it is shown once."""

    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    token_endpoint_auth_method: Mapped[str] = mapped_column(
        String(40), default="client_secret_basic"
    )
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(1000), default="")
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(10), default="RS256")
    userinfo_signed_response_alg: Mapped[str | None] = mapped_column(String(10), default=None)
    request_object_signing_alg: Mapped[str | None] = mapped_column(String(10), default=None)
    request_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    jwks_uri: Mapped[str | None] = mapped_column(String(1000), default=None)
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    # Response types beyond "code" (implicit, hybrid) are a per-client opt-in.
    response_types: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["code"])
    subject_type: Mapped[str] = mapped_column(String(10), default="public")
    sector_identifier_uri: Mapped[str | None] = mapped_column(String(1000), default=None)
    token_endpoint_auth_signing_alg: Mapped[str | None] = mapped_column(String(10), default=None)
    access_token_signed_response_alg: Mapped[str | None] = mapped_column(
        String(10), default=None)
    id_token_encrypted_response_alg: Mapped[str | None] = mapped_column(String(40), default=None)
    id_token_encrypted_response_enc: Mapped[str | None] = mapped_column(String(40), default=None)
    userinfo_encrypted_response_alg: Mapped[str | None] = mapped_column(String(40), default=None)
    userinfo_encrypted_response_enc: Mapped[str | None] = mapped_column(String(40), default=None)
    authorization_signed_response_alg: Mapped[str | None] = mapped_column(
        String(10), default=None)
    authorization_encrypted_response_alg: Mapped[str | None] = mapped_column(
        String(40), default=None)
    authorization_encrypted_response_enc: Mapped[str | None] = mapped_column(
        String(40), default=None)
    require_pushed_authorization_requests: Mapped[bool] = mapped_column(Boolean, default=False)
    dpop_bound_access_tokens: Mapped[bool] = mapped_column(Boolean, default=False)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(1000), default=None)
    backchannel_logout_session_required: Mapped[bool] = mapped_column(Boolean, default=False)
    frontchannel_logout_uri: Mapped[str | None] = mapped_column(String(1000), default=None)
    frontchannel_logout_session_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # RFC 7591 metadata Portico only stores and echoes (client_uri, logo_uri, contacts, …).
    extra_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set for dynamically registered clients (RFC 7592); SHA-256 of the token.
    registration_access_token_hash: Mapped[str | None] = mapped_column(
        String(64), default=None, unique=True)
    # The organization that owns this client (NULL: instance-wide, managed by superadmins).
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_public(self) -> bool:
        """Public clients cannot keep a secret and must use PKCE."""
        return self.token_endpoint_auth_method == "none"

    def __repr__(self) -> str:
        return f"Client(id={self.id!r}, name={self.name!r})"
