"""Bodies and queries of the admin routes for clients, signing keys, the audit log and the
authentication policy.

Caps here only stop absurd input early; ``portico.clients`` and ``portico.policy`` own
the rules and name the field at fault. Unknown fields are refused (400 naming them), so a
typo never silently does nothing. No response model has a field for a stored secret: a
client secret appears only in the answer that issues it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from portico.api.admin.common import PageQuery
from portico.clients import public_jwks
from portico.policy import POLICY_FIELDS, PolicyEntry, field_type
from portico.settings import Settings
from portico.storage.models import AuditEvent, Client, SigningKey

AuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
GrantType = Literal["authorization_code", "refresh_token", "client_credentials",
                    "urn:ietf:params:oauth:grant-type:device_code",
                    "urn:ietf:params:oauth:grant-type:token-exchange"]
Alg = Literal["RS256", "ES256", "EdDSA"]  # crypto.signing_keys.SUPPORTED_ALGS
Uris = list[str]
# crypto.jwe.KEY_ALGS / CONTENT_ENCS; request_object.REQUEST_OBJECT_ALGS
JweAlg = Literal["RSA-OAEP", "RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A256KW"]
JweEnc = Literal["A128CBC-HS256", "A256CBC-HS512", "A128GCM", "A256GCM"]
RequestObjectAlg = Literal["none", "RS256", "PS256", "ES256", "EdDSA"]
RequestObjectSignedAlg = Literal["RS256", "PS256", "ES256", "EdDSA"]  # request_object.SIGNED_ALGS
SubjectType = Literal["public", "pairwise"]
# protocol.authorize.response.RESPONSE_TYPES
ResponseType = Literal["code", "id_token", "id_token token", "code id_token", "code token",
                       "code id_token token"]
URI_LIST = Field(default_factory=list, max_length=50)


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- clients -----------------------------------------------------------------------------


class ClientQuery(PageQuery):
    """Filters of ``GET /clients``."""

    model_config = ConfigDict(extra="forbid")

    organization: str | None = Field(default=None, max_length=100,
                                     description="id or slug of an organization you administer")


class NewClient(Strict):
    """A relying party. ``organization`` (id or slug) may be omitted by an admin of exactly
    one organization, and by the superadmin for an instance-wide client."""

    organization: str | None = Field(default=None, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    redirect_uris: Uris = URI_LIST
    post_logout_redirect_uris: Uris = URI_LIST
    grant_types: list[GrantType] | None = Field(
        default=None, max_length=5,
        description="default: authorization_code, refresh_token")
    token_endpoint_auth_method: AuthMethod = "client_secret_basic"
    scope: str = Field(default="", max_length=1000,
                       description="allowed scopes, space-separated; empty: all supported")
    id_token_signed_response_alg: Alg = "RS256"
    userinfo_signed_response_alg: Alg | None = None
    access_token_signed_response_alg: Alg | None = Field(
        default=None, description="JWS algorithm of its RFC 9068 access tokens; null: RS256")
    jwks: dict[str, Any] | None = Field(default=None,
                                        description="public JWK Set (private_key_jwt)")
    jwks_uri: str | None = Field(default=None, max_length=1000)
    first_party: bool = Field(default=False,
                              description="skip consent; the instance's superadmin only")
    backchannel_logout_uri: str | None = Field(
        default=None, max_length=1000,
        description="where logout tokens are POSTed (OIDC Back-Channel Logout 1.0)")
    backchannel_logout_session_required: bool = False
    frontchannel_logout_uri: str | None = Field(
        default=None, max_length=1000,
        description="loaded in an iframe at sign-out (OIDC Front-Channel Logout 1.0); same "
                    "scheme, host and port as a redirect URI")
    frontchannel_logout_session_required: bool = Field(
        default=False, description="add iss and sid to the frontchannel_logout_uri")
    request_object_signing_alg: RequestObjectAlg | None = None
    subject_type: SubjectType = Field(
        default="public", description="pairwise: a different sub per sector (OIDC Core §8)")
    sector_identifier_uri: str | None = Field(
        default=None, max_length=1000,
        description="its host is the pairwise sector (not fetched on this route)")
    id_token_encrypted_response_alg: JweAlg | None = None
    id_token_encrypted_response_enc: JweEnc | None = Field(
        default=None, description="default A128CBC-HS256 when the alg is set")
    userinfo_encrypted_response_alg: JweAlg | None = None
    userinfo_encrypted_response_enc: JweEnc | None = None
    extra_metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="RFC 7591 display and behaviour metadata: client_uri, logo_uri, "
                    "policy_uri, tos_uri (and #lang variants, also client_name#lang), "
                    "contacts, initiate_login_uri, default_max_age, require_auth_time, "
                    "application_type, software_id, software_version")
    response_types: list[ResponseType] | None = Field(
        default=None, max_length=6,
        description="default: code; implicit and hybrid types put tokens in the browser")
    authorization_signed_response_alg: Alg | None = Field(
        default=None, description="JARM response signing; null: RS256")
    authorization_encrypted_response_alg: JweAlg | None = None
    authorization_encrypted_response_enc: JweEnc | None = None
    require_pushed_authorization_requests: bool = Field(
        default=False, description="authorization requests only through /par (RFC 9126)")
    dpop_bound_access_tokens: bool = Field(
        default=False, description="every token request must carry a DPoP proof (RFC 9449)")
    token_endpoint_auth_signing_alg: RequestObjectSignedAlg | None = Field(
        default=None, description="the only algorithm its private_key_jwt assertions may use")


class ClientPatch(Strict):
    """Fields to change; the others keep their value. The organization cannot change."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    redirect_uris: Uris | None = Field(default=None, max_length=50)
    post_logout_redirect_uris: Uris | None = Field(default=None, max_length=50)
    grant_types: list[GrantType] | None = Field(default=None, max_length=5)
    token_endpoint_auth_method: AuthMethod | None = None
    scope: str | None = Field(default=None, max_length=1000)
    id_token_signed_response_alg: Alg | None = None
    userinfo_signed_response_alg: Alg | None = None
    access_token_signed_response_alg: Alg | None = None
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = Field(default=None, max_length=1000)
    first_party: bool | None = None
    backchannel_logout_uri: str | None = Field(default=None, max_length=1000)
    backchannel_logout_session_required: bool | None = None
    frontchannel_logout_uri: str | None = Field(default=None, max_length=1000)
    frontchannel_logout_session_required: bool | None = None
    request_object_signing_alg: RequestObjectAlg | None = None
    subject_type: SubjectType | None = None
    sector_identifier_uri: str | None = Field(default=None, max_length=1000)
    id_token_encrypted_response_alg: JweAlg | None = None
    id_token_encrypted_response_enc: JweEnc | None = None
    userinfo_encrypted_response_alg: JweAlg | None = None
    userinfo_encrypted_response_enc: JweEnc | None = None
    extra_metadata: dict[str, Any] | None = None
    response_types: list[ResponseType] | None = Field(default=None, max_length=6)
    authorization_signed_response_alg: Alg | None = None
    authorization_encrypted_response_alg: JweAlg | None = None
    authorization_encrypted_response_enc: JweEnc | None = None
    require_pushed_authorization_requests: bool | None = None
    dpop_bound_access_tokens: bool | None = None
    token_endpoint_auth_signing_alg: RequestObjectSignedAlg | None = None

    @field_validator("name", "redirect_uris", "post_logout_redirect_uris", "grant_types",
                     "token_endpoint_auth_method", "scope", "id_token_signed_response_alg",
                     "first_party", "backchannel_logout_session_required",
                     "frontchannel_logout_session_required", "subject_type", "extra_metadata",
                     "response_types", "require_pushed_authorization_requests",
                     "dpop_bound_access_tokens")
    @classmethod
    def _required(cls, value: Any) -> Any:
        return _not_null(value)

    def changes(self) -> dict[str, Any]:
        """Only what the request named (``null`` clears the nullable fields)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ClientOut(BaseModel):
    """A client as admins see it; the secret is never part of it."""

    client_id: str
    organization_id: str | None
    name: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    grant_types: list[str]
    token_endpoint_auth_method: str
    public: bool
    scope: str
    id_token_signed_response_alg: str
    userinfo_signed_response_alg: str | None
    access_token_signed_response_alg: str | None
    jwks: dict[str, Any] | None
    jwks_uri: str | None
    first_party: bool
    backchannel_logout_uri: str | None
    backchannel_logout_session_required: bool
    frontchannel_logout_uri: str | None
    frontchannel_logout_session_required: bool
    request_object_signing_alg: str | None
    subject_type: str
    sector_identifier_uri: str | None
    id_token_encrypted_response_alg: str | None
    id_token_encrypted_response_enc: str | None
    userinfo_encrypted_response_alg: str | None
    userinfo_encrypted_response_enc: str | None
    extra_metadata: dict[str, Any]
    response_types: list[str]
    authorization_signed_response_alg: str | None
    authorization_encrypted_response_alg: str | None
    authorization_encrypted_response_enc: str | None
    require_pushed_authorization_requests: bool
    dpop_bound_access_tokens: bool
    token_endpoint_auth_signing_alg: str | None
    dynamically_registered: bool = Field(
        description="registered through /connect/register (RFC 7591)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, c: Client) -> ClientOut:
        return cls(client_id=c.id, organization_id=c.org_id, name=c.name,
                   redirect_uris=list(c.redirect_uris), public=c.is_public,
                   post_logout_redirect_uris=list(c.post_logout_redirect_uris),
                   grant_types=list(c.grant_types),
                   token_endpoint_auth_method=c.token_endpoint_auth_method, scope=c.scope,
                   id_token_signed_response_alg=c.id_token_signed_response_alg,
                   userinfo_signed_response_alg=c.userinfo_signed_response_alg,
                   access_token_signed_response_alg=c.access_token_signed_response_alg,
                   jwks=public_jwks(c.jwks), jwks_uri=c.jwks_uri, first_party=c.first_party,
                   backchannel_logout_uri=c.backchannel_logout_uri,
                   backchannel_logout_session_required=c.backchannel_logout_session_required,
                   frontchannel_logout_uri=c.frontchannel_logout_uri,
                   frontchannel_logout_session_required=c.frontchannel_logout_session_required,
                   request_object_signing_alg=c.request_object_signing_alg,
                   subject_type=c.subject_type, sector_identifier_uri=c.sector_identifier_uri,
                   id_token_encrypted_response_alg=c.id_token_encrypted_response_alg,
                   id_token_encrypted_response_enc=c.id_token_encrypted_response_enc,
                   userinfo_encrypted_response_alg=c.userinfo_encrypted_response_alg,
                   userinfo_encrypted_response_enc=c.userinfo_encrypted_response_enc,
                   extra_metadata=dict(c.extra_metadata or {}),
                   response_types=list(c.response_types or ["code"]),
                   authorization_signed_response_alg=c.authorization_signed_response_alg,
                   authorization_encrypted_response_alg=c.authorization_encrypted_response_alg,
                   authorization_encrypted_response_enc=c.authorization_encrypted_response_enc,
                   require_pushed_authorization_requests=c.require_pushed_authorization_requests,
                   dpop_bound_access_tokens=c.dpop_bound_access_tokens,
                   token_endpoint_auth_signing_alg=c.token_endpoint_auth_signing_alg,
                   dynamically_registered=c.registration_access_token_hash is not None,
                   created_at=c.created_at, updated_at=c.updated_at)


class ClientCreated(ClientOut):
    """A new or changed client; ``client_secret`` is shown this once (null when the
    client authenticates without one, or when a change issued none)."""

    client_secret: str | None = Field(default=None, repr=False)


class ClientSecret(BaseModel):
    """The new secret, shown this once; the previous one no longer works."""

    client_id: str
    client_secret: str = Field(repr=False)


class ClientPage(BaseModel):
    items: list[ClientOut]
    next_cursor: str | None


# --- signing keys ------------------------------------------------------------------------


class KeyRotation(Strict):
    """Which algorithms to rotate; all of them when omitted (an empty body works too)."""

    algs: list[Alg] | None = Field(default=None, min_length=1, max_length=3)


class KeyOut(BaseModel):
    """A signing key's public facts; private material never leaves the database."""

    kid: str
    alg: str
    status: Literal["next", "active", "retired"]
    created_at: datetime
    activated_at: datetime | None
    retired_at: datetime | None
    expires_at: datetime | None = Field(
        description="retired keys: when they leave the JWKS (every token they signed expired)")

    @classmethod
    def of(cls, k: SigningKey) -> KeyOut:
        return cls(kid=k.kid, alg=k.alg, status=k.status,  # type: ignore[arg-type]
                   created_at=k.created_at, activated_at=k.activated_at,
                   retired_at=k.retired_at, expires_at=k.expires_at)


class KeyPage(BaseModel):
    items: list[KeyOut]
    next_cursor: str | None


# --- audit -------------------------------------------------------------------------------


class AuditQuery(PageQuery):
    """Filters of ``GET /audit``; ``since`` and ``until`` are RFC 3339 and inclusive."""

    model_config = ConfigDict(extra="forbid")

    actor: str | None = Field(default=None, max_length=64, description="user id")
    organization: str | None = Field(default=None, max_length=100, description="id or slug")
    action: str | None = Field(default=None, max_length=64,
                               description="exact, or a prefix ending in * (login.*)")
    outcome: str | None = Field(default=None, max_length=16)
    since: str | None = Field(default=None, max_length=40,
                              description="RFC 3339, e.g. 2025-01-31T00:00:00Z")
    until: str | None = Field(default=None, max_length=40)


class AuditOut(BaseModel):
    """One event; ``details`` were redacted before they were stored."""

    id: int
    at: datetime
    action: str
    outcome: str
    actor_id: str | None
    organization_id: str | None
    target: str | None
    ip: str | None
    user_agent: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, e: AuditEvent) -> AuditOut:
        return cls(id=e.id, at=e.at, action=e.action, outcome=e.outcome, actor_id=e.actor_id,
                   organization_id=e.org_id, target=e.target, ip=e.ip,
                   user_agent=e.user_agent, details=dict(e.details or {}))


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None


# --- authentication policy ---------------------------------------------------------------


class PolicyField(BaseModel):
    """A policy value in force and where it comes from; ``configured`` is what a reset
    (``null``) goes back to."""

    value: Any
    source: Literal["configuration", "admin"]
    configured: Any
    updated_at: datetime | None
    updated_by: str | None


class PolicyOut(BaseModel):
    fields: dict[str, PolicyField]

    @classmethod
    def of(cls, entries: list[PolicyEntry]) -> PolicyOut:
        return cls(fields={e.name: PolicyField(
            value=e.value, source=e.source,  # type: ignore[arg-type]
            configured=e.configured, updated_at=e.updated_at, updated_by=e.updated_by)
            for e in entries})


def _policy_patch() -> type[BaseModel]:
    """``PATCH /policy``: every policy field, optional, with the type and bounds of its
    setting (so OpenAPI documents them); ``null`` resets a field to configuration."""
    specs: dict[str, Any] = {
        name: (field_type(name) | None,
               Field(default=None, description=Settings.model_fields[name].description))
        for name in POLICY_FIELDS
    }
    return create_model(  # type: ignore[call-overload, no-any-return]
        "PolicyPatch", __config__=ConfigDict(extra="forbid", strict=True),
        __doc__=_policy_patch.__doc__, **specs)


PolicyPatch = _policy_patch()
