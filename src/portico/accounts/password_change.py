"""Changing one's own password: the current one is checked, the new one must meet
the policy, and every other session is signed out."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.passwords import PasswordPolicy, hash_password, verify_password
from portico.accounts.sessions import revoke_other_sessions
from portico.audit.recorder import record
from portico.errors import InvalidCredentials, ValidationFailed
from portico.storage.db import Database
from portico.storage.models import User
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
