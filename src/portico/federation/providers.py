"""Provider configuration: validated on save, secret sealed, every change audited and
the row's ``version`` bumped so every instance reopens its connector."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.crypto.secretbox import SecretBox
from portico.crypto.tokens import new_id
from portico.errors import Conflict, NotFound, ValidationFailed
from portico.federation.base import ProviderConfig
from portico.federation.kinds import Kind, get_kind
from portico.federation.mapping import merged, validate_mapping
from portico.orgs.memberships import check_slug
from portico.settings import is_loopback_url
from portico.storage.db import Database
from portico.storage.models import IdentityProvider, Organization
from portico.storage.repositories.federation import FederatedIdentities, Providers

_SCOPE = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]{1,100}$")  # RFC 6749 §3.3 scope-token
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
FIELDS = ("slug", "display_name", "icon", "kind", "issuer", "options", "client_id",
          "client_secret", "scopes", "claim_mapping", "email_domains", "org_id",
          "allow_signup", "trust_email_for_linking", "enabled")


def secret_place(provider_id: str) -> str:
    """AES-GCM associated data: the secret opens only in this row and column."""
    return f"identity_providers:{provider_id}:client_secret"


def check_url(value: str, field: str) -> str:
    """An absolute https URL (http only on loopback, for local upstreams and tests)."""
    from urllib.parse import urlsplit

    value = value.strip()
    parts = urlsplit(value)
    ok = (parts.scheme == "https" or (parts.scheme == "http" and is_loopback_url(value)))
    if not ok or not parts.hostname or parts.query or parts.fragment or len(value) > 1000:
        raise ValidationFailed("invalid URL", {
            field: "an absolute https URL without query or fragment (http only on loopback)"})
    return value.rstrip("/")


def _text(value: Any, field: str, limit: int, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed("missing value", {field: "required"})
        return None
    if not isinstance(value, str) or len(value.strip()) > limit or any(
            ord(c) < 0x20 for c in value):
        raise ValidationFailed("invalid value", {field: f"text of at most {limit} characters"})
    return value.strip()


def _scopes(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or len(value) > 30 or not all(
            isinstance(s, str) and _SCOPE.match(s) for s in value):
        raise ValidationFailed("invalid scopes", {"scopes": "a list of OAuth scope names"})
    return list(dict.fromkeys(value))


def _domains(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > 100:
        raise ValidationFailed("invalid domains", {"email_domains": "a list of domain names"})
    clean = [d.strip().lower().lstrip("@") for d in value if isinstance(d, str)]
    if len(clean) != len(value) or not all(_DOMAIN.match(d) for d in clean):
        raise ValidationFailed("invalid domains",
                               {"email_domains": "domain names such as example.com"})
    return list(dict.fromkeys(clean))


def _icon(value: Any) -> str | None:
    icon = _text(value, "icon", 500, required=False)
    # Pages allow images from this site only (CSP img-src 'self').
    if icon and (not icon.startswith("/static/") or ".." in icon or "\\" in icon):
        raise ValidationFailed("invalid icon", {"icon": "a path under /static/"})
    return icon


@dataclass(frozen=True)
class CheckedProvider:
    """Input after validation, ready to store or to open for a test."""

    values: dict[str, Any]
    kind: Kind

    def __repr__(self) -> str:
        return f"CheckedProvider(slug={self.values.get('slug')!r})"


def check_provider(data: Mapping[str, Any], current: IdentityProvider | None = None
                   ) -> CheckedProvider:
    """Validate a full configuration (a PATCH is first laid over ``current``)."""
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ValidationFailed("unknown fields", {f: "not a provider field" for f in unknown})
    base: dict[str, Any] = {}
    if current is not None:
        base = {f: getattr(current, f) for f in FIELDS if f != "client_secret"}
        if data.get("kind", current.kind) != current.kind:
            base["options"] = {}
    values = {**base, **data}
    kind = get_kind(str(values.get("kind") or ""))
    options = kind.check_options(values.get("options"))
    issuer = values.get("issuer")
    if issuer is not None:
        issuer = check_url(_text(issuer, "issuer", 1000) or "", "issuer")
    issuer = kind.effective_issuer(issuer, options)
    if kind.issuer == "required" and not issuer:
        raise ValidationFailed("missing issuer", {"issuer": f"required for {kind.title}"})
    mapping = validate_mapping(values.get("claim_mapping") or {})
    if "subject" not in merged(kind.default_mapping, mapping):
        raise ValidationFailed("invalid claim mapping",
                               {"claim_mapping.subject": "required: the upstream's stable id"})
    scopes = values.get("scopes")
    out = {
        "slug": check_slug(str(values.get("slug") or "")),
        "display_name": _text(values.get("display_name") or values.get("slug"),
                              "display_name", 200),
        "icon": _icon(values.get("icon")),
        "kind": kind.name,
        "issuer": issuer,
        "options": options,
        "client_id": _text(values.get("client_id"), "client_id", 500),
        "scopes": _scopes(scopes) if scopes else list(kind.default_scopes),
        "claim_mapping": mapping,
        "email_domains": _domains(values.get("email_domains") or []),
        "org_id": values.get("org_id") or None,
        "allow_signup": bool(values.get("allow_signup", False)),
        "trust_email_for_linking": bool(values.get("trust_email_for_linking", False)),
        "enabled": bool(values.get("enabled", True)),
    }
    if "client_secret" in data:
        out["client_secret"] = _text(data["client_secret"], "client_secret", 2000,
                                     required=False)
    return CheckedProvider(out, kind)


def provider_config(row: IdentityProvider, box: SecretBox, timeout: float) -> ProviderConfig:
    """Open a stored provider: unseal the secret for a connector."""
    secret = None
    if row.client_secret_sealed:
        secret = box.open(row.client_secret_sealed, secret_place(row.id)).decode()
    return ProviderConfig(
        id=row.id, slug=row.slug, display_name=row.display_name, kind=row.kind,
        version=row.version, issuer=row.issuer, options=dict(row.options),
        client_id=row.client_id, client_secret=secret, scopes=tuple(row.scopes),
        timeout=timeout)


def unsaved_config(checked: CheckedProvider, timeout: float) -> ProviderConfig:
    """A configuration that was never stored (``POST …/providers/test``)."""
    v = checked.values
    return ProviderConfig(
        id="unsaved", slug=v["slug"], display_name=v["display_name"], kind=v["kind"],
        version=0, issuer=v["issuer"], options=v["options"], client_id=v["client_id"],
        client_secret=v.get("client_secret"), scopes=tuple(v["scopes"]), timeout=timeout)


def admin_view(row: IdentityProvider) -> dict[str, Any]:
    """Everything an admin may read: the secret only as whether one is set."""
    return {
        "id": row.id, "slug": row.slug, "display_name": row.display_name, "icon": row.icon,
        "kind": row.kind, "issuer": row.issuer, "options": dict(row.options),
        "client_id": row.client_id, "has_client_secret": row.client_secret_sealed is not None,
        "scopes": list(row.scopes), "claim_mapping": dict(row.claim_mapping),
        "email_domains": list(row.email_domains), "org_id": row.org_id,
        "allow_signup": row.allow_signup,
        "trust_email_for_linking": row.trust_email_for_linking, "enabled": row.enabled,
        "version": row.version, "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def public_view(row: IdentityProvider) -> dict[str, Any]:
    """What anyone may know: enough to draw a button."""
    return {"slug": row.slug, "display_name": row.display_name, "icon": row.icon,
            "kind": row.kind,
            "start_url": f"/api/v1/external-auth/{row.slug}/start"}


def _summary(values: Mapping[str, Any]) -> dict[str, Any]:
    """Audit details: the changed field names and harmless values, never the secret."""
    shown = ("slug", "kind", "issuer", "enabled", "allow_signup", "trust_email_for_linking",
             "org_id")
    details: dict[str, Any] = {k: values[k] for k in shown if k in values}
    details["fields"] = sorted(k for k in values if k != "client_secret")
    if "client_secret" in values:
        details["credentials_changed"] = True
    return details


async def _check_org(session: AsyncSession, org_id: str | None) -> None:
    if org_id and await session.get(Organization, org_id) is None:
        raise ValidationFailed("unknown organization", {"org_id": "no such organization"})


async def create_provider(db: Database, box: SecretBox, data: Mapping[str, Any], *,
                          actor_id: str | None, ip: str | None = None,
                          via: str = "api") -> IdentityProvider:
    """Store a new provider; 409 naming ``slug`` when it is taken."""
    checked = check_provider(data)
    values = dict(checked.values)
    secret = values.pop("client_secret", None)

    async def write(session: AsyncSession) -> IdentityProvider:
        await _check_org(session, values["org_id"])
        repo = Providers(session)
        if await repo.slug_taken(values["slug"]):
            raise Conflict("the slug is taken", fields={"slug": "already taken"})
        row = IdentityProvider(id=new_id(), version=1, **values)
        if secret:
            row.client_secret_sealed = box.seal(secret.encode(), secret_place(row.id))
        try:
            async with session.begin_nested():
                await repo.add(row)
        except IntegrityError:
            raise Conflict("the slug is taken", fields={"slug": "already taken"}) from None
        await record(session, "provider.created", actor_id=actor_id, ip=ip,
                     target=f"provider:{row.id}", via=via, **_summary(checked.values))
        return row

    return await db.run(write)


async def update_provider(db: Database, box: SecretBox, provider_id: str,
                          changes: Mapping[str, Any], *, actor_id: str | None,
                          ip: str | None = None) -> IdentityProvider:
    """Apply a partial change; the version goes up so every instance reopens it."""

    async def write(session: AsyncSession) -> IdentityProvider:
        repo = Providers(session)
        row = await repo.get(provider_id)
        if row is None:
            raise NotFound("No such provider.")
        checked = check_provider(changes, current=row)
        values = dict(checked.values)
        await _check_org(session, values["org_id"])
        if values["slug"] != row.slug and await repo.slug_taken(values["slug"], row.id):
            raise Conflict("the slug is taken", fields={"slug": "already taken"})
        if "client_secret" in values:
            secret = values.pop("client_secret")
            row.client_secret_sealed = (
                box.seal(secret.encode(), secret_place(row.id)) if secret else None)
        for name, value in values.items():
            setattr(row, name, value)
        row.version = row.version + 1
        await session.flush()
        await record(session, "provider.updated", actor_id=actor_id, ip=ip,
                     target=f"provider:{row.id}", version=row.version,
                     **_summary({k: checked.values[k] for k in changes if k in checked.values}))
        return row

    return await db.run(write)


async def delete_provider(db: Database, provider_id: str, *, actor_id: str | None,
                          ip: str | None = None, via: str = "api") -> None:
    """Remove a provider with its links and flows; people keep their accounts."""

    async def write(session: AsyncSession) -> None:
        repo = Providers(session)
        row = await repo.get(provider_id)
        if row is None:
            raise NotFound("No such provider.")
        linked = await FederatedIdentities(session).count_for_provider(row.id)
        await repo.remove(row.id)
        await record(session, "provider.deleted", actor_id=actor_id, ip=ip,
                     target=f"provider:{row.id}", slug=row.slug, unlinked_identities=linked,
                     via=via)

    await db.run(write)


async def enabled_providers(db: Database) -> list[IdentityProvider]:
    """Enabled providers, for login buttons and home-realm discovery."""

    async def read(session: AsyncSession) -> list[IdentityProvider]:
        return await Providers(session).enabled()

    return await db.run(read)


def start_url(slug: str, **params: str | None) -> str:
    """Where a browser begins signing in with ``slug`` (empty parameters dropped)."""
    from urllib.parse import urlencode

    query = urlencode({k: v for k, v in params.items() if v})
    return f"/api/v1/external-auth/{slug}/start" + (f"?{query}" if query else "")


def provider_for_email(rows: list[IdentityProvider], email: str) -> IdentityProvider | None:
    """Home-realm discovery: the provider that lists this address's domain."""
    domain = email.strip().lower().rsplit("@", 1)[-1] if "@" in email else ""
    return next((r for r in rows if domain and domain in r.email_domains), None)
