"""Upstream providers, federated identities and upstream login flows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import FederatedIdentity, IdentityProvider, UpstreamLoginFlow
from portico.storage.models.base import utcnow


class Providers:
    """Provider rows. Providers are instance-wide configuration (no org scoping)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: IdentityProvider) -> IdentityProvider:
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, provider_id: str) -> IdentityProvider | None:
        if not provider_id or len(provider_id) > 64:
            return None
        return await self.session.get(IdentityProvider, provider_id)

    async def by_slug(self, slug: str) -> IdentityProvider | None:
        if not slug or len(slug) > 64:
            return None
        stmt = select(IdentityProvider).where(IdentityProvider.slug == slug)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def slug_taken(self, slug: str, except_id: str | None = None) -> bool:
        stmt = select(func.count()).select_from(IdentityProvider).where(
            IdentityProvider.slug == slug)
        if except_id:
            stmt = stmt.where(IdentityProvider.id != except_id)
        return bool((await self.session.execute(stmt)).scalar_one())

    async def page(self, limit: int, after: tuple[str, str] | None = None
                   ) -> list[IdentityProvider]:
        """Providers ordered by (slug, id), starting after the cursor's row."""
        stmt = select(IdentityProvider).order_by(IdentityProvider.slug, IdentityProvider.id)
        if after is not None:
            stmt = stmt.where(
                (IdentityProvider.slug > after[0])
                | ((IdentityProvider.slug == after[0]) & (IdentityProvider.id > after[1])))
        return list((await self.session.execute(stmt.limit(limit))).scalars())

    async def enabled(self) -> list[IdentityProvider]:
        stmt = (select(IdentityProvider).where(IdentityProvider.enabled.is_(True))
                .order_by(IdentityProvider.display_name, IdentityProvider.slug))
        return list((await self.session.execute(stmt)).scalars())

    async def version_of(self, provider_id: str) -> int | None:
        stmt = select(IdentityProvider.version).where(IdentityProvider.id == provider_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def remove(self, provider_id: str) -> bool:
        result = await self.session.execute(
            delete(IdentityProvider).where(IdentityProvider.id == provider_id)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)


class FederatedIdentities:
    """Who is who upstream."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, provider_id: str, subject: str) -> FederatedIdentity | None:
        stmt = select(FederatedIdentity).where(
            FederatedIdentity.provider_id == provider_id, FederatedIdentity.subject == subject)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def of_user(self, user_id: str) -> list[FederatedIdentity]:
        stmt = (select(FederatedIdentity).where(FederatedIdentity.user_id == user_id)
                .order_by(FederatedIdentity.created_at))
        return list((await self.session.execute(stmt)).scalars())

    async def count_for_provider(self, provider_id: str) -> int:
        stmt = select(func.count()).select_from(FederatedIdentity).where(
            FederatedIdentity.provider_id == provider_id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def add(self, row: FederatedIdentity) -> FederatedIdentity:
        self.session.add(row)
        await self.session.flush()
        return row

    async def remove(self, identity_id: str, user_id: str) -> bool:
        """Unlink one of ``user_id``'s own identities."""
        result = await self.session.execute(
            delete(FederatedIdentity)
            .where(FederatedIdentity.id == identity_id, FederatedIdentity.user_id == user_id)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)


class UpstreamFlows:
    """Login flows in flight; each is consumed once, atomically."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: UpstreamLoginFlow) -> UpstreamLoginFlow:
        self.session.add(row)
        await self.session.flush()
        return row

    async def consume(self, state_hash: str) -> UpstreamLoginFlow | None:
        """Mark the live flow for ``state_hash`` used and return it; None when it is
        unknown, expired or already used (one conditional UPDATE, so two concurrent
        callbacks cannot both win)."""
        now = utcnow()
        stmt = (
            update(UpstreamLoginFlow)
            .where(UpstreamLoginFlow.state_hash == state_hash,
                   UpstreamLoginFlow.consumed_at.is_(None),
                   UpstreamLoginFlow.expires_at > now)
            .values(consumed_at=now)
            .returning(UpstreamLoginFlow.id)
            .execution_options(synchronize_session=False)
        )
        flow_id = (await self.session.execute(stmt)).scalar_one_or_none()
        if flow_id is None:
            return None
        return await self.session.get(UpstreamLoginFlow, flow_id, populate_existing=True)

    async def live_count(self, provider_ids: Sequence[str]) -> int:
        """Flows still open for these providers (tests and diagnostics)."""
        stmt = select(func.count()).select_from(UpstreamLoginFlow).where(
            UpstreamLoginFlow.provider_id.in_(list(provider_ids)),
            UpstreamLoginFlow.consumed_at.is_(None))
        return int((await self.session.execute(stmt)).scalar_one())
