"""Invitations: an admin invites an email address into an organization with a role.

* The token is 32 random bytes; its SHA-256 finds the row and the raw token is kept
  sealed under the master key, so an admin can copy the link again (SPEC: invites).
* No two usable invites for one address in one organization: ``pending_key`` is
  unique while an invite is usable. An invite that expired unused frees its key in
  the same transaction that creates the next one.
* Accepting is one conditional UPDATE in the transaction that also creates the
  account (or the membership), so of two acceptances exactly one wins, and a refused
  account (taken username) leaves the invite usable.

Raw tokens never reach the audit log, an error message or a repr.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.passwords import PasswordPolicy
from portico.accounts.users import insert_user, normalise_email, prepare_user
from portico.audit.recorder import record
from portico.crypto.secretbox import SecretBox, SecretBoxError
from portico.crypto.tokens import lookup_hash, new_id, random_token
from portico.errors import Conflict, Forbidden, NotFound, PorticoError, ValidationFailed
from portico.orgs.access import named_org
from portico.orgs.mailer import Mail, Mailer, MailError
from portico.orgs.memberships import Actor, check_role
from portico.settings import Settings
from portico.storage.db import Database
from portico.storage.models import Invite, Organization, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.invites import STATUSES, Invites, pending_key
from portico.storage.repositories.orgs import ScopedOrganizations
from portico.storage.repositories.users import Users
from portico.storage.scope import OrgScope

log = logging.getLogger("portico.invites")
MAX_TOKEN_LENGTH = 100
GONE = {
    "expired": "This invitation has expired. Ask the person who invited you for a new one.",
    "accepted": "This invitation has already been used.",
    "cancelled": "This invitation was cancelled.",
    "unknown": "This invitation link is not valid. Check that you copied all of it.",
}


class InviteUnavailable(PorticoError):
    """The link names no usable invite; ``state`` says why (unknown, expired, ...)."""

    def __init__(self, state: str) -> None:
        super().__init__(GONE[state])
        self.state = state


@dataclass(frozen=True)
class InviteConfig:
    """What invites need from the configuration: the sealing key, the issuer (links),
    the lifetime and, when SMTP is configured, a mailer."""

    box: SecretBox
    issuer: str
    ttl: int
    mailer: Mailer | None = None

    @classmethod
    def of(cls, settings: Settings, box: SecretBox) -> InviteConfig:
        return cls(box, settings.issuer, settings.invite_ttl, Mailer.from_settings(settings))

    def link(self, token: str) -> str:
        return f"{self.issuer}/invite/{token}"


@dataclass(frozen=True)
class Created:
    """A new invite and its link; ``warning`` says why it was not mailed, if it was not."""

    invite: Invite
    org: Organization
    link: str
    emailed: bool
    warning: str | None = None

    def __repr__(self) -> str:
        return f"Created(invite={self.invite!r}, emailed={self.emailed})"


@dataclass(frozen=True)
class Preview:
    """What the invite page may show to whoever holds the link: nothing secret."""

    status: str
    org_name: str
    email: str
    role: str
    expires_at: datetime
    has_account: bool


@dataclass(frozen=True)
class Accepted:
    """The person who accepted, the organization they joined and their role there."""

    user: User
    org: Organization
    role: str
    new_account: bool


def _where(invite_id: str) -> str:
    return f"invites:{invite_id}:token_sealed"


def _scope(actor: Actor | None) -> OrgScope:
    """``None`` is the operator on the host (CLI), who may act on every organization."""
    return actor.scope if actor else OrgScope.everything()


def _who(actor: Actor | None) -> dict[str, str | None]:
    return {"actor_id": actor.user.id if actor else None, "ip": actor.ip if actor else None}


def check_status(status: str | None) -> str | None:
    if status is not None and status not in STATUSES:
        raise ValidationFailed("invalid status", {"status": " | ".join(STATUSES)})
    return status


async def resolve_org(db: Database, actor: Actor | None, ref: str | None) -> Organization:
    """The organization an invite is for: named by id or slug, or, when omitted, the one
    organization the caller administers. Naming one outside the caller's scope is 403."""
    scope = _scope(actor)

    async def read(session: AsyncSession) -> Organization:
        orgs = ScopedOrganizations(session, scope)
        if ref is None or not ref.strip():
            if scope.org_ids is None or len(scope.org_ids) != 1:
                raise ValidationFailed("organization required", {
                    "organization": "required: you administer several organizations"})
            found = await orgs.get(next(iter(scope.org_ids)))
        else:
            return await named_org(session, scope, ref)
        if found is None:
            raise ValidationFailed("unknown organization",
                                   {"organization": "no such organization"})
        return found

    return await db.run(read)


# --- admin side --------------------------------------------------------------------


async def create_invite(db: Database, cfg: InviteConfig, actor: Actor | None,
                        org: Organization, email: str, role: str) -> Created:
    """Invite ``email`` into ``org`` as ``role``; 409 naming ``email`` for a duplicate
    pending invite or an existing member. The mail (if configured) goes out after the
    invite is stored, so a mail failure never loses it."""
    address = normalise_email(email)
    check_role(role)
    if not _scope(actor).allows(org.id):
        raise Forbidden("You do not administer this organization.")
    token = random_token(32)
    invite_id = new_id()
    now = utcnow()
    key = pending_key(org.id, address)

    async def write(session: AsyncSession) -> Invite:
        invites = Invites(session)
        if await invites.is_member_email(org.id, address):
            raise Conflict("already a member", fields={"email": "already a member"})
        await invites.release_expired(key, now)
        if await invites.pending(key) is not None:
            raise Conflict("already invited", fields={"email": "already has a pending invite"})
        invite = Invite(id=invite_id, org_id=org.id, email=address, role=role,
                        token_hash=lookup_hash(token),
                        token_sealed=cfg.box.seal(token.encode(), _where(invite_id)),
                        pending_key=key, invited_by=actor.user.id if actor else None,
                        created_at=now, expires_at=now + timedelta(seconds=cfg.ttl))
        try:
            async with session.begin_nested():
                await invites.add(invite)
        except IntegrityError:  # a concurrent invite of the same address won
            raise Conflict("already invited",
                           fields={"email": "already has a pending invite"}) from None
        await record(session, "invite.created", org_id=org.id, target=f"invite:{invite_id}",
                     email=address, role=role, **_who(actor))
        return invite

    invite = await db.run(write)
    link = cfg.link(token)
    if cfg.mailer is None:
        return Created(invite, org, link, emailed=False)
    warning = await _mail_invite(db, cfg.mailer, invite, org, link)
    return Created(invite, org, link, emailed=warning is None, warning=warning)


def invite_mail(invite: Invite, org: Organization, link: str) -> Mail:
    """The invitation mail: plain text, the link and when it stops working."""
    article = "an" if invite.role == "admin" else "a"
    body = (
        f"You have been invited to join {org.name} as {article} {invite.role}.\n\n"
        f"To accept, open this link and create your account (or sign in):\n\n{link}\n\n"
        f"The link works once and expires on {invite.expires_at:%Y-%m-%d %H:%M} UTC.\n"
        "If you did not expect this invitation, you can ignore this mail.\n")
    return Mail(to=invite.email, subject=f"Invitation to join {org.name}", body=body)


async def _mail_invite(db: Database, mailer: Mailer, invite: Invite, org: Organization,
                       link: str) -> str | None:
    """Send the mail and record the outcome; the warning to show when it failed."""
    try:
        await mailer.send(invite_mail(invite, org, link))
    except MailError as exc:
        log.warning("invite %s was not mailed: %s", invite.id, exc)
        warning: str | None = f"The invitation was saved but not mailed: {exc}."
    else:
        warning = None

    async def write(session: AsyncSession) -> None:
        if warning is None:
            await Invites(session).mark_emailed(invite.id, utcnow())
        await record(session, "invite.emailed", outcome="success" if warning is None
                     else "failure", org_id=invite.org_id, target=f"invite:{invite.id}")

    await db.run(write)
    if warning is None:
        invite.emailed_at = utcnow()
    return warning


async def get_invite(db: Database, actor: Actor | None,
                     invite_id: str) -> tuple[Invite, Organization]:
    """An invite of an organization the caller administers (else 404)."""

    async def read(session: AsyncSession) -> tuple[Invite, Organization]:
        found = await Invites(session, _scope(actor)).get(invite_id[:64])
        if found is None:
            raise NotFound("No such invite.")
        return found

    return await db.run(read)


async def list_invites(db: Database, actor: Actor | None, *, org_id: str | None,
                       status: str | None, after: tuple[datetime, str] | None,
                       limit: int) -> list[tuple[Invite, Organization]]:
    """Invites of the caller's organizations, newest first."""
    check_status(status)

    async def read(session: AsyncSession) -> list[tuple[Invite, Organization]]:
        return await Invites(session, _scope(actor)).page(
            now=utcnow(), org_id=org_id, status=status, after=after, limit=limit)

    return await db.run(read)


async def cancel_invite(db: Database, actor: Actor | None, invite_id: str) -> Invite:
    """Cancel an unused invite; cancelling twice is harmless, an accepted one is 409."""

    async def write(session: AsyncSession) -> Invite:
        invites = Invites(session, _scope(actor))
        found = await invites.get(invite_id[:64])
        if found is None:
            raise NotFound("No such invite.")
        invite = found[0]
        if invite.accepted_at is not None:
            raise Conflict("This invite was already accepted.")
        if await invites.cancel(invite.id, utcnow()):
            await record(session, "invite.cancelled", org_id=invite.org_id,
                         target=f"invite:{invite.id}", email=invite.email, **_who(actor))
        return invite

    return await db.run(write)


async def invite_link(db: Database, cfg: InviteConfig, actor: Actor | None,
                      invite_id: str) -> str:
    """The link of a pending invite, again (audited); 409 once it cannot be used."""

    async def read(session: AsyncSession) -> str:
        found = await Invites(session, _scope(actor)).get(invite_id[:64])
        if found is None:
            raise NotFound("No such invite.")
        invite = found[0]
        status = invite.status(utcnow())
        if status != "pending":
            raise Conflict(f"This invite is {status}: its link no longer works.")
        try:
            token = cfg.box.open(invite.token_sealed, _where(invite.id)).decode()
        except SecretBoxError:
            raise Conflict("This invite's link cannot be recovered (was the master key "
                           "changed?): cancel it and invite again.") from None
        await record(session, "invite.link_viewed", org_id=invite.org_id,
                     target=f"invite:{invite.id}", **_who(actor))
        return cfg.link(token)

    return await db.run(read)


# --- invitee side ------------------------------------------------------------------


def _token_hash(token: str) -> str | None:
    """The lookup hash of a plausible token; None for input no token could match."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return lookup_hash(token)


async def preview(db: Database, token: str) -> Preview:
    """What the invite page shows; ``InviteUnavailable("unknown")`` for a bad link."""
    token_hash = _token_hash(token)
    if token_hash is None:
        raise InviteUnavailable("unknown")

    async def read(session: AsyncSession) -> Preview:
        invites = Invites(session)
        found = await invites.by_token_hash(token_hash)
        if found is None:
            raise InviteUnavailable("unknown")
        invite, org = found
        return Preview(invite.status(utcnow()), org.name, invite.email, invite.role,
                       invite.expires_at, await invites.email_has_account(invite.email))

    return await db.run(read)


async def _consume(session: AsyncSession, token_hash: str) -> Invite:
    """Win the invite for this transaction, or say why it cannot be had."""
    invites = Invites(session)
    invite = await invites.consume(token_hash, utcnow())
    if invite is not None:
        return invite
    found = await invites.by_token_hash(token_hash)
    raise InviteUnavailable(found[0].status(utcnow()) if found else "unknown")


async def _join(session: AsyncSession, invite: Invite, user: User) -> Organization:
    """Add the membership the invite grants (the org row locked, like every change)."""
    orgs = ScopedOrganizations(session, OrgScope.everything())
    org = await orgs.lock(invite.org_id)
    if org is None:
        raise InviteUnavailable("unknown")
    if await orgs.membership(org.id, user.id) is not None:
        raise Conflict(f"You are already a member of {org.name}.")
    await orgs.add_member(org.id, user.id, invite.role)
    await Invites(session).set_accepted_by(invite.id, user.id)
    return org


async def accept_with_new_account(db: Database, token: str, *, username: str,
                                  password: str, name: str | None, policy: PasswordPolicy,
                                  rounds: int, email: str | None = None,
                                  ip: str | None = None) -> Accepted:
    """Register through an invite: the account gets the invited (verified) email and
    the invite's membership. A refused account (taken username, weak password) leaves
    the invite unused; ``email``, when given, must be the invited address."""
    current = await preview(db, token)
    if current.status != "pending":
        raise InviteUnavailable(current.status)
    if email is not None and normalise_email(email) != current.email:
        raise ValidationFailed("not the invited address",
                               {"email": "this invitation was sent to another address"})
    new = await prepare_user(username=username, email=current.email, password=password,
                             policy=policy, rounds=rounds, name=name, email_verified=True)
    token_hash = lookup_hash(token)

    async def write(session: AsyncSession) -> Accepted:
        invite = await _consume(session, token_hash)
        try:
            async with session.begin_nested():
                user = await insert_user(session, new)
        except IntegrityError:  # registered by someone else between check and insert
            name_taken, email_taken = await Users(session).taken(new.key, new.email)
            fields = {"username": "already taken"} if name_taken or not email_taken else {}
            if email_taken:
                fields["email"] = "already registered"
            raise Conflict("the username or email is already in use", fields=fields) from None
        org = await _join(session, invite, user)
        await record(session, "user.registered", actor_id=user.id, org_id=org.id,
                     target=f"user:{user.id}", ip=ip, username=user.username,
                     role=invite.role, via="invite")
        await record(session, "invite.accepted", actor_id=user.id, org_id=org.id,
                     target=f"invite:{invite.id}", ip=ip, role=invite.role, new_account=True)
        return Accepted(user, org, invite.role, new_account=True)

    return await db.run(write)


async def accept_as_user(db: Database, token: str, user: User,
                         ip: str | None = None) -> Accepted:
    """A signed-in person joins through an invite sent to their own email address."""
    token_hash = _token_hash(token)
    if token_hash is None:
        raise InviteUnavailable("unknown")

    async def write(session: AsyncSession) -> Accepted:
        found = await Invites(session).by_token_hash(token_hash)
        if found is None:
            raise InviteUnavailable("unknown")
        status = found[0].status(utcnow())
        if status != "pending":
            raise InviteUnavailable(status)
        if found[0].email != user.email:
            raise Forbidden("This invitation was sent to another address.")
        invite = await _consume(session, token_hash)
        org = await _join(session, invite, user)
        await record(session, "invite.accepted", actor_id=user.id, org_id=org.id,
                     target=f"invite:{invite.id}", ip=ip, role=invite.role, new_account=False)
        return Accepted(user, org, invite.role, new_account=False)

    return await db.run(write)
