"""What admins do to other people's accounts, with the scope rules written once.

* An organization admin sees the people of the organizations they administer; anyone
  else is "not found".
* Account-level changes (profile, disable, delete, password reset, unlock) touch
  every organization the person belongs to, so an organization admin may make them
  only when they administer all of those organizations; the superadmin always may.
* Only the superadmin acts on another superadmin or on an organization's owner (an
  admin who could reset the owner's password could take the organization); nobody
  disables or deletes themselves; an owner or the last admin is never deleted.

The host operator (the CLI) acts with ``host_actor()``: every organization, and
audit events that name no actor.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.password_change import reset_password_by_admin, temporary_password
from portico.accounts.passwords import PasswordPolicy
from portico.accounts.sessions import revoke_other_sessions
from portico.accounts.users import (
    clean_username,
    insert_user,
    normalise_email,
    prepare_user,
    username_key,
)
from portico.audit.recorder import record
from portico.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portico.orgs.access import named_org
from portico.orgs.memberships import Actor, check_role
from portico.storage.db import Database
from portico.storage.models import AccessToken, ApiKey, Membership, Organization, RefreshToken, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.orgs import ScopedOrganizations
from portico.storage.repositories.users import Organizations, ScopedUsers, UserFilter
from portico.storage.scope import OrgScope

PROFILE_FIELDS = ("username", "email", "name", "email_verified")


@dataclass(frozen=True)
class AccountView:
    """A person and their memberships in the caller's scope."""

    user: User
    memberships: list[tuple[Membership, Organization]]


@dataclass(frozen=True)
class CreatedAccount:
    """A new account; ``temporary_password`` is set (shown once) when none was given."""

    view: AccountView
    temporary_password: str | None

    def __repr__(self) -> str:
        return f"CreatedAccount(user={self.view.user!r})"


def host_actor() -> Actor:
    """The operator at the host's shell: every organization, no account of their own
    (``id`` None, so audit events record no actor and no self-check ever matches)."""
    operator = User(id=None, username="(host operator)", is_superadmin=True)
    return Actor(operator, OrgScope.everything())


def check_person_name(name: str | None) -> str | None:
    """A display name: trimmed, NFKC, at most 200 printable characters; blank clears it."""
    if name is None or not name.strip():
        return None
    value = unicodedata.normalize("NFKC", name.strip())
    if len(value) > 200 or any(unicodedata.category(c).startswith("C") for c in value):
        raise ValidationFailed("invalid name", {"name": "at most 200 printable characters"})
    return value


async def _home_org(session: AsyncSession, scope: OrgScope) -> Organization:
    """Where a new account goes when the request names no organization."""
    if scope.is_global:
        return await Organizations(session).default()
    assert scope.org_ids is not None
    if len(scope.org_ids) == 1:
        org = await session.get(Organization, next(iter(scope.org_ids)))
        if org is not None:
            return org
    raise ValidationFailed("organization required",
                           {"organization": "name the organization (id or slug)"})


async def _visible(session: AsyncSession, scope: OrgScope, user_id: str) -> User:
    user = await ScopedUsers(session, scope).get(user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


async def _manageable(session: AsyncSession, actor: Actor, user_id: str) -> User:
    """A visible user whose whole account the actor may change."""
    user = await _visible(session, actor.scope, user_id)
    if user.is_superadmin and not actor.scope.is_global:
        raise Forbidden("Only the superadmin may change a superadmin's account.")
    users = ScopedUsers(session, actor.scope)
    if await users.outside_scope(user.id):
        raise Forbidden("This account also belongs to organizations you do not administer.")
    if not actor.scope.is_global and user.id != actor.user.id and any(
            m.is_owner for m in await users.all_memberships(user.id)):
        # An admin who could reset the owner's password could take ownership with it.
        raise Forbidden("Only the superadmin may change an organization owner's account.")
    return user


async def _view(session: AsyncSession, scope: OrgScope, user: User) -> AccountView:
    found = await ScopedUsers(session, scope).memberships([user.id])
    return AccountView(user, found[user.id])


async def _audit(session: AsyncSession, actor: Actor, action: str, user: User,
                 **details: Any) -> None:
    """An account event, filed under the person's first organization."""
    memberships = await ScopedUsers(session, OrgScope.everything()).memberships([user.id])
    first = memberships[user.id]
    if actor.user.id is None:
        details["via"] = "cli"
    await record(session, action, actor_id=actor.user.id,
                 org_id=first[0][1].id if first else None, target=f"user:{user.id}",
                 ip=actor.ip, **details)


# --- reading ---------------------------------------------------------------------------


async def list_accounts(db: Database, scope: OrgScope, query: UserFilter, *,
                        after: tuple[datetime, str] | None, limit: int) -> list[AccountView]:
    """Up to ``limit`` visible accounts matching ``query`` after the cursor."""

    async def read(session: AsyncSession) -> list[AccountView]:
        users = ScopedUsers(session, scope)
        rows = await users.page(query, now=utcnow(), after=after, limit=limit)
        memberships = await users.memberships([u.id for u in rows])
        return [AccountView(u, memberships[u.id]) for u in rows]

    return await db.run(read)


async def account_filter(db: Database, scope: OrgScope, *, username: str | None = None,
                         email: str | None = None, organization: str | None = None,
                         role: str | None = None, disabled: bool | None = None,
                         locked: bool | None = None) -> UserFilter:
    """The repository filter for what an admin typed (an organization they do not
    administer is a 403)."""
    org_id = None
    if organization:

        async def find(session: AsyncSession) -> str:
            return (await named_org(session, scope, organization)).id

        org_id = await db.run(find)
    if role is not None:
        check_role(role)
    return UserFilter(username=username_key(username) if username and username.strip() else None,
                      email=email.strip().lower() if email and email.strip() else None,
                      org_id=org_id, role=role, disabled=disabled, locked=locked)


async def get_account(db: Database, scope: OrgScope, user_id: str) -> AccountView:

    async def read(session: AsyncSession) -> AccountView:
        return await _view(session, scope, await _visible(session, scope, user_id))

    return await db.run(read)


# --- creating and changing -----------------------------------------------------------


async def create_account(db: Database, actor: Actor, *, username: str, email: str,
                         password: str | None, policy: PasswordPolicy, rounds: int,
                         name: str | None = None, organization: str | None = None,
                         role: str = "member") -> CreatedAccount:
    """A new account in an organization the actor administers. Without a password a
    temporary one is generated (returned once) and must be changed at first sign-in.
    The first admin of an organization without an owner becomes its owner."""
    check_role(role)
    temporary = temporary_password(policy) if password is None else None
    new = await prepare_user(username=username, email=email, password=password or temporary,
                             policy=policy, rounds=rounds, name=check_person_name(name))

    async def write(session: AsyncSession) -> AccountView:
        org = (await named_org(session, actor.scope, organization) if organization
               else await _home_org(session, actor.scope))
        orgs = ScopedOrganizations(session, OrgScope.everything())
        await orgs.lock(org.id)
        user = await insert_user(session, new)
        user.must_change_password = temporary is not None
        owner = role == "admin" and await orgs.owner(org.id) is None
        membership = await orgs.add_member(org.id, user.id, role, owner=owner)
        await _audit(session, actor, "user.created", user, username=new.username, role=role,
                     forced_change=temporary is not None)
        return AccountView(user, [(membership, org)] if actor.scope.allows(org.id) else [])

    return CreatedAccount(await db.run(write), temporary)


async def update_account(db: Database, actor: Actor, user_id: str,
                         changes: dict[str, Any]) -> AccountView:
    """Change username, email, display name or ``email_verified``; 409 naming a field
    another account already uses. A new email is unverified unless said otherwise."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed("unknown field", {f: "cannot be changed here" for f in unknown})
    clean: dict[str, Any] = {}
    if "username" in changes:
        clean["username"] = clean_username(changes["username"])
    if "email" in changes:
        clean["email"] = normalise_email(changes["email"])
    if "name" in changes:
        clean["name"] = check_person_name(changes["name"])
    if "email_verified" in changes:
        clean["email_verified"] = bool(changes["email_verified"])

    async def write(session: AsyncSession) -> AccountView:
        user = await _manageable(session, actor, user_id)
        key = username_key(clean["username"]) if "username" in clean else None
        name_taken, email_taken = await ScopedUsers(session, actor.scope).taken_by_others(
            user.id, key, clean.get("email"))
        _refuse_taken(name_taken, email_taken)
        changed = _apply(user, clean, key)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:  # taken by a concurrent change since the check above
            _refuse_taken("username" in changed, "email" in changed)
            raise Conflict("the username or email is already in use") from None
        if changed:
            await _audit(session, actor, "user.updated", user, changed=changed)
        return await _view(session, actor.scope, user)

    return await db.run(write)


def _refuse_taken(name_taken: bool, email_taken: bool) -> None:
    fields = {}
    if name_taken:
        fields["username"] = "already taken"
    if email_taken:
        fields["email"] = "already registered"
    if fields:
        raise Conflict("the username or email is already in use", fields=fields)


def _apply(user: User, clean: dict[str, Any], key: str | None) -> list[str]:
    """Set the changed profile fields; the names of those that really changed."""
    changed: list[str] = []
    if "username" in clean and clean["username"] != user.username:
        user.username, user.username_key = clean["username"], key
        changed.append("username")
    if "email" in clean and clean["email"] != user.email:
        user.email = clean["email"]
        changed.append("email")
        if "email_verified" not in clean and user.email_verified:
            user.email_verified = False
            changed.append("email_verified")
    if "name" in clean and clean["name"] != user.name:
        user.name = clean["name"]
        changed.append("name")
    if "email_verified" in clean and clean["email_verified"] != user.email_verified:
        user.email_verified = clean["email_verified"]
        changed.append("email_verified")
    return changed


async def revoke_credentials(session: AsyncSession, user_id: str) -> dict[str, int]:
    """End everything that lets the person in: sessions, access and refresh tokens of
    every client, API keys. Counts, for the audit log."""
    now = utcnow()
    counts = {"session_count": await revoke_other_sessions(session, user_id, keep=None)}
    for label, model in (("token_count", AccessToken), ("refresh_count", RefreshToken),
                         ("api_key_count", ApiKey)):
        result = await session.execute(
            update(model).where(model.user_id == user_id, model.revoked_at.is_(None))
            .values(revoked_at=now).execution_options(synchronize_session=False))
        counts[label] = int(result.rowcount or 0)
    return counts


async def set_disabled(db: Database, actor: Actor, user_id: str,
                       disabled: bool) -> AccountView:
    """Disable (sign-in stops and every credential is revoked at once) or enable."""

    async def write(session: AsyncSession) -> AccountView:
        user = await _manageable(session, actor, user_id)
        if disabled and user.id == actor.user.id:
            raise Conflict("You cannot disable your own account.")
        if user.disabled != disabled:
            user.disabled = disabled
            details = await revoke_credentials(session, user.id) if disabled else {}
            await _audit(session, actor, "user.disabled" if disabled else "user.enabled",
                         user, **details)
        return await _view(session, actor.scope, user)

    return await db.run(write)


async def delete_account(db: Database, actor: Actor, user_id: str) -> None:
    """Delete an account and everything that hangs off it. Never oneself, never an
    organization's owner (transfer first) or last admin: the organizations are
    locked first, like every membership change, so concurrent deletions cannot
    take the last two admins at once."""

    async def write(session: AsyncSession) -> None:
        user = await _manageable(session, actor, user_id)
        if user.id == actor.user.id:
            raise Conflict("You cannot delete your own account.")
        users, orgs = ScopedUsers(session, actor.scope), ScopedOrganizations(
            session, OrgScope.everything())
        for membership in await users.all_memberships(user.id):
            await orgs.lock(membership.org_id)
        memberships = await users.all_memberships(user.id)  # as they are under the locks
        if any(m.is_owner for m in memberships):
            raise Conflict("This person owns an organization: transfer ownership first.")
        for m in memberships:
            if m.role == "admin" and await orgs.admin_count(m.org_id) <= 1:
                raise Conflict("This person is the last admin of an organization: "
                               "make someone else an admin first.")
        await _audit(session, actor, "user.deleted", user, username=user.username,
                     org_ids=[m.org_id for m in memberships])
        # Revoked, not just cascaded away, so the person's applications get their
        # back-channel logout notices (queued in this transaction, sent after it).
        await revoke_other_sessions(session, user.id, keep=None)
        await session.execute(delete(User).where(User.id == user.id)
                              .execution_options(synchronize_session=False))

    await db.run(write)


async def reset_password(db: Database, actor: Actor, user_id: str, *,
                         policy: PasswordPolicy, rounds: int) -> str:
    """A temporary password (returned once, must be changed at next sign-in); every
    session of the person ends and a lockout is lifted."""

    async def check(session: AsyncSession) -> None:
        await _manageable(session, actor, user_id)

    await db.run(check)
    return await reset_password_by_admin(db, user_id, actor.user.id, policy=policy,
                                         rounds=rounds, ip=actor.ip,
                                         via="cli" if actor.user.id is None else None)


async def unlock_account(db: Database, actor: Actor, user_id: str) -> AccountView:
    """Lift a sign-in lockout now."""

    async def write(session: AsyncSession) -> AccountView:
        user = await _manageable(session, actor, user_id)
        was_locked = user.locked_until is not None and user.locked_until > utcnow()
        user.failed_logins, user.locked_until = 0, None
        await _audit(session, actor, "account.unlocked", user, was_locked=was_locked)
        return await _view(session, actor.scope, user)

    return await db.run(write)
