"""Registered clients."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import Client
from portico.storage.scope import OrgScope


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


class ScopedClients:
    """Clients as an admin sees them: those of the organizations in ``scope`` (instance-wide
    clients, ``org_id`` NULL, only for a global scope), never the ``hidden`` ones (the
    built-in system client). A client outside that view is simply not found."""

    def __init__(self, session: AsyncSession, scope: OrgScope,
                 hidden: Collection[str] = ()) -> None:
        self.session = session
        self.scope = scope
        self.hidden = frozenset(hidden)

    async def get(self, client_id: str) -> Client | None:
        if client_id in self.hidden:
            return None
        client = await Clients(self.session).get(client_id)
        if client is None or not self.scope.allows(client.org_id):
            return None
        return client

    async def page(self, *, org_id: str | None = None, after: tuple[datetime, str] | None,
                   limit: int) -> list[Client]:
        """Up to ``limit`` clients after the keyset ``after`` (created_at, id), oldest
        first; ``org_id`` narrows to one organization."""
        stmt = select(Client)
        if not self.scope.is_global:
            stmt = stmt.where(self.scope.clause(Client.org_id))
        if org_id is not None:
            stmt = stmt.where(Client.org_id == org_id)
        if self.hidden:
            stmt = stmt.where(Client.id.not_in(sorted(self.hidden)))
        if after is not None:
            stmt = stmt.where((Client.created_at > after[0])
                              | ((Client.created_at == after[0]) & (Client.id > after[1])))
        stmt = stmt.order_by(Client.created_at, Client.id).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def remove(self, client: Client) -> None:
        """Delete ``client``; its codes, tokens, consents and pending requests go with it
        (``ON DELETE CASCADE``), so nothing issued to it stays usable."""
        await self.session.execute(delete(Client).where(Client.id == client.id))
