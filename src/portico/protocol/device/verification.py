"""The person's side of the device flow (RFC 8628 §3.3): find the request behind a user
code, and approve or deny it. The ``/device`` page calls these; they know nothing of
HTML, and the page knows nothing of SQL.

§5.4 (remote phishing): a code may have been sent to the person by an attacker, so
finding a request never approves it. The page always shows which application asks for
what, and only an explicit decision, by a signed-in person, changes the request, once
(a conditional UPDATE on ``status = 'pending'``).

Approving is the person's consent: it is remembered like an approval on the consent
page, so a later authorization-code request of the same client for the same scopes
skips that page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.orgs.active import Acting, active_org, find, memberships, remember_active
from portico.protocol.authorize.issue import ACR_PASSWORD
from portico.protocol.claims import ORGANIZATION_SCOPE
from portico.protocol.device.user_code import display, normalize
from portico.storage.db import Database
from portico.storage.models import Session, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.clients import Clients
from portico.storage.repositories.devices import PENDING, Decision, DeviceAuthorizations
from portico.storage.repositories.grants import Consents

# Why a code finds nothing to approve; each has its own wording on the page.
MALFORMED = "malformed"
UNKNOWN = "unknown"
EXPIRED = "expired"
USED = "used"
NOT_A_MEMBER = "not_a_member"


class CodeRefused(Exception):
    """The code leads to no request the person may decide (``reason`` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DeviceRequest:
    """What the page shows before the person decides."""

    id: str
    user_code: str  # as shown: XXXX-XXXX
    client_id: str
    client_name: str
    scopes: tuple[str, ...]
    expires_at: datetime
    # The person's memberships when the application asks for the organization scope and
    # they have several to choose from; empty otherwise.
    organizations: tuple[Acting, ...]
    active_org_id: str | None


async def find_request(db: Database, raw_code: str | None, login: Session) -> DeviceRequest:
    """The pending request shown under ``raw_code`` (typed or from the link), or
    ``CodeRefused``."""
    code = normalize(raw_code)
    if code is None:
        raise CodeRefused(MALFORMED)
    now = utcnow()
    async with db.session() as session:
        repo = DeviceAuthorizations(session)
        row = await repo.pending_by_user_code(code, now)
        if row is None:
            stale = await repo.by_user_code(code)
            if stale is None:
                raise CodeRefused(UNKNOWN)
            raise CodeRefused(EXPIRED if stale.status == PENDING else USED)
        client = await Clients(session).get(row.client_id)
        if client is None:
            raise CodeRefused(UNKNOWN)
        scopes = tuple(row.scope.split())
        choices: tuple[Acting, ...] = ()
        current = await active_org(session, login)
        if ORGANIZATION_SCOPE in scopes:
            mine = await memberships(session, login.user_id)
            choices = tuple(mine) if len(mine) > 1 else ()
    return DeviceRequest(
        id=row.id,
        user_code=display(code),
        client_id=client.id,
        client_name=client.name,
        scopes=scopes,
        expires_at=row.expires_at,
        organizations=choices,
        active_org_id=current.org.id if current else None,
    )


async def decide(
    db: Database,
    request: DeviceRequest,
    login: Session,
    user: User,
    *,
    approve: bool,
    org_ref: str | None = None,
    ip: str | None = None,
) -> bool:
    """Approve or deny ``request`` as ``user``; False when it was decided elsewhere or
    expired meanwhile. Approval records the organization the person acts in: the one
    chosen (it becomes the session's active organization, as with /authorize's ``org``
    parameter), else the session's."""
    async with db.session() as session:
        decision = None
        if approve:
            acting = await _organization(session, login, org_ref)
            decision = Decision(
                user_id=user.id,
                session_id=login.id,
                org_id=acting.org.id if acting else None,
                auth_time=login.auth_time,
                acr=login.acr or ACR_PASSWORD,
                amr=list(login.amr or []),
            )
        if not await DeviceAuthorizations(session).decide(request.id, decision):
            return False
        if approve:
            await Consents(session).grant(user.id, request.client_id, set(request.scopes))
        await record(
            session,
            "device.approved" if approve else "device.denied",
            actor_id=user.id,
            org_id=decision.org_id if decision else None,
            target=f"client:{request.client_id}",
            ip=ip,
            scopes=list(request.scopes),
        )
    return True


async def _organization(
    session: AsyncSession, login: Session, org_ref: str | None
) -> Acting | None:
    """The chosen membership (refused if the person is not a member), else the active one."""
    if not org_ref:
        return await active_org(session, login)
    chosen = find(await memberships(session, login.user_id), org_ref)
    if chosen is None:
        raise CodeRefused(NOT_A_MEMBER)
    await remember_active(session, login, chosen.org.id)
    return chosen
