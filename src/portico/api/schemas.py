"""Request and response bodies of ``/api/v1/auth``: pydantic models, so quart-schema
validates input (a 400 problem naming each field) and documents every route in the
OpenAPI document.

Length caps here only stop absurd input early; the domain services own the real
rules (username form, email syntax, password policy) and report them per field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from portico.storage.models import ApiKey, Membership, Organization, Session, User

# Generous on purpose: the password policy, not the schema, reports "at most 1024 bytes".
PASSWORD_FIELD = Field(min_length=1, max_length=4096, repr=False)


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: dict[str, Any] | None = None


# --- requests ----------------------------------------------------------------------


class NewAccount(BaseModel):
    """``setup`` and ``register``: the person's chosen username, email and password."""

    username: str = Field(min_length=1, max_length=300)
    email: str = Field(min_length=1, max_length=320)
    password: str = PASSWORD_FIELD
    name: str | None = Field(default=None, max_length=200)


class Registration(NewAccount):
    """``register``: a new account. ``invite_token`` (the last part of an invitation
    link) registers through that invite: the account gets the invited email (``email``
    may then be omitted) and joins the inviting organization. Otherwise, in
    multi-tenant mode, ``organization`` names the new organization the person will own.
    """

    email: str | None = Field(default=None, min_length=1, max_length=320)  # type: ignore[assignment]
    organization: str | None = Field(default=None, max_length=200)
    invite_token: str | None = Field(default=None, min_length=1, max_length=200)


class LoginRequest(BaseModel):
    """A username (or email) and password."""

    username: str = Field(min_length=1, max_length=320)
    password: str = PASSWORD_FIELD


class RefreshRequest(BaseModel):
    """The refresh token from ``login`` or the previous ``refresh``."""

    refresh_token: str = Field(min_length=1, max_length=4096)


class PasswordChange(BaseModel):
    """The current password (proof it is really the person) and the new one."""

    current_password: str = PASSWORD_FIELD
    new_password: str = PASSWORD_FIELD


class RecoverRequest(BaseModel):
    """A recovery key (``rk_…``) and the new password it sets."""

    recovery_key: str = Field(min_length=1, max_length=256)
    new_password: str = PASSWORD_FIELD


class ApiKeyRequest(BaseModel):
    """A new personal API key: a label, its access level and an optional expiry."""

    name: str = Field(min_length=1, max_length=100)
    access: Literal["read", "read_write"] = "read"
    expires_at: AwareDatetime | None = None


# --- responses ---------------------------------------------------------------------


class UserOut(BaseModel):
    """A person, as they may see themselves."""

    id: str
    username: str
    email: str
    email_verified: bool
    name: str | None
    must_change_password: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, username=user.username, email=user.email,
                   email_verified=user.email_verified, name=user.name,
                   must_change_password=user.must_change_password)


class MembershipOut(BaseModel):
    """One organization the person belongs to, and their role in it."""

    id: str
    slug: str
    name: str
    role: str
    owner: bool

    @classmethod
    def of(cls, membership: Membership, org: Organization) -> MembershipOut:
        return cls(id=org.id, slug=org.slug, name=org.name, role=membership.role,
                   owner=membership.is_owner)


class Caller(BaseModel):
    """How this request was authenticated."""

    via: str
    read_only: bool
    session_id: str | None
    api_key_id: str | None


class MeOut(BaseModel):
    """``GET /me``: the person, their organizations and roles, and the credential used."""

    user: UserOut
    organizations: list[MembershipOut]
    auth: Caller


class SessionOut(BaseModel):
    """A signed-in session (browser or API); ``current`` marks the caller's own."""

    id: str
    via: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool

    @classmethod
    def of(cls, row: Session, current_id: str | None) -> SessionOut:
        return cls(id=row.id, via=row.via, created_at=row.created_at,
                   last_seen_at=row.last_seen_at, expires_at=row.expires_at, ip=row.ip,
                   user_agent=row.user_agent, current=row.id == current_id)


class SessionList(BaseModel):
    """The person's live sessions, most recently used first."""

    sessions: list[SessionOut]


class TokenOut(BaseModel):
    """An access token (RFC 9068 JWT) and the rotating refresh token that renews it."""

    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    scope: str | None = None


class LoginOut(TokenOut):
    """``login``: tokens, the new session (also set as the cookie) and the person."""

    session: SessionOut
    user: UserOut


class PasswordChanged(BaseModel):
    """How many other sessions the change signed out."""

    other_sessions_revoked: int


class RecoveryKeyOut(BaseModel):
    """The new recovery key: shown this once, only its hash is kept."""

    recovery_key: str


class Recovered(BaseModel):
    """The password was reset; every session of the account was signed out."""

    password_reset: bool


class ApiKeyOut(BaseModel):
    """A personal API key as listed: its prefix identifies it, the secret is never shown."""

    id: str
    name: str
    prefix: str
    access: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyOut:
        return cls(id=row.id, name=row.name, prefix=row.prefix, access=row.access,
                   created_at=row.created_at, expires_at=row.expires_at,
                   last_used_at=row.last_used_at)


class ApiKeyCreated(ApiKeyOut):
    """A new key: ``key`` is the secret, shown this once."""

    key: str


class ApiKeyList(BaseModel):
    """The person's live API keys."""

    api_keys: list[ApiKeyOut]
