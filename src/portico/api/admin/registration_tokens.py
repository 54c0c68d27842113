"""``/api/v1/admin/registration-tokens``: initial access tokens for dynamic client
registration (RFC 7591 §3), when ``client_registration = token``.

A token is bound to an organization: the clients registered with it belong there. An
organization admin manages the tokens of the organizations they administer; tokens
of no organization are the superadmin's. The token is in the creation answer only;
every change is audited (``portico.protocol.registration.service``).
"""

from __future__ import annotations

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
    encode_cursor,
    keyset_after,
    scope,
    signed_in,
)
from portico.api.admin.registration_schemas import (
    NewRegistrationToken,
    RegistrationTokenCreated,
    RegistrationTokenOut,
    RegistrationTokenPage,
    RegistrationTokenQuery,
)
from portico.api.schemas import Problem
from portico.clients import owner_org
from portico.http import services
from portico.orgs.access import named_org
from portico.protocol.registration.service import (
    create_initial_access_token,
    list_initial_access_tokens,
    revoke_initial_access_token,
    token_status,
)
from portico.storage.models.base import utcnow


@bp.post("/registration-tokens")
@signed_in
@admin(write=True)
@validate_request(NewRegistrationToken)
@validate_response(RegistrationTokenCreated, 201)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def registration_token_create(
        data: NewRegistrationToken) -> tuple[RegistrationTokenCreated, int]:
    """Create an initial access token. ``token`` is in this answer only."""
    db = services().db
    org_id = await owner_org(db, scope(), data.organization)
    issued = await create_initial_access_token(
        db, org_id=org_id, description=data.description, expires_in=data.expires_in,
        max_uses=data.max_uses, actor_id=caller().user.id, ip=client_ip(), via="api")
    out = RegistrationTokenOut.of(issued.row, token_status(issued.row, utcnow()))
    return RegistrationTokenCreated(**out.model_dump(), token=issued.token), 201


@bp.get("/registration-tokens")
@signed_in
@admin()
@validate_querystring(RegistrationTokenQuery)
@validate_response(RegistrationTokenPage)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def registration_token_list(query_args: RegistrationTokenQuery) -> RegistrationTokenPage:
    """Initial access tokens of the organizations you administer, oldest first."""
    db = services().db
    limit = query_args.page_size()
    org_id = None
    if query_args.organization:
        async with db.session() as session:
            org_id = (await named_org(session, scope(), query_args.organization)).id
    rows = await list_initial_access_tokens(db, scope(), org_id=org_id,
                                            after=keyset_after(query_args.cursor, str),
                                            limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    now = utcnow()
    cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return RegistrationTokenPage(items=[RegistrationTokenOut.of(r, token_status(r, now))
                                        for r in rows], next_cursor=cursor)


@bp.delete("/registration-tokens/<token_id>")
@signed_in
@admin(write=True)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def registration_token_revoke(token_id: str) -> Response:
    """Revoke a token: registrations with it are refused at once. Clients already
    registered with it stay."""
    await revoke_initial_access_token(services().db, scope(), token_id,
                                      actor_id=caller().user.id, ip=client_ip(), via="api")
    return Response(status=204)
