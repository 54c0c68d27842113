"""Changing one's own password: the current one is checked, the new one must meet
the policy, and every other session is signed out. Also the admin reset, which
hands out a temporary password the person must change at next sign-in.

Someone who joined through an upstream provider has no password to give. They may set
a first one, but only from a sign-in made in the last ``FIRST_PASSWORD_WINDOW``: a new
way into the account is not something a forgotten, hours-old browser session should be
able to add."""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.passwords import PasswordPolicy, hash_password, verify_password
from portico.accounts.sessions import revoke_other_sessions
from portico.audit.recorder import record
from portico.errors import InvalidCredentials, NotFound, ValidationFailed
from portico.storage.db import Database
from portico.storage.models import Membership, User
from portico.storage.models.base import utcnow

FIRST_PASSWORD_WINDOW = timedelta(minutes=15)


def can_set_first_password(user: User, auth_time: datetime | None,
                           now: datetime | None = None) -> bool:
    """Whether a person without a password may set one now (a recent sign-in)."""
    if user.password_hash is not None or auth_time is None:
        return False
    return (now or utcnow()) - auth_time <= FIRST_PASSWORD_WINDOW


async def change_password(db: Database, user: User, current: str | None, new: str,
                          policy: PasswordPolicy, rounds: int = 12, *,
                          keep_session_id: str | None = None, ip: str | None = None,
                          auth_time: datetime | None = None) -> int:
    """Change the password; returns how many other sessions were signed out.

    With no password yet (``current`` is ignored), ``auth_time`` of the caller's
    sign-in must fall within ``FIRST_PASSWORD_WINDOW``."""
    first = user.password_hash is None
    if first:
        if not can_set_first_password(user, auth_time):
            raise InvalidCredentials(
                "Sign in again to set a password: it must follow a recent sign-in.")
    elif not current or not await verify_password(current, user.password_hash, rounds):
        raise InvalidCredentials("The current password is incorrect.")
    if not first and new == current:
        raise ValidationFailed("invalid password",
                               {"new_password": "must differ from the current password"})
    policy.check(new)
    new_hash = await hash_password(new, rounds)

    async def write(session: AsyncSession) -> int:
        change = update(User).where(User.id == user.id)
        if first:
            # Two tabs setting a first password at once: the second finds one set.
            change = change.where(User.password_hash.is_(None))
        result = await session.execute(change.values(
            password_hash=new_hash, must_change_password=False, password_changed_at=utcnow()))
        if first and not result.rowcount:
            raise InvalidCredentials("A password was set meanwhile; use it to change it.")
        revoked = await revoke_other_sessions(session, user.id, keep=keep_session_id)
        await record(session, "password.set" if first else "password.changed",
                     actor_id=user.id, target=f"user:{user.id}",
                     ip=ip, other_sessions_revoked=revoked)
        return revoked

    return await db.run(write)


TEMPORARY_PASSWORD_LENGTH = 20
_ALPHABETS = (string.ascii_uppercase, string.ascii_lowercase, string.digits)


def temporary_password(policy: PasswordPolicy | None = None) -> str:
    """A random password that meets ``policy``: one of each character class, the rest
    from all of them, shuffled with the system CSPRNG (~119 bits at 20 characters)."""
    policy = policy or PasswordPolicy()
    length = max(TEMPORARY_PASSWORD_LENGTH, policy.min_length)
    everything = "".join(_ALPHABETS)
    chars = [secrets.choice(alphabet) for alphabet in _ALPHABETS]
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    password = "".join(chars)
    policy.check(password)
    return password


async def reset_password_by_admin(db: Database, user_id: str, actor_id: str | None = None, *,
                                  policy: PasswordPolicy | None = None, rounds: int = 12,
                                  ip: str | None = None, via: str | None = None) -> str:
    """Give the user a random temporary password and return it (shown once, never stored).

    The user must change it before anything else works (``must_change_password``), every
    session is signed out so whoever held one must sign in with the new password, and a
    lockout is lifted: the point of the reset is to let the person back in."""
    password = temporary_password(policy)
    new_hash = await hash_password(password, rounds)

    async def write(session: AsyncSession) -> None:
        result = await session.execute(update(User).where(User.id == user_id).values(
            password_hash=new_hash, must_change_password=True, password_changed_at=utcnow(),
            failed_logins=0, locked_until=None))
        if not result.rowcount:
            raise NotFound("No such user.")
        revoked = await revoke_other_sessions(session, user_id, keep=None)
        details: dict[str, object] = {"sessions_revoked": revoked}
        if via:
            details["via"] = via
        # Filed under the person's organization, not the admin's (a superadmin's is
        # "default"), so the organization's own admins see it in their audit log.
        home = (await session.execute(
            select(Membership.org_id).where(Membership.user_id == user_id)
            .order_by(Membership.created_at).limit(1))).scalar_one_or_none()
        await record(session, "password.reset_by_admin", actor_id=actor_id, org_id=home,
                     target=f"user:{user_id}", ip=ip, **details)

    await db.run(write)
    return password
