"""Initial access tokens for dynamic client registration (RFC 7591 §3), and the counts
the registration policy needs.

A token is stored as SHA-256 only. Using one is a single conditional UPDATE that
restates every rule (not revoked, not expired, uses left), so of callers racing for
a token's last use on any number of instances exactly one gets a row back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import Client, InitialAccessToken, Organization
from portico.storage.models.base import utcnow
from portico.storage.scope import OrgScope


class InitialAccessTokens:
    """Token rows; admin reads and revocation go through ``scope``."""

    def __init__(self, session: AsyncSession, scope: OrgScope | None = None) -> None:
        self.session = session
        self.scope = scope or OrgScope.everything()

    async def add(self, row: InitialAccessToken) -> InitialAccessToken:
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, token_id: str) -> InitialAccessToken | None:
        """A token of an organization in scope (instance-wide ones: global scope only)."""
        row = await self.session.get(InitialAccessToken, token_id)
        if row is None or not self.scope.allows(row.org_id):
            return None
        return row

    async def page(self, *, org_id: str | None, after: tuple[datetime, str] | None,
                   limit: int) -> list[InitialAccessToken]:
        """Oldest first, after the keyset ``after`` (created_at, id)."""
        stmt = select(InitialAccessToken)
        if not self.scope.is_global:
            stmt = stmt.where(self.scope.clause(InitialAccessToken.org_id))
        if org_id is not None:
            stmt = stmt.where(InitialAccessToken.org_id == org_id)
        if after is not None:
            stmt = stmt.where(
                (InitialAccessToken.created_at > after[0])
                | ((InitialAccessToken.created_at == after[0])
                   & (InitialAccessToken.id > after[1])))
        stmt = stmt.order_by(InitialAccessToken.created_at, InitialAccessToken.id).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def revoke(self, token_id: str) -> bool:
        """Revoke once; False when it was already revoked (or is not in scope)."""
        row = await self.get(token_id)
        if row is None:
            return False
        result = await self.session.execute(
            update(InitialAccessToken)
            .where(InitialAccessToken.id == row.id, InitialAccessToken.revoked_at.is_(None))
            .values(revoked_at=utcnow()))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def use(self, token_hash: str) -> InitialAccessToken | None:
        """Count one use of a live token; None when it is unknown, revoked, expired or
        used up. The caller's transaction rolls the use back if registration fails."""
        now = utcnow()
        stmt = (
            update(InitialAccessToken)
            .where(
                InitialAccessToken.token_hash == token_hash,
                InitialAccessToken.revoked_at.is_(None),
                or_(InitialAccessToken.expires_at.is_(None), InitialAccessToken.expires_at > now),
                or_(InitialAccessToken.max_uses.is_(None),
                    InitialAccessToken.uses < InitialAccessToken.max_uses),
            )
            .values(uses=InitialAccessToken.uses + 1)
            .returning(InitialAccessToken)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


async def lock_registration_quota(session: AsyncSession, org_id: str | None,
                                  anchor_client_id: str) -> None:
    """Serialise, until commit, the registrations that count against one quota, so
    two of them cannot both count ``limit - 1`` and both insert: the organization's
    row, or for open registrations (no organization) the ``anchor_client_id`` row,
    ``FOR UPDATE`` (PostgreSQL and its distributed kin; SQLite's ``BEGIN IMMEDIATE``
    already serialises every writer)."""
    if org_id is not None:
        stmt = select(Organization.id).where(Organization.id == org_id)
    else:
        stmt = select(Client.id).where(Client.id == anchor_client_id)
    await session.execute(stmt.with_for_update())


async def dynamic_clients_of(session: AsyncSession, org_id: str | None) -> int:
    """How many dynamically registered clients ``org_id`` (None: no organization) has."""
    owner = Client.org_id.is_(None) if org_id is None else Client.org_id == org_id
    stmt = select(func.count()).select_from(Client).where(
        owner, Client.registration_access_token_hash.is_not(None))
    return int((await session.execute(stmt)).scalar_one())
