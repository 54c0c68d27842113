"""Authorization requests waiting for the person to sign in or consent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portico.storage.models.base import Base, utcnow


class PendingAuthorization(Base):
    """A validated /authorize request parked in the database, not in any process.

    ``login_session_id`` is set by a successful login made for this request, which
    is what satisfies ``prompt=login`` and ``max_age``; ``consented_at`` by approval.
    The row is completed once, atomically, when the code is issued.
    """

    __tablename__ = "pending_authorizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    login_session_id: Mapped[str | None] = mapped_column(String(32), default=None)
    consented_at: Mapped[datetime | None] = mapped_column(default=None)
    denied_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
