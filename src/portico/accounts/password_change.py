"""Changing one's own password: the current one is checked, the new one must meet
the policy, and every other session is signed out. Also the admin reset, which
hands out a temporary password the person must change at next sign-in."""

from __future__ import annotations

import secrets
import string

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.passwords import PasswordPolicy, hash_password, verify_password
from portico.accounts.sessions import revoke_other_sessions
from portico.audit.recorder import record
from portico.errors import InvalidCredentials, NotFound, ValidationFailed
from portico.storage.db import Database
from portico.storage.models import Membership, User
from portico.storage.models.base import utcnow


async def change_password(db: Database, user: User, current: str, new: str,
                          policy: PasswordPolicy, rounds: int = 12, *,
                          keep_session_id: str | None = None, ip: str | None = None) -> int:
    """Change the password; returns how many other sessions were signed out."""
    if not await verify_password(current, user.password_hash, rounds):
        raise InvalidCredentials("The current password is incorrect.")
    if new == current:
        raise ValidationFailed("invalid password",
                               {"new_password": "must differ from the current password"})
    policy.check(new)
    new_hash = await hash_password(new, rounds)

    async def write(session: AsyncSession) -> int:
        await session.execute(update(User).where(User.id == user.id).values(
            password_hash=new_hash, must_change_password=False, password_changed_at=utcnow()))
        revoked = await revoke_other_sessions(session, user.id, keep=keep_session_id)
        await record(session, "password.changed", actor_id=user.id, target=f"user:{user.id}",
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
