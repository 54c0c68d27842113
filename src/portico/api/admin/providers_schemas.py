"""Bodies of ``/api/v1/admin/external-auth``. The client secret is write-only: it is
accepted (masked in every repr) and never answered, only ``has_client_secret``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from portico.federation.base import Check


class ProviderFields(BaseModel):
    """What a provider is made of; on PATCH every field is optional."""

    model_config = ConfigDict(extra="forbid")

    slug: str | None = Field(default=None, max_length=64)
    display_name: str | None = Field(default=None, max_length=200)
    icon: str | None = Field(default=None, max_length=500)
    kind: str | None = Field(default=None, max_length=32)
    issuer: str | None = Field(default=None, max_length=1000)
    options: dict[str, Any] | None = None
    client_id: str | None = Field(default=None, max_length=500)
    client_secret: SecretStr | None = Field(default=None, max_length=2000)
    scopes: list[str] | None = Field(default=None, max_length=30)
    claim_mapping: dict[str, Any] | None = None
    email_domains: list[str] | None = Field(default=None, max_length=100)
    org_id: str | None = Field(default=None, max_length=32)
    allow_signup: bool | None = None
    trust_email_for_linking: bool | None = None
    enabled: bool | None = None

    def values(self) -> dict[str, Any]:
        """The fields that were sent, the secret unwrapped for the domain service."""
        data = self.model_dump(exclude_unset=True)
        if "client_secret" in data:
            secret = self.client_secret
            data["client_secret"] = secret.get_secret_value() if secret else None
        return data


class NewProvider(ProviderFields):
    """A new provider: ``slug``, ``kind`` and ``client_id`` are required; ``issuer``
    for kinds that need one (see ``/provider-kinds``)."""

    slug: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=32)
    client_id: str = Field(min_length=1, max_length=500)


class ProviderOut(BaseModel):
    """A provider as admins see it."""

    id: str
    slug: str
    display_name: str
    icon: str | None
    kind: str
    issuer: str | None
    options: dict[str, Any]
    client_id: str
    has_client_secret: bool
    scopes: list[str]
    claim_mapping: dict[str, Any]
    email_domains: list[str]
    org_id: str | None
    allow_signup: bool
    trust_email_for_linking: bool
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ProviderPage(BaseModel):
    items: list[ProviderOut]
    next_cursor: str | None


class CheckOut(BaseModel):
    """One check: ``ok`` is null when the upstream does not let it be told."""

    name: str
    ok: bool | None
    message: str

    @classmethod
    def of(cls, check: Check) -> CheckOut:
        return cls(name=check.name, ok=check.ok, message=check.message)


class TestReport(BaseModel):
    """``ok`` is false when any check failed."""

    ok: bool
    checks: list[CheckOut]


class MappingPreviewIn(BaseModel):
    """A sample claims document, and optionally a mapping to try instead of the saved
    one (it is validated, not saved)."""

    model_config = ConfigDict(extra="forbid")

    claims: dict[str, Any]
    claim_mapping: dict[str, Any] | None = None


class MappedOut(BaseModel):
    subject: str | None
    username: str | None
    email: str | None
    email_verified: bool
    name: str | None
    profile: dict[str, str]


class MappingPreviewOut(BaseModel):
    """What the mapping (the kind's preset, overridden by the provider's) produced."""

    attributes: MappedOut
    mapping: dict[str, Any]


class KindOut(BaseModel):
    name: str
    title: str
    description: str
    issuer: str
    default_issuer: str | None
    default_scopes: list[str]
    default_mapping: dict[str, Any]
    options_schema: dict[str, Any]


class KindList(BaseModel):
    items: list[KindOut]
