"""Bodies of the admin routes for initial access tokens (dynamic client registration).

No response model but the creation answer has a field for the token: it is shown once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from portico.api.admin.common import PageQuery
from portico.storage.models import InitialAccessToken


class NewRegistrationToken(BaseModel):
    """An initial access token (RFC 7591 §3). Clients registered with it belong to
    ``organization`` (id or slug; an admin of one organization may omit it, the
    superadmin omitting it makes clients of no organization)."""

    model_config = ConfigDict(extra="forbid")

    organization: str | None = Field(default=None, max_length=100)
    description: str = Field(default="", max_length=200)
    expires_in: int | None = Field(default=None, ge=60, le=366 * 86400,
                                   description="seconds; omitted: never expires")
    max_uses: int | None = Field(default=None, ge=1, le=1_000_000,
                                 description="registrations allowed; omitted: unlimited")


class RegistrationTokenQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")

    organization: str | None = Field(default=None, max_length=100,
                                     description="id or slug of an organization you administer")


class RegistrationTokenOut(BaseModel):
    """An initial access token's facts; the token itself is never shown again."""

    id: str
    organization_id: str | None
    description: str
    max_uses: int | None
    uses: int
    status: Literal["active", "revoked", "expired", "used_up"]
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: InitialAccessToken, status: str) -> RegistrationTokenOut:
        return cls(id=row.id, organization_id=row.org_id, description=row.description,
                   max_uses=row.max_uses, uses=row.uses, status=status,  # type: ignore[arg-type]
                   created_by=row.created_by, created_at=row.created_at,
                   expires_at=row.expires_at, revoked_at=row.revoked_at)


class RegistrationTokenCreated(RegistrationTokenOut):
    """The new token: send it as ``Authorization: Bearer …`` to ``/connect/register``.
    Shown this once."""

    token: str = Field(repr=False)


class RegistrationTokenPage(BaseModel):
    items: list[RegistrationTokenOut]
    next_cursor: str | None
