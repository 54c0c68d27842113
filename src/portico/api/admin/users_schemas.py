"""Bodies and queries of the admin routes for users, organizations and memberships.

Length caps here only stop absurd input early; the domain owns the real rules
(username form, email syntax, password policy, slug form) and reports each field.
Unknown fields are refused (400 naming them) so a typo never silently does nothing.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from portico.accounts.admin_users import AccountView
from portico.api.admin.common import PageQuery
from portico.storage.models import Membership, Organization, User
from portico.storage.models.base import utcnow

Role = Literal["admin", "member"]
MAX_SETTINGS = 50
MAX_SETTINGS_BYTES = 8192
# Ids and slugs as Portico makes them; anything else cannot name a row.
REF_PATTERN = r"^[A-Za-z0-9_-]+$"


def _storable(value: Any) -> Any:
    """Refuse strings no database can store (lone UTF-16 surrogates, which JSON's
    ``\\ud800`` escapes can produce), anywhere in a field's value."""
    items = value.items() if isinstance(value, dict) else [(None, value)]
    for key, item in items:
        for text in (key, item):
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError("contains characters that are not valid Unicode") from None
    return value


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null")
    return value


def check_settings(value: Any) -> dict[str, Any]:
    """Organization preferences: a small flat object of JSON scalars."""
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    if len(value) > MAX_SETTINGS:
        raise ValueError(f"at most {MAX_SETTINGS} keys")
    for key, item in value.items():
        if not 1 <= len(key) <= 64 or not key.isprintable():
            raise ValueError("keys are 1 to 64 printable characters")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{key}: numbers must be finite")
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ValueError(f"{key}: values are strings, numbers, booleans or null")
        if isinstance(item, str) and "\x00" in item:
            raise ValueError(f"{key}: NUL characters are not allowed")
    if len(json.dumps(value)) > MAX_SETTINGS_BYTES:
        raise ValueError(f"at most {MAX_SETTINGS_BYTES} bytes as JSON")
    return dict(value)


class Strict(BaseModel):
    """A request body: unknown fields and unstorable text are refused, naming the field."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return _storable(value)


# --- users -------------------------------------------------------------------------------


class UserQuery(PageQuery):
    """Filters of ``GET /users``; text filters match anywhere, case-insensitively."""

    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(default=None, max_length=150)
    email: str | None = Field(default=None, max_length=320)
    organization: str | None = Field(default=None, max_length=100, pattern=REF_PATTERN,
                                     description="id or slug of an organization you administer")
    role: Role | None = None
    disabled: bool | None = None
    locked: bool | None = None


class NewUser(Strict):
    """An account made by an admin; without ``password`` a temporary one is generated,
    shown once in the answer, and must be changed at first sign-in."""

    username: str = Field(min_length=1, max_length=300)
    email: str = Field(min_length=1, max_length=320)
    password: str | None = Field(default=None, min_length=1, max_length=4096, repr=False)
    name: str | None = Field(default=None, max_length=400)
    organization: str | None = Field(
        default=None, max_length=100, pattern=REF_PATTERN,
        description="id or slug; default: the only organization you administer "
                    "(the default organization for the superadmin)")
    role: Role = "member"


class UserPatch(Strict):
    """Profile changes; absent fields stay as they are, ``name: null`` clears the name."""

    username: str | None = Field(default=None, min_length=1, max_length=300)
    email: str | None = Field(default=None, min_length=1, max_length=320)
    name: str | None = Field(default=None, max_length=400)
    email_verified: bool | None = None

    @field_validator("username", "email", "email_verified", mode="before")
    @classmethod
    def _no_nulls(cls, value: Any) -> Any:
        return _not_null(value)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class UserMembership(BaseModel):
    """An organization the person belongs to (one the caller administers)."""

    org_id: str
    slug: str
    role: str
    is_owner: bool


class AdminUser(BaseModel):
    """A person as an admin sees them. ``locked_until`` is set while a lockout is in force."""

    id: str
    username: str
    email: str
    email_verified: bool
    name: str | None
    disabled: bool
    locked_until: datetime | None
    must_change_password: bool
    is_superadmin: bool
    created_at: datetime
    memberships: list[UserMembership]

    @classmethod
    def of(cls, view: AccountView) -> AdminUser:
        user = view.user
        locked = user.locked_until if user.locked_until and user.locked_until > utcnow() else None
        return cls(id=user.id, username=user.username, email=user.email,
                   email_verified=user.email_verified, name=user.name, disabled=user.disabled,
                   locked_until=locked, must_change_password=user.must_change_password,
                   is_superadmin=user.is_superadmin, created_at=user.created_at,
                   memberships=[UserMembership(org_id=o.id, slug=o.slug, role=m.role,
                                               is_owner=m.is_owner)
                                for m, o in view.memberships])


class CreatedUser(AdminUser):
    """A new account; ``temporary_password`` is shown this once (null when one was given)."""

    temporary_password: str | None = Field(default=None, repr=False)


class UserPage(BaseModel):
    items: list[AdminUser]
    next_cursor: str | None


class TemporaryPassword(BaseModel):
    """Shown this once; the person must change it at their next sign-in."""

    temporary_password: str = Field(repr=False)
    must_change_password: bool = True


# --- organizations ---------------------------------------------------------------------


class OrganizationQuery(PageQuery):
    """``q`` matches the name or the slug."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(default=None, max_length=100)


class NewOrganization(Strict):
    """An organization (superadmin only); ``slug`` defaults to one made from the name."""

    name: str = Field(min_length=1, max_length=400)
    slug: str | None = Field(default=None, max_length=200)
    owner_id: str | None = Field(default=None, min_length=1, max_length=64,
                                 pattern=REF_PATTERN)
    settings: dict[str, Any] | None = None

    @field_validator("settings", mode="before")
    @classmethod
    def _settings(cls, value: Any) -> Any:
        return value if value is None else check_settings(value)


class OrganizationPatch(Strict):
    """Absent fields stay as they are; ``settings`` replaces the whole object."""

    name: str | None = Field(default=None, min_length=1, max_length=400)
    slug: str | None = Field(default=None, min_length=1, max_length=200)
    settings: dict[str, Any] | None = None

    @field_validator("name", "slug", "settings", mode="before")
    @classmethod
    def _no_nulls(cls, value: Any) -> Any:
        return _not_null(value)

    @field_validator("settings", mode="before")
    @classmethod
    def _settings(cls, value: Any) -> Any:
        return check_settings(value)


class OrganizationSummary(BaseModel):
    id: str
    slug: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, org: Organization) -> OrganizationSummary:
        return cls(id=org.id, slug=org.slug, name=org.name, created_at=org.created_at)


class OrganizationOut(OrganizationSummary):
    """One organization with its preferences and head counts."""

    settings: dict[str, Any]
    updated_at: datetime | None
    member_count: int
    admin_count: int
    owner_id: str | None


class OrganizationPage(BaseModel):
    items: list[OrganizationSummary]
    next_cursor: str | None


class OwnershipTransfer(Strict):
    """The member who becomes owner (and admin); the previous owner stays an admin."""

    user_id: str = Field(min_length=1, max_length=64, pattern=REF_PATTERN)


# --- memberships -----------------------------------------------------------------------


class NewMember(Strict):
    """Someone already visible to the caller (a member of another organization they
    administer; anyone, for the superadmin). Others join by invite."""

    user_id: str = Field(min_length=1, max_length=64, pattern=REF_PATTERN)
    role: Role = "member"


class RoleChange(Strict):
    role: Role


class MemberOut(BaseModel):
    user_id: str
    username: str
    email: str
    name: str | None
    disabled: bool
    role: str
    is_owner: bool
    joined_at: datetime

    @classmethod
    def of(cls, membership: Membership, user: User) -> MemberOut:
        return cls(user_id=user.id, username=user.username, email=user.email, name=user.name,
                   disabled=user.disabled, role=membership.role, is_owner=membership.is_owner,
                   joined_at=membership.created_at)


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None
