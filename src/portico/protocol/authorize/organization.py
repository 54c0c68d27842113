"""The ``org`` request parameter: which organization this authorization acts in.

An application serving several organizations names one by id or slug. It is only a
choice among the person's own memberships, so it can be checked only once we know who
signs in. A member gets it (and their session switches to it); anyone else is refused
with ``access_denied``, worded the same whether or not the organization exists, so the
parameter cannot be used to discover organizations.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from portico.orgs.active import (
    MAX_ORG_REF,
    Acting,
    active_org,
    find,
    memberships,
    remember_active,
)
from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.errors import AccessDenied, InvalidRequest
from portico.storage.models import Session, User

NOT_A_MEMBER = "You are not a member of the organization this application asked for."


async def check_org_hint(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Bound the value: an id or slug, never longer than either can be."""
    value = state.get("org")
    if value is not None and (len(value) > MAX_ORG_REF or not value.isprintable()):
        raise InvalidRequest("The org parameter must be an organization id or slug.")


async def requested_org(session: AsyncSession, user: User, org: str | None) -> Acting | None:
    """The membership the ``org`` parameter names (None when none was named);
    ``AccessDenied`` when ``user`` does not belong to it.

    Checked as soon as the person is known, so nobody consents to an authorization that
    cannot be completed.
    """
    if org is None:
        return None
    chosen = find(await memberships(session, user.id), org)
    if chosen is None:
        raise AccessDenied(NOT_A_MEMBER)
    return chosen


async def org_for_code(
    session: AsyncSession, login: Session, requested: Acting | None
) -> Acting | None:
    """The organization a new code acts in: the requested one, which becomes the
    session's active organization too, else the session's active organization."""
    if requested is None:
        return await active_org(session, login)
    await remember_active(session, login, requested.org.id)
    return requested
