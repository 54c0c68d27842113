"""What a user granted: consents, authorization codes, access and refresh tokens.

Single-use rows are consumed with a conditional UPDATE (``used_at IS NULL``) and
kept afterwards, so a replay can find and revoke what the first use produced.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portico.storage.models.base import Base, utcnow


class Consent(Base):
    """Scopes a user approved for a client; a later request within them skips consent."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuthorizationCode(Base):
    """A code issued by /authorize; the row stores its hash and everything /token needs."""

    __tablename__ = "authorization_codes"
    __table_args__ = (Index("ix_authorization_codes_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # The organization the user acted in when this was issued (``organization`` scope).
    org_id: Mapped[str | None] = mapped_column(String(32), default=None)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(1000))
    nonce: Mapped[str | None] = mapped_column(String(500), default=None)
    code_challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    code_challenge_method: Mapped[str | None] = mapped_column(String(10), default=None)
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    auth_time: Mapped[datetime] = mapped_column()
    acr: Mapped[str | None] = mapped_column(String(100), default=None)
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    # RFC 8707 resources asked for at /authorize; RFC 9449 §10 ``dpop_jkt``.
    resource: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    dpop_jkt: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class AccessToken(Base):
    """The record behind a JWT access token, so revocation and introspection are exact."""

    __tablename__ = "access_tokens"
    __table_args__ = (Index("ix_access_tokens_expires_at", "expires_at"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    scope: Mapped[str] = mapped_column(String(1000), default="")
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    code_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    family_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    session_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # The organization the user acted in when this was issued (``organization`` scope).
    org_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # ``aud`` when narrowed by resource indicators (RFC 8707) or token exchange.
    audience: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # RFC 9449: the JWK thumbprint the token is bound to (``cnf.jkt``).
    cnf_jkt: Mapped[str | None] = mapped_column(String(64), default=None)
    # RFC 8693 §4.1: who acts on the subject's behalf (``act``).
    actor: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class RefreshToken(Base):
    """One link of a rotating refresh-token family; reuse of a rotated link kills the family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(1000))
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    code_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    session_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # The organization the user acted in when this was issued (``organization`` scope).
    org_id: Mapped[str | None] = mapped_column(String(32), default=None)
    auth_time: Mapped[datetime] = mapped_column()
    acr: Mapped[str | None] = mapped_column(String(100), default=None)
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    resource: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # RFC 9449 §5: a public client's refresh tokens are bound to its DPoP key.
    cnf_jkt: Mapped[str | None] = mapped_column(String(64), default=None)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class UsedAssertion(Base):
    """A client-assertion ``jti`` already seen (RFC 7523 §3: replay protection)."""

    __tablename__ = "used_assertions"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)
