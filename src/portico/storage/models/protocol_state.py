"""Short-lived protocol state that must be shared by every instance: pushed
authorization requests, device authorizations, DPoP proof replay, initial access
tokens for dynamic registration, which clients took part in a session, and the
back-channel logout deliveries owed to them.

Secrets (request URIs, device codes, initial access tokens) are stored as SHA-256
only; single-use rows are consumed with a conditional UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portico.storage.models.base import Base, utcnow


class PushedAuthorizationRequest(Base):
    """RFC 9126: a validated authorization request, referenced by an opaque URI."""

    __tablename__ = "pushed_authorization_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ref_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class DeviceAuthorization(Base):
    """RFC 8628: one device's request, approved or denied on the ``/device`` page.

    ``status`` moves pending → approved | denied → issued; the token endpoint
    consumes an approved row once. ``last_polled_at`` enforces ``slow_down``.
    """

    __tablename__ = "device_authorizations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code: Mapped[str] = mapped_column(String(16), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(1000), default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None)
    session_id: Mapped[str | None] = mapped_column(String(32), default=None)
    org_id: Mapped[str | None] = mapped_column(String(32), default=None)
    auth_time: Mapped[datetime | None] = mapped_column(default=None)
    acr: Mapped[str | None] = mapped_column(String(100), default=None)
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    interval: Mapped[int] = mapped_column(Integer, default=5)
    last_polled_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    issued_at: Mapped[datetime | None] = mapped_column(default=None)


class DpopProof(Base):
    """A DPoP proof ``jti`` already accepted (RFC 9449 §11.1), kept until it expires."""

    __tablename__ = "dpop_proofs"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class InitialAccessToken(Base):
    """Gates dynamic client registration (RFC 7591 §3) when registration is not open."""

    __tablename__ = "initial_access_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Clients registered with this token belong to this organization.
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), default=None)
    description: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    max_uses: Mapped[int | None] = mapped_column(Integer, default=None)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class SessionClient(Base):
    """A client that received tokens in a browser session, so logout can reach it."""

    __tablename__ = "session_clients"

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LogoutDelivery(Base):
    """A back-channel logout token owed to a client, retried until delivered or expired.

    The token itself is signed at delivery time from these fields, so nothing replayable
    is stored.
    """

    __tablename__ = "logout_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[str | None] = mapped_column(String(32), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    abandoned_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
