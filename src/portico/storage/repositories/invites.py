"""Invitations as rows: scoped reads for admins, token look-ups for invitees, and the
conditional UPDATEs that make every state change single-use under concurrency.

A state change (accept, cancel, release an expired ``pending_key``) is one UPDATE
whose WHERE clause restates the rule, so of two callers racing on any number of
instances exactly one sees a row come back; the other finds nothing to change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import Invite, Membership, Organization, User
from portico.storage.scope import OrgScope

STATUSES = ("pending", "accepted", "cancelled", "expired")


def pending_key(org_id: str, email: str) -> str:
    """The value whose uniqueness forbids two usable invites of one address to one org."""
    return f"{org_id}:{email}"


def status_clause(status: str, now: datetime) -> ColumnElement[bool]:
    """SQL for ``Invite.status(now) == status`` (the model method is the reference)."""
    open_ = and_(Invite.accepted_at.is_(None), Invite.cancelled_at.is_(None))
    if status == "accepted":
        return Invite.accepted_at.is_not(None)
    if status == "cancelled":
        return and_(Invite.accepted_at.is_(None), Invite.cancelled_at.is_not(None))
    if status == "expired":
        return and_(open_, Invite.expires_at <= now)
    return and_(open_, Invite.expires_at > now)


class Invites:
    """Invite rows; admin reads go through ``scope``, token look-ups do not need one."""

    def __init__(self, session: AsyncSession, scope: OrgScope | None = None) -> None:
        self.session = session
        self.scope = scope or OrgScope.everything()

    async def get(self, invite_id: str) -> tuple[Invite, Organization] | None:
        """An invite of an organization in scope, with that organization."""
        stmt = (select(Invite, Organization).join(Organization, Organization.id == Invite.org_id)
                .where(Invite.id == invite_id, self.scope.clause(Invite.org_id)))
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row else None

    async def by_token_hash(self, token_hash: str) -> tuple[Invite, Organization] | None:
        """The invite a link names (whoever holds the link may see it, nothing else)."""
        stmt = (select(Invite, Organization).join(Organization, Organization.id == Invite.org_id)
                .where(Invite.token_hash == token_hash)
                .execution_options(populate_existing=True))  # re-read after a lost race
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row else None

    async def page(self, *, now: datetime, org_id: str | None, status: str | None,
                   after: tuple[datetime, str] | None, limit: int
                   ) -> list[tuple[Invite, Organization]]:
        """Newest first; ``after`` is the (created_at, id) of the last row already seen."""
        stmt = (select(Invite, Organization).join(Organization, Organization.id == Invite.org_id)
                .where(self.scope.clause(Invite.org_id)))
        if org_id is not None:
            stmt = stmt.where(Invite.org_id == org_id)
        if status is not None:
            stmt = stmt.where(status_clause(status, now))
        if after is not None:
            stmt = stmt.where((Invite.created_at < after[0])
                              | ((Invite.created_at == after[0]) & (Invite.id < after[1])))
        stmt = stmt.order_by(Invite.created_at.desc(), Invite.id.desc()).limit(limit)
        return [(i, o) for i, o in (await self.session.execute(stmt)).all()]

    async def is_member_email(self, org_id: str, email: str) -> bool:
        """Whether someone with this (normalised) email already belongs to the org."""
        stmt = (select(Membership.id).join(User, User.id == Membership.user_id)
                .where(Membership.org_id == org_id, User.email == email).limit(1))
        return (await self.session.execute(stmt)).first() is not None

    async def email_has_account(self, email: str) -> bool:
        stmt = select(User.id).where(User.email == email).limit(1)
        return (await self.session.execute(stmt)).first() is not None

    async def pending(self, key: str) -> Invite | None:
        stmt = select(Invite).where(Invite.pending_key == key)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def release_expired(self, key: str, now: datetime) -> int:
        """Free ``key`` from an invite that expired unused, so a new one may take it."""
        result = await self.session.execute(
            update(Invite)
            .where(Invite.pending_key == key, Invite.expires_at <= now)
            .values(pending_key=None)
            .execution_options(synchronize_session=False))
        return int(result.rowcount or 0)

    async def add(self, invite: Invite) -> Invite:
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def consume(self, token_hash: str, now: datetime) -> Invite | None:
        """Mark the invite accepted if it is still usable; None for every loser."""
        stmt = (
            update(Invite)
            .where(Invite.token_hash == token_hash, Invite.accepted_at.is_(None),
                   Invite.cancelled_at.is_(None), Invite.expires_at > now)
            .values(accepted_at=now, pending_key=None)
            .returning(Invite)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set_accepted_by(self, invite_id: str, user_id: str) -> None:
        await self.session.execute(
            update(Invite).where(Invite.id == invite_id).values(accepted_by=user_id)
            .execution_options(synchronize_session=False))

    async def cancel(self, invite_id: str, now: datetime) -> bool:
        """Cancel an unused invite of an organization in scope; False when there was none."""
        result = await self.session.execute(
            update(Invite)
            .where(Invite.id == invite_id, self.scope.clause(Invite.org_id),
                   Invite.accepted_at.is_(None), Invite.cancelled_at.is_(None))
            .values(cancelled_at=now, pending_key=None)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)

    async def mark_emailed(self, invite_id: str, now: datetime) -> None:
        await self.session.execute(
            update(Invite).where(Invite.id == invite_id).values(emailed_at=now)
            .execution_options(synchronize_session=False))
