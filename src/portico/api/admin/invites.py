"""``/api/v1/admin/invites``: invite people into organizations, list, cancel, and copy a
pending invite's link again. The domain (``orgs.invites``) owns every rule; invites of
organizations outside the caller's scope answer 404 by id and 403 when named."""

from __future__ import annotations

from datetime import datetime

from quart import Response
from quart_schema import (
    document_response,
    validate_querystring,
    validate_request,
    validate_response,
)

from portico.api.admin import bp
from portico.api.admin.common import (
    admin,
    caller,
    client_ip,
    decode_cursor,
    encode_cursor,
    scope,
    signed_in,
)
from portico.api.admin.invites_schemas import (
    InviteCreated,
    InviteLink,
    InviteOut,
    InvitePage,
    InviteQuery,
    InviteRequest,
)
from portico.api.schemas import Problem
from portico.errors import ValidationFailed
from portico.http import services
from portico.orgs.invites import (
    InviteConfig,
    cancel_invite,
    create_invite,
    get_invite,
    invite_link,
    list_invites,
    resolve_org,
)
from portico.orgs.memberships import Actor
from portico.storage.models.base import utcnow

MAX_PAGE = 200


def _actor() -> Actor:
    return Actor(user=caller().user, scope=scope(), ip=client_ip())


def _config() -> InviteConfig:
    svc = services()
    return InviteConfig.of(svc.settings, svc.box)


@bp.post("/invites")
@signed_in
@admin(write=True)
@validate_request(InviteRequest)
@validate_response(InviteCreated, 201)
@document_response(Problem, 400)
@document_response(Problem, 403)
@document_response(Problem, 409)
@document_response(Problem, 401)
async def invite_create(data: InviteRequest) -> tuple[InviteCreated, int]:
    """Invite an email address into an organization. The answer holds the link; it is
    also mailed when SMTP is configured (``emailed``), and a mail failure keeps the
    invite (``emailed: false`` and a ``warning``). 409 naming ``email`` for a pending
    invite of the same address or an existing member."""
    svc = services()
    actor = _actor()
    org = await resolve_org(svc.db, actor, data.organization)
    made = await create_invite(svc.db, _config(), actor, org, data.email, data.role)
    out = InviteOut.of(made.invite, made.org, utcnow())
    return InviteCreated(**out.model_dump(), link=made.link, emailed=made.emailed,
                         warning=made.warning), 201


@bp.get("/invites")
@signed_in
@admin()
@validate_querystring(InviteQuery)
@validate_response(InvitePage)
@document_response(Problem, 400)
@document_response(Problem, 403)
@document_response(Problem, 401)
async def invite_list(query_args: InviteQuery) -> InvitePage:
    """Invites of the organizations the caller administers, newest first; filter by
    ``organization`` (id or slug) and ``status``."""
    if not 1 <= query_args.limit <= MAX_PAGE:
        raise ValidationFailed("invalid limit", {"limit": f"1 to {MAX_PAGE}"})
    svc = services()
    actor = _actor()
    org_id = None
    if query_args.organization:
        org_id = (await resolve_org(svc.db, actor, query_args.organization)).id
    cursor = decode_cursor(query_args.cursor, 2)
    after = None
    if cursor is not None:
        try:
            after = (datetime.fromisoformat(str(cursor[0])), str(cursor[1]))
        except ValueError:
            raise ValidationFailed("invalid cursor",
                                   {"cursor": "not a cursor from this API"}) from None
    rows = await list_invites(svc.db, actor, org_id=org_id, status=query_args.status,
                             after=after, limit=query_args.limit + 1)
    now = utcnow()
    items = [InviteOut.of(i, o, now) for i, o in rows[:query_args.limit]]
    more = len(rows) > query_args.limit
    last = rows[query_args.limit - 1][0] if more else None
    return InvitePage(items=items,
                      next_cursor=encode_cursor(last.created_at, last.id) if last else None)


@bp.get("/invites/<invite_id>")
@signed_in
@admin()
@validate_response(InviteOut)
@document_response(Problem, 404)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def invite_show(invite_id: str) -> InviteOut:
    """One invite (without its link: see ``/link``)."""
    invite, org = await get_invite(services().db, _actor(), invite_id)
    return InviteOut.of(invite, org, utcnow())


@bp.get("/invites/<invite_id>/link")
@signed_in
@admin(write=True)
@validate_response(InviteLink)
@document_response(Problem, 404)
@document_response(Problem, 409)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def invite_link_again(invite_id: str) -> InviteLink:
    """The link of a pending invite, to share it again; audited as ``invite.link_viewed``.
    409 once the invite was accepted, cancelled or expired. Needs a read-write
    credential: the link lets anyone join."""
    return InviteLink(link=await invite_link(services().db, _config(), _actor(), invite_id))


@bp.delete("/invites/<invite_id>")
@signed_in
@admin(write=True)
@document_response(Problem, 404)
@document_response(Problem, 409)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def invite_cancel(invite_id: str) -> Response:
    """Cancel an invite: its link stops working at once. 409 if it was accepted."""
    await cancel_invite(services().db, _actor(), invite_id)
    return Response(status=204)
