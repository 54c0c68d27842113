"""Creating people and checking their passwords.

Usernames are NFKC-normalised and compared case-insensitively; emails are trimmed
and lowercased (SPEC, domain rules).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.passwords import PasswordPolicy, hash_password
from portico.audit.recorder import record
from portico.crypto.tokens import new_id
from portico.errors import Conflict, ValidationFailed
from portico.storage.db import Database
from portico.storage.models import User
from portico.storage.repositories.orgs import ScopedOrganizations
from portico.storage.repositories.users import Organizations, Users
from portico.storage.scope import OrgScope

ROLES = ("admin", "member")


def username_key(username: str) -> str:
    """The comparison form of a username."""
    return unicodedata.normalize("NFKC", username.strip()).casefold()


def normalise_email(email: str) -> str:
    """Validate and lowercase an email address; raise ``ValidationFailed`` if malformed."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed("invalid email", {"email": str(exc)}) from None
    return checked.normalized.lower()


def clean_username(username: str) -> str:
    """Trim and NFKC-normalise; refuse empty, overlong or control characters."""
    value = unicodedata.normalize("NFKC", username.strip())
    if not 1 <= len(value) <= 150:
        raise ValidationFailed("invalid username", {"username": "1 to 150 characters"})
    if any(unicodedata.category(c).startswith("C") or c.isspace() for c in value):
        raise ValidationFailed("invalid username", {"username": "no spaces or control characters"})
    return value


@dataclass(frozen=True)
class NewUser:
    """Checked, normalised input for a new account, the password already hashed."""

    username: str
    key: str
    email: str
    password_hash: str | None
    name: str | None
    email_verified: bool = False

    def __repr__(self) -> str:
        return f"NewUser(username={self.username!r})"


async def prepare_user(*, username: str, email: str, password: str | None,
                       policy: PasswordPolicy, rounds: int, name: str | None = None,
                       email_verified: bool = False) -> NewUser:
    """Validate and hash outside any transaction, so bcrypt never holds a lock."""
    clean = clean_username(username)
    mail = normalise_email(email)
    password_hash = None
    if password is not None:
        policy.check(password)
        password_hash = await hash_password(password, rounds)
    clean_name = unicodedata.normalize("NFKC", name.strip()) if name and name.strip() else None
    if clean_name is not None and (len(clean_name) > 200 or any(
            unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in clean_name)):
        raise ValidationFailed("invalid name", {"name": "at most 200 printable characters"})
    return NewUser(clean, username_key(clean), mail, password_hash, clean_name, email_verified)


async def insert_user(session: AsyncSession, new: NewUser, *,
                      superadmin: bool = False) -> User:
    """Add the account in the caller's transaction; 409 naming the taken fields."""
    users = Users(session)
    name_taken, email_taken = await users.taken(new.key, new.email)
    if name_taken or email_taken:
        fields = {}
        if name_taken:
            fields["username"] = "already taken"
        if email_taken:
            fields["email"] = "already registered"
        raise Conflict("the username or email is already in use", fields=fields)
    user = User(id=new_id(), username=new.username, username_key=new.key, email=new.email,
                email_verified=new.email_verified, password_hash=new.password_hash,
                name=new.name, profile={}, is_superadmin=superadmin)
    return await users.add(user)


async def create_user(
    db: Database,
    *,
    username: str,
    email: str,
    password: str,
    policy: PasswordPolicy,
    role: str = "member",
    org_slug: str | None = None,
    new_org_name: str | None = None,
    name: str | None = None,
    email_verified: bool = False,
    rounds: int = 12,
    audit_action: str = "user.created",
    actor_id: str | None = None,
    ip: str | None = None,
    only_if_no_admin: bool = False,
    superadmin: bool = False,
) -> User:
    """Create a user in an organization, audited.

    The organization is the one named by ``org_slug``, or a new one called
    ``new_org_name`` that the user owns (multi-tenant registration), or the default
    organization. ``only_if_no_admin`` is first-admin setup: checked again inside
    the transaction so two setups cannot both win; that person becomes the instance's
    superadmin (as does ``superadmin``: ``portico admin create``). The first admin of
    an organization without an owner becomes its owner.
    """
    from portico.orgs.memberships import insert_organization

    if role not in ROLES:
        raise ValidationFailed("invalid role", {"role": "admin or member"})
    new = await prepare_user(username=username, email=email, password=password, policy=policy,
                             rounds=rounds, name=name, email_verified=email_verified)

    async def write(session: AsyncSession) -> User:
        users = Users(session)
        if only_if_no_admin and await users.admin_exists():
            raise Conflict("an administrator already exists")
        user = await insert_user(session, new, superadmin=only_if_no_admin or superadmin)
        orgs = Organizations(session)
        if new_org_name is not None:
            org = await insert_organization(session, name=new_org_name, slug=None, owner=user)
            member_role = "admin"
        else:
            found = await orgs.by_slug(org_slug) if org_slug else await orgs.default()
            if found is None:
                raise ValidationFailed("unknown organization",
                                       {"org": f"no organization {org_slug!r}"})
            org, member_role = found, role
            owner = role == "admin" and await ScopedOrganizations(
                session, OrgScope.everything()).owner(org.id) is None
            await orgs.add_member(org, user, role, owner=owner)
        await record(
            session,
            audit_action,
            actor_id=actor_id or user.id,
            org_id=org.id,
            target=f"user:{user.id}",
            ip=ip,
            username=new.username,
            role=member_role,
        )
        return user

    return await db.run(write)
