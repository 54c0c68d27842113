"""Bodies of ``/api/v1/admin/invites``. The raw token appears only inside ``link``, and
only where the route says so (creation, and the audited ``/link``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from portico.storage.models import Invite, Organization

Status = Literal["pending", "accepted", "cancelled", "expired"]


class InviteRequest(BaseModel):
    """Whom to invite, with which role, into which organization (id or slug; optional
    when the caller administers exactly one)."""

    email: str = Field(min_length=1, max_length=320)
    role: Literal["admin", "member"] = "member"
    organization: str | None = Field(default=None, max_length=64)


class InviteQuery(BaseModel):
    """Filters and cursor pagination for the invite list."""

    organization: str | None = Field(default=None, max_length=64)
    status: Status | None = None
    limit: int = 50
    cursor: str | None = Field(default=None, max_length=500)


class OrgRef(BaseModel):
    """The organization an invite is for."""

    id: str
    slug: str
    name: str


class InviteOut(BaseModel):
    """An invite as admins see it (never its token)."""

    id: str
    email: str
    role: str
    organization: OrgRef
    status: Status
    created_at: datetime
    expires_at: datetime
    emailed_at: datetime | None
    accepted_at: datetime | None
    accepted_by: str | None
    cancelled_at: datetime | None
    invited_by: str | None

    @classmethod
    def of(cls, invite: Invite, org: Organization, now: datetime) -> InviteOut:
        return cls(id=invite.id, email=invite.email, role=invite.role,
                   organization=OrgRef(id=org.id, slug=org.slug, name=org.name),
                   status=invite.status(now),  # type: ignore[arg-type]
                   created_at=invite.created_at, expires_at=invite.expires_at,
                   emailed_at=invite.emailed_at, accepted_at=invite.accepted_at,
                   accepted_by=invite.accepted_by, cancelled_at=invite.cancelled_at,
                   invited_by=invite.invited_by)


class InviteCreated(InviteOut):
    """A new invite: its ``link`` to share, and whether it was mailed (``warning`` says
    why not when sending failed)."""

    link: str
    emailed: bool
    warning: str | None = None


class InvitePage(BaseModel):
    """One page of invites; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[InviteOut]
    next_cursor: str | None


class InviteLink(BaseModel):
    """The invitation link of a pending invite."""

    link: str
