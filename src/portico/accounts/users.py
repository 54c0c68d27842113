"""Creating people and checking their passwords.

Usernames are NFKC-normalised and compared case-insensitively; emails are trimmed
and lowercased (SPEC, domain rules).
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.passwords import PasswordPolicy, hash_password
from portico.audit.recorder import record
from portico.crypto.tokens import new_id
from portico.errors import Conflict, ValidationFailed
from portico.storage.db import Database
from portico.storage.models import User
from portico.storage.repositories.users import Organizations, Users

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


async def create_user(
    db: Database,
    *,
    username: str,
    email: str,
    password: str,
    policy: PasswordPolicy,
    role: str = "member",
    org_slug: str | None = None,
    name: str | None = None,
    email_verified: bool = False,
    rounds: int = 12,
    audit_action: str = "user.created",
    actor_id: str | None = None,
    ip: str | None = None,
    only_if_no_admin: bool = False,
) -> User:
    """Create a user in an organization (the default one unless named), audited.

    The password is hashed before the transaction opens, so the ~300 ms of bcrypt
    never holds a database lock. ``only_if_no_admin`` makes first-admin creation
    race-free: checked again inside the transaction.
    """
    if role not in ROLES:
        raise ValidationFailed("invalid role", {"role": "admin or member"})
    clean = clean_username(username)
    key = username_key(clean)
    mail = normalise_email(email)
    policy.check(password)
    password_hash = await hash_password(password, rounds)

    async def write(session: AsyncSession) -> User:
        users = Users(session)
        if only_if_no_admin and await users.admin_exists():
            raise Conflict("an administrator already exists")
        name_taken, email_taken = await users.taken(key, mail)
        if name_taken or email_taken:
            fields = {}
            if name_taken:
                fields["username"] = "already taken"
            if email_taken:
                fields["email"] = "already registered"
            raise Conflict("the username or email is already in use", fields=fields)
        orgs = Organizations(session)
        org = await orgs.by_slug(org_slug) if org_slug else await orgs.default()
        if org is None:
            raise ValidationFailed("unknown organization", {"org": f"no organization {org_slug!r}"})
        user = User(
            id=new_id(),
            username=clean,
            username_key=key,
            email=mail,
            email_verified=email_verified,
            password_hash=password_hash,
            name=name,
            profile={},
        )
        await users.add(user)
        first_admin = only_if_no_admin and role == "admin"
        await orgs.add_member(org, user, role, owner=first_admin)
        await record(
            session,
            audit_action,
            actor_id=actor_id or user.id,
            org_id=org.id,
            target=f"user:{user.id}",
            ip=ip,
            username=clean,
            role=role,
        )
        return user

    return await db.run(write)
