"""Registered clients."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import Client


class Clients:
    """Client rows; secrets are only ever compared by hash."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, client_id: str) -> Client | None:
        if not client_id or len(client_id) > 64:
            return None
        return await self.session.get(Client, client_id)

    async def add(self, client: Client) -> Client:
        self.session.add(client)
        await self.session.flush()
        return client

    async def list(self) -> list[Client]:
        return list(
            (await self.session.execute(select(Client).order_by(Client.created_at))).scalars()
        )

    async def remove(self, client_id: str) -> bool:
        result = await self.session.execute(delete(Client).where(Client.id == client_id))
        return bool(result.rowcount)
