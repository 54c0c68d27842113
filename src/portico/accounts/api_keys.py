"""Personal API keys: ``pk_`` + 256 random bits, shown once, stored as SHA-256.

Revocation takes effect on the next request because every use looks the key up;
``last_used_at`` is recorded at most once a minute per key to spare the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.crypto.tokens import lookup_hash, new_id, random_token
from portico.errors import NotFound, ValidationFailed
from portico.storage.db import Database
from portico.storage.models import ApiKey, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.users import Users

ACCESS_LEVELS = ("read", "read_write")
PREFIX = "pk_"


@dataclass(frozen=True)
class CreatedKey:
    """A new key and its one-time plaintext."""

    row: ApiKey
    secret: str


async def create_api_key(db: Database, user: User, name: str, access: str,
                         expires_at: datetime | None, *, ip: str | None = None) -> CreatedKey:
    """Create a key; the plaintext exists only in the return value."""
    name = name.strip()
    fields = {}
    if not 1 <= len(name) <= 100:
        fields["name"] = "1 to 100 characters"
    if access not in ACCESS_LEVELS:
        fields["access"] = "read or read_write"
    if expires_at is not None and expires_at <= utcnow():
        fields["expires_at"] = "must be in the future"
    if fields:
        raise ValidationFailed("invalid API key", fields)
    secret = random_token(32, prefix=PREFIX)
    row = ApiKey(id=new_id(), user_id=user.id, name=name, prefix=secret[:11],
                 key_hash=lookup_hash(secret), access=access, expires_at=expires_at)

    async def write(session: AsyncSession) -> None:
        session.add(row)
        await record(session, "api_key.created", actor_id=user.id, target=f"api_key:{row.id}",
                     ip=ip, name=name, access=access)

    await db.run(write)
    return CreatedKey(row, secret)


async def list_api_keys(db: Database, user_id: str) -> list[ApiKey]:
    """The caller's live keys (revoked ones are gone from the list)."""

    async def read(session: AsyncSession) -> list[ApiKey]:
        stmt = (select(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
                .order_by(ApiKey.created_at))
        return list((await session.execute(stmt)).scalars())

    return await db.run(read)


async def revoke_api_key(db: Database, user_id: str, key_id: str, *,
                         ip: str | None = None) -> None:
    """Revoke one of the caller's keys, at once."""

    async def write(session: AsyncSession) -> None:
        result = await session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=utcnow()))
        if not result.rowcount:
            raise NotFound("No such API key.")
        await record(session, "api_key.revoked", actor_id=user_id, target=f"api_key:{key_id}",
                     ip=ip)

    await db.run(write)


async def resolve_api_key(db: Database, secret: str) -> tuple[ApiKey, User] | None:
    """The live key and its user for a presented secret, or None."""
    if not secret.startswith(PREFIX) or len(secret) > 128:
        return None

    async def read(session: AsyncSession) -> tuple[ApiKey, User] | None:
        stmt = select(ApiKey).where(ApiKey.key_hash == lookup_hash(secret))
        key = (await session.execute(stmt)).scalar_one_or_none()
        now = utcnow()
        if key is None or key.revoked_at is not None or (
                key.expires_at is not None and key.expires_at <= now):
            return None
        user = await Users(session).get(key.user_id)
        if user is None or user.disabled:
            return None
        if key.last_used_at is None or now - key.last_used_at > timedelta(seconds=60):
            key.last_used_at = now
        return key, user

    return await db.run(read)
