"""Recovery keys: one-time, shown once, stored as SHA-256; using one resets the
password and signs the person out everywhere.

Consumption is one conditional UPDATE, so a key used twice at once works once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.passwords import PasswordPolicy, hash_password
from portico.accounts.sessions import revoke_other_sessions
from portico.audit.recorder import record
from portico.crypto.tokens import lookup_hash, new_id, random_token
from portico.errors import InvalidCredentials
from portico.storage.db import Database
from portico.storage.models import RecoveryKey, User
from portico.storage.models.base import utcnow

PREFIX = "rk_"


async def generate_recovery_key(db: Database, user: User, *, ip: str | None = None) -> str:
    """A new key replacing any earlier one; the plaintext is returned once."""
    secret = random_token(32, prefix=PREFIX)

    async def write(session: AsyncSession) -> None:
        now = utcnow()
        await session.execute(
            update(RecoveryKey)
            .where(RecoveryKey.user_id == user.id, RecoveryKey.used_at.is_(None),
                   RecoveryKey.replaced_at.is_(None))
            .values(replaced_at=now))
        session.add(RecoveryKey(id=new_id(), user_id=user.id, key_hash=lookup_hash(secret)))
        await record(session, "recovery_key.generated", actor_id=user.id,
                     target=f"user:{user.id}", ip=ip)

    await db.run(write)
    return secret


async def recover(db: Database, secret: str, new_password: str, policy: PasswordPolicy,
                  rounds: int = 12, *, ip: str | None = None) -> str:
    """Reset the password of the key's owner; returns the user id."""
    policy.check(new_password)
    if not secret.startswith(PREFIX) or len(secret) > 128:
        raise InvalidCredentials("The recovery key is not valid.")
    password_hash = await hash_password(new_password, rounds)

    async def write(session: AsyncSession) -> str:
        row = (await session.execute(
            update(RecoveryKey)
            .where(RecoveryKey.key_hash == lookup_hash(secret), RecoveryKey.used_at.is_(None),
                   RecoveryKey.replaced_at.is_(None))
            .values(used_at=utcnow())
            .returning(RecoveryKey.user_id)
            .execution_options(synchronize_session=False))).first()
        if row is None:
            raise InvalidCredentials("The recovery key is not valid.")
        user_id = row.user_id
        await session.execute(
            update(User).where(User.id == user_id).values(
                password_hash=password_hash, must_change_password=False,
                password_changed_at=utcnow(), failed_logins=0, locked_until=None))
        await revoke_other_sessions(session, user_id, keep=None)
        await record(session, "password.recovered", actor_id=user_id, target=f"user:{user_id}",
                     ip=ip)
        return user_id

    try:
        return await db.run(write)
    except InvalidCredentials:
        async def audit(session: AsyncSession) -> None:
            await record(session, "password.recover_failed", outcome="failure", ip=ip)

        await db.run(audit)
        raise


async def live_recovery_key_created_at(db: Database, user_id: str) -> datetime | None:
    """When the user's usable recovery key was made, or None: lets the account page say
    whether generating one would replace an earlier key."""

    async def read(session: AsyncSession) -> datetime | None:
        stmt = (select(RecoveryKey.created_at)
                .where(RecoveryKey.user_id == user_id, RecoveryKey.used_at.is_(None),
                       RecoveryKey.replaced_at.is_(None))
                .order_by(RecoveryKey.created_at.desc()).limit(1))
        return (await session.execute(stmt)).scalar_one_or_none()

    return await db.run(read)
