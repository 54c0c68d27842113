"""From an upstream identity to a Portico user: returning, provisioned just in time,
or linked to an existing account — only by an email the upstream verified, and only
when the provider is trusted for that (else the person links it from /account,
signed in, which proves they own both).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.users import NewUser, clean_username, insert_user, normalise_email
from portico.accounts.users import username_key as key_of
from portico.audit.recorder import record
from portico.crypto.tokens import new_id
from portico.errors import Conflict, ValidationFailed
from portico.federation.base import UpstreamError
from portico.federation.mapping import MappedAttributes
from portico.storage.models import FederatedIdentity, IdentityProvider, Organization, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.federation import FederatedIdentities
from portico.storage.repositories.users import Organizations, Users

_USERNAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class LinkRequired(UpstreamError):
    """An account with this email exists but may not be linked automatically."""

    def __init__(self, provider: str) -> None:
        super().__init__(
            "link_required",
            f"An account with the email address from {provider} already exists here. "
            f"Sign in to it the usual way, then link {provider} from your account page.")


@dataclass(frozen=True)
class Resolved:
    """The user an upstream identity signs in, and how it was found."""

    user: User
    how: str  # returning | signup | linked


def _email(mapped: MappedAttributes) -> str | None:
    if not mapped.email:
        return None
    try:
        return normalise_email(mapped.email)
    except ValidationFailed:
        return None


def domain_allowed(provider: IdentityProvider, email: str | None) -> bool:
    """A provider that lists domains accepts new people from those domains only."""
    if not provider.email_domains:
        return True
    return email is not None and email.rsplit("@", 1)[-1] in provider.email_domains


async def _free_username(users: Users, mapped: MappedAttributes, email: str) -> str:
    wanted = _USERNAME_CHARS.sub("-", mapped.username or email.split("@")[0]).strip("-._")
    base = wanted[:40] or "user"
    for attempt in range(6):
        candidate = base if attempt == 0 else f"{base}-{secrets.token_hex(2)}"
        try:
            candidate = clean_username(candidate)
        except ValidationFailed:
            candidate = f"user-{secrets.token_hex(3)}"
        if await users.session.scalar(select(User.id).where(
                User.username_key == key_of(candidate))) is None:
            return candidate
    return f"user-{secrets.token_hex(6)}"


async def _add_identity(session: AsyncSession, provider: IdentityProvider,
                        mapped: MappedAttributes, user: User, email: str | None) -> None:
    assert mapped.subject
    now = utcnow()
    await FederatedIdentities(session).add(FederatedIdentity(
        id=new_id(), provider_id=provider.id, subject=mapped.subject[:255], user_id=user.id,
        email=email, created_at=now, last_login_at=now))


async def _provision(session: AsyncSession, provider: IdentityProvider,
                     mapped: MappedAttributes, email: str, ip: str | None) -> User:
    users = Users(session)
    username = await _free_username(users, mapped, email)
    name = mapped.name[:200] if mapped.name else None
    new = NewUser(username, key_of(username), email, None, name, mapped.email_verified)
    try:
        user = await insert_user(session, new)
    except Conflict:
        raise LinkRequired(provider.display_name) from None
    user.profile = dict(mapped.profile)
    orgs = Organizations(session)
    org = (await session.get(Organization, provider.org_id) if provider.org_id else None) \
        or await orgs.default()
    await orgs.add_member(org, user, "member")
    await record(session, "user.created", actor_id=user.id, org_id=org.id,
                 target=f"user:{user.id}", ip=ip, username=username, role="member",
                 via="federation", provider=provider.slug)
    return user


async def resolve(session: AsyncSession, provider: IdentityProvider, mapped: MappedAttributes,
                  *, ip: str | None = None) -> Resolved:
    """The user for this identity, creating or linking per the provider's rules, in the
    caller's transaction (so nothing is half-created when a later step fails)."""
    assert mapped.subject
    name = provider.display_name
    identity = await FederatedIdentities(session).find(provider.id, mapped.subject[:255])
    if identity is not None:
        user = await Users(session).get(identity.user_id)
        if user is None or user.disabled:
            raise UpstreamError("account_disabled", "This account is disabled.")
        identity.last_login_at = utcnow()
        return Resolved(user, "returning")
    email = _email(mapped)
    existing = await session.scalar(select(User).where(User.email == email)) if email else None
    if existing is not None:
        if not (mapped.email_verified and provider.trust_email_for_linking
                and domain_allowed(provider, email)):
            raise LinkRequired(name)
        if existing.disabled:
            raise UpstreamError("account_disabled", "This account is disabled.")
        await _add_identity(session, provider, mapped, existing, email)
        await record(session, "federation.linked", actor_id=existing.id, ip=ip,
                     target=f"user:{existing.id}", provider=provider.slug, how="verified_email")
        return Resolved(existing, "linked")
    if not provider.allow_signup:
        raise UpstreamError(
            "signup_disabled",
            f"No account here is linked to this {name} account, and new accounts cannot be "
            f"created through {name}. Sign in the usual way and link {name} from your "
            "account page, or ask an administrator for an invitation.")
    if email is None:
        raise UpstreamError("no_email", f"{name} did not share an email address, which a new "
                            "account needs.")
    if not domain_allowed(provider, email):
        raise UpstreamError("domain_not_allowed",
                            f"Accounts from {email.rsplit('@', 1)[-1]} cannot sign up "
                            f"through {name}.")
    user = await _provision(session, provider, mapped, email, ip)
    await _add_identity(session, provider, mapped, user, email)
    return Resolved(user, "signup")


async def link_to(session: AsyncSession, provider: IdentityProvider, mapped: MappedAttributes,
                  user_id: str, *, ip: str | None = None) -> None:
    """Link an identity to a signed-in person (from /account)."""
    assert mapped.subject
    identity = await FederatedIdentities(session).find(provider.id, mapped.subject[:255])
    if identity is not None:
        if identity.user_id != user_id:
            raise UpstreamError("identity_taken",
                                f"This {provider.display_name} account is already linked to "
                                "another account here.")
        return
    user = await Users(session).get(user_id)
    if user is None or user.disabled:
        raise UpstreamError("account_disabled", "This account is disabled.")
    await _add_identity(session, provider, mapped, user, _email(mapped))
    await record(session, "federation.linked", actor_id=user_id, ip=ip,
                 target=f"user:{user_id}", provider=provider.slug, how="account_page")
