"""What a person may change about their own profile. Username and email are not
self-service: they identify the account to applications and to other people."""

from __future__ import annotations

import unicodedata

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.errors import NotFound, ValidationFailed
from portico.storage.db import Database
from portico.storage.models import User

MAX_NAME = 200


def clean_display_name(name: str) -> str | None:
    """Trimmed, NFC-normalised, with control characters refused; empty means no name."""
    name = unicodedata.normalize("NFC", name.strip())
    if len(name) > MAX_NAME:
        raise ValidationFailed("invalid name", {"name": f"at most {MAX_NAME} characters"})
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ValidationFailed("invalid name", {"name": "no control characters"})
    return name or None


async def set_display_name(db: Database, user_id: str, name: str, *,
                           ip: str | None = None) -> str | None:
    """Change the display name (the ``name`` claim); returns the stored value."""
    cleaned = clean_display_name(name)

    async def write(session: AsyncSession) -> None:
        result = await session.execute(update(User).where(User.id == user_id).values(name=cleaned))
        if not result.rowcount:
            raise NotFound("No such user.")
        await record(session, "profile.updated", actor_id=user_id, target=f"user:{user_id}",
                     ip=ip, fields=["name"])

    await db.run(write)
    return cleaned
