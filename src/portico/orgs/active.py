"""The organization a person acts in: per browser session, and per token.

A member of several organizations acts in one at a time. The session remembers it
(``sessions.active_org_id``); an application can pick one for a single authorization
with the ``org`` request parameter, which also switches the session. Whatever was
active when a code was issued is recorded on the code and on every token issued from
it, so a token keeps answering for its own organization after the session moves on.

Membership is always read fresh: removing someone from an organization takes effect
at the next look-up, whatever the session or a token recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import Membership, Organization, Session
from portico.storage.repositories.users import Organizations

# Longer than any organization id (32) or slug (64) can be: refused before a look-up.
MAX_ORG_REF = 64


@dataclass(frozen=True)
class Acting:
    """A person's membership in the organization they act in."""

    membership: Membership
    org: Organization

    @property
    def role(self) -> str:
        return self.membership.role


async def memberships(session: AsyncSession, user_id: str) -> list[Acting]:
    """Every membership of ``user_id``, oldest first (ties broken by id, so "first" is
    the same answer on every database)."""
    rows = await Organizations(session).memberships(user_id)
    return [Acting(m, o) for m, o in sorted(rows, key=lambda r: (r[0].created_at, r[0].id))]


def find(choices: list[Acting], ref: str | None) -> Acting | None:
    """The membership whose organization has id or slug ``ref`` (an id wins, should a
    slug ever spell another organization's id)."""
    if not ref or len(ref) > MAX_ORG_REF:
        return None
    by_id = next((a for a in choices if a.org.id == ref), None)
    return by_id or next((a for a in choices if a.org.slug == ref), None)


def pick_active(choices: list[Acting], active_org_id: str | None) -> Acting | None:
    """The remembered organization while still a member, else the oldest membership."""
    return find(choices, active_org_id) or (choices[0] if choices else None)


async def active_org(session: AsyncSession, login: Session) -> Acting | None:
    """The organization ``login`` acts in (None only for a person without memberships)."""
    return pick_active(await memberships(session, login.user_id), login.active_org_id)


async def acting_in(session: AsyncSession, user_id: str, org_id: str | None) -> Acting | None:
    """``user_id``'s membership in ``org_id``, or None once they have left it.

    ``org_id`` None is a grant from before organizations were recorded: it answers for
    the person's oldest membership, as Portico did then.
    """
    choices = await memberships(session, user_id)
    if org_id is None:
        return choices[0] if choices else None
    return find(choices, org_id)


async def remember_active(session: AsyncSession, login: Session, org_id: str) -> None:
    """Record ``org_id`` as the organization ``login`` acts in from now on."""
    await session.execute(
        update(Session)
        .where(Session.id == login.id, Session.user_id == login.user_id)
        .values(active_org_id=org_id)
        .execution_options(synchronize_session=False)
    )
    login.active_org_id = org_id


async def switch_active_org(session: AsyncSession, login: Session, ref: str) -> Acting | None:
    """Make organization ``ref`` (id or slug) the one ``login`` acts in.

    None when the person is not a member, whether or not such an organization exists:
    callers answer both the same way so nobody can probe for organizations.
    """
    chosen = find(await memberships(session, login.user_id), ref)
    if chosen is not None:
        await remember_active(session, login, chosen.org.id)
    return chosen
