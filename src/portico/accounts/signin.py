"""Checking a password with lockout, the same way for pages and the API.

Failures are counted by one conditional UPDATE per attempt, and only while the
account is not locked, so twenty concurrent wrong passwords on any number of
instances count exactly up to the threshold and then lock. A locked account, an
unknown name and a wrong password all get the same ``InvalidCredentials`` (the
audit log tells admins which it was), so sign-in reveals nothing about accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.passwords import verify_password
from portico.accounts.users import username_key
from portico.audit.recorder import record
from portico.errors import InvalidCredentials
from portico.storage.db import Database
from portico.storage.models import User
from portico.storage.models.base import utcnow
from portico.storage.repositories.users import Users


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failures lock an account, and for how long."""

    max_attempts: int = 5
    duration: int = 900
    rounds: int = 12


async def _find(db: Database, login: str) -> User | None:
    async def find(session: AsyncSession) -> User | None:
        return await Users(session).find_by_login(username_key(login), login.strip().lower())

    return await db.run(find)


async def _count_failure(session: AsyncSession, user_id: str, policy: LockoutPolicy) -> bool:
    """Count one failure; True when this failure locked the account."""
    now = utcnow()
    # An expired lock starts a fresh count.
    await session.execute(
        update(User)
        .where(User.id == user_id, User.locked_until.is_not(None), User.locked_until <= now)
        .values(failed_logins=0, locked_until=None)
    )
    row = (
        await session.execute(
            update(User)
            .where(User.id == user_id, User.failed_logins < policy.max_attempts)
            .values(
                failed_logins=User.failed_logins + 1,
                locked_until=case(
                    (User.failed_logins + 1 >= policy.max_attempts,
                     now + timedelta(seconds=policy.duration)),
                    else_=None,
                ),
            )
            .returning(User.locked_until)
            .execution_options(synchronize_session=False)
        )
    ).first()
    return row is not None and row.locked_until is not None


async def _clear_failures(session: AsyncSession, user_id: str) -> bool:
    """Reset the count after a correct password; False if the account is locked now."""
    now = utcnow()
    result = await session.execute(
        update(User)
        .where(User.id == user_id)
        .where((User.locked_until.is_(None)) | (User.locked_until <= now))
        .values(failed_logins=0, locked_until=None)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def is_locked(user: User) -> bool:
    """Whether a lock is in force right now."""
    return user.locked_until is not None and user.locked_until > utcnow()


async def verify_credentials(
    db: Database,
    login: str,
    password: str,
    policy: LockoutPolicy,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> User:
    """The user for these credentials, or ``InvalidCredentials``; audited either way."""
    login = login.strip()[:320]
    user = await _find(db, login)
    if user is not None and is_locked(user):
        # Same bcrypt work as any other attempt, so timing does not tell either.
        await verify_password(password, None, policy.rounds)
        await _audit_failure(db, user.id, login, ip, user_agent, "locked")
        raise InvalidCredentials("The username or password is incorrect.")
    ok = await verify_password(password, user.password_hash if user else None, policy.rounds)
    if user is None or user.disabled or not ok:
        reason = "unknown_user" if user is None else "disabled" if user.disabled else "password"
        locked = False
        if user is not None and not ok:

            async def count(session: AsyncSession) -> bool:
                return await _count_failure(session, user.id, policy)

            locked = await db.run(count)
        await _audit_failure(db, user.id if user else None, login, ip, user_agent, reason)
        if locked:

            async def audit_lock(session: AsyncSession) -> None:
                await record(session, "account.locked", outcome="failure", actor_id=user.id,
                             target=f"user:{user.id}", ip=ip, user_agent=user_agent,
                             duration=policy.duration)

            await db.run(audit_lock)
        raise InvalidCredentials("The username or password is incorrect.")

    async def clear(session: AsyncSession) -> bool:
        return await _clear_failures(session, user.id)

    if not await db.run(clear):
        await _audit_failure(db, user.id, login, ip, user_agent, "locked")
        raise InvalidCredentials("The username or password is incorrect.")
    return user


async def _audit_failure(db: Database, user_id: str | None, login: str, ip: str | None,
                         user_agent: str | None, reason: str) -> None:
    async def write(session: AsyncSession) -> None:
        await record(session, "login.failed", outcome="failure", actor_id=user_id,
                     target=f"user:{user_id}" if user_id else f"login:{login[:100]}", ip=ip,
                     user_agent=user_agent, reason=reason)

    await db.run(write)


async def unlock(db: Database, user_id: str, actor_id: str | None = None) -> bool:
    """Lift a lockout (admins, CLI); audited."""

    async def write(session: AsyncSession) -> bool:
        result = await session.execute(
            update(User).where(User.id == user_id).values(failed_logins=0, locked_until=None)
        )
        if result.rowcount:
            await record(session, "account.unlocked", actor_id=actor_id, target=f"user:{user_id}")
        return bool(result.rowcount)

    return await db.run(write)


async def lock_state(db: Database, user_id: str) -> tuple[int, bool]:
    """(failed count, locked now) for tests and admin views."""

    async def read(session: AsyncSession) -> tuple[int, bool]:
        row = (await session.execute(
            select(User.failed_logins, User.locked_until).where(User.id == user_id))).one()
        locked = row.locked_until is not None and row.locked_until > utcnow()
        return row.failed_logins, locked

    return await db.run(read)
