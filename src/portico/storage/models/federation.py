"""Federation: upstream identity providers, the identities people hold there, and the
short-lived login flows that carry someone to an upstream and back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from portico.storage.models.base import Base, utcnow


class IdentityProvider(Base):
    """An upstream an admin configured.

    ``options`` holds what only its kind understands (endpoints, claim paths, tenant),
    validated by the kind's schema. The client secret is sealed with AES-GCM bound to
    this row. ``version`` goes up on every change: each process caches opened providers
    by (id, version), so a change on one instance is seen by all at their next use.
    """

    __tablename__ = "identity_providers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    icon: Mapped[str | None] = mapped_column(String(500), default=None)
    kind: Mapped[str] = mapped_column(String(32))
    issuer: Mapped[str | None] = mapped_column(String(1000), default=None)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_id: Mapped[str] = mapped_column(String(500))
    client_secret_sealed: Mapped[str | None] = mapped_column(Text, default=None)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    claim_mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The organization people who sign up through this provider join (NULL: the default).
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), default=None, index=True)
    allow_signup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    trust_email_for_linking: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false())
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"IdentityProvider(id={self.id!r}, slug={self.slug!r}, kind={self.kind!r})"


class FederatedIdentity(Base):
    """A person's account at an upstream (provider + subject), linked to a local user."""

    __tablename__ = "federated_identities"
    __table_args__ = (UniqueConstraint("provider_id", "subject"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    provider_id: Mapped[str] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class UpstreamLoginFlow(Base):
    """One trip to an upstream: single use, consumed by one conditional UPDATE.

    ``state_hash`` is the SHA-256 of the ``state`` sent upstream, ``binding_hash`` that
    of a cookie set in the browser that started the trip (so a callback URL cannot be
    replayed in another browser: login CSRF). The PKCE verifier is sealed. ``purpose``
    is ``login``, or ``link`` for a signed-in person adding an identity on /account.
    """

    __tablename__ = "upstream_login_flows"
    __table_args__ = (Index("ix_upstream_login_flows_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    binding_hash: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[str] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(128))
    verifier_sealed: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(16), default="login")
    pending_id: Mapped[str | None] = mapped_column(String(64), default=None)
    return_to: Mapped[str | None] = mapped_column(String(2000), default=None)
    link_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None)
    force_login: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    consumed_at: Mapped[datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return f"UpstreamLoginFlow(id={self.id!r}, provider_id={self.provider_id!r})"
