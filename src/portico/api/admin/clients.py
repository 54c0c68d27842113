"""``/api/v1/admin/clients``: the relying parties of the organizations an admin manages.

Organization admins see and change the clients of their organizations; instance-wide
clients (no organization) and first-party trust are the superadmin's. The built-in
``portico`` client never appears. A secret is in the answer that issues it (creation,
rotation, a switch to a secret-based method) and nowhere else; ``portico.clients``
holds the rules and audits every change.
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
from portico.api.admin.platform_schemas import (
    ClientCreated,
    ClientOut,
    ClientPage,
    ClientPatch,
    ClientQuery,
    ClientSecret,
    NewClient,
)
from portico.api.schemas import Problem
from portico.clients import (
    check_first_party,
    get_client,
    list_clients,
    owner_org,
    register_client,
    remove_client,
    rotate_secret,
    update_client,
)
from portico.http import services
from portico.orgs.access import named_org
from portico.orgs.memberships import Actor

# NewClient fields passed to ``register_client(metadata=…)`` as they are (ClientFields names).
PROTOCOL_METADATA = {
    "request_object_signing_alg", "subject_type", "sector_identifier_uri",
    "id_token_encrypted_response_alg", "id_token_encrypted_response_enc",
    "userinfo_encrypted_response_alg", "userinfo_encrypted_response_enc", "extra_metadata",
    "response_types", "access_token_signed_response_alg", "authorization_signed_response_alg",
    "authorization_encrypted_response_alg", "authorization_encrypted_response_enc",
    "require_pushed_authorization_requests", "dpop_bound_access_tokens",
    "token_endpoint_auth_signing_alg"}


def _actor() -> Actor:
    return Actor(caller().user, scope(), client_ip())


@bp.get("/clients")
@signed_in
@admin()
@validate_querystring(ClientQuery)
@validate_response(ClientPage)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def client_list(query_args: ClientQuery) -> ClientPage:
    """Clients of the organizations you administer (the superadmin: every client,
    instance-wide ones included), oldest first; filter by ``organization``."""
    db = services().db
    limit = query_args.page_size()
    org_id = None
    if query_args.organization:
        async with db.session() as session:
            org_id = (await named_org(session, scope(), query_args.organization)).id
    after = keyset_after(query_args.cursor, str)
    rows = await list_clients(db, scope(), org_id=org_id, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return ClientPage(items=[ClientOut.of(c) for c in rows], next_cursor=cursor)


@bp.post("/clients")
@signed_in
@admin(write=True)
@validate_request(NewClient)
@validate_response(ClientCreated, 201)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 409)
async def client_create(data: NewClient) -> tuple[ClientCreated, int]:
    """Register a client. ``client_secret`` is in this answer only (none for public and
    ``private_key_jwt`` clients): store it now."""
    actor = _actor()
    check_first_party(actor, data.first_party)
    db = services().db
    org_id = await owner_org(db, actor.scope, data.organization)
    reg = await register_client(
        db, name=data.name, redirect_uris=data.redirect_uris,
        post_logout_redirect_uris=data.post_logout_redirect_uris,
        auth_method=data.token_endpoint_auth_method,
        grant_types=list(data.grant_types) if data.grant_types else None,
        first_party=data.first_party, scope=data.scope,
        id_token_alg=data.id_token_signed_response_alg,
        userinfo_alg=data.userinfo_signed_response_alg, jwks=data.jwks,
        jwks_uri=data.jwks_uri, org_id=org_id, actor_id=actor.user.id, ip=actor.ip, via="api",
        backchannel_logout_uri=data.backchannel_logout_uri,
        backchannel_logout_session_required=data.backchannel_logout_session_required,
        frontchannel_logout_uri=data.frontchannel_logout_uri,
        frontchannel_logout_session_required=data.frontchannel_logout_session_required,
        metadata=data.model_dump(include=PROTOCOL_METADATA))
    out = ClientOut.of(reg.client).model_dump()
    return ClientCreated(**out, client_secret=reg.secret), 201


@bp.get("/clients/<client_id>")
@signed_in
@admin()
@validate_response(ClientOut)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def client_show(client_id: str) -> ClientOut:
    """One client (404 when it is not one of yours)."""
    return ClientOut.of(await get_client(services().db, scope(), client_id))


@bp.patch("/clients/<client_id>")
@signed_in
@admin(write=True)
@validate_request(ClientPatch)
@validate_response(ClientCreated)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def client_update(client_id: str, data: ClientPatch) -> ClientCreated:
    """Change some fields; the metadata is checked as a whole. Switching to a secret-based
    method issues a secret (in this answer only); switching away deletes it."""
    reg = await update_client(services().db, _actor(), client_id, data.changes())
    return ClientCreated(**ClientOut.of(reg.client).model_dump(), client_secret=reg.secret)


@bp.delete("/clients/<client_id>")
@signed_in
@admin(write=True)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def client_delete(client_id: str) -> Response:
    """Delete a client; every code, access and refresh token issued to it is revoked with
    it (introspection and userinfo refuse them at once)."""
    actor = _actor()
    await remove_client(services().db, actor.scope, client_id, actor_id=actor.user.id,
                        ip=actor.ip)
    return Response(status=204)


@bp.post("/clients/<client_id>/secret")
@signed_in
@admin(write=True)
@validate_response(ClientSecret)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
async def client_rotate_secret(client_id: str) -> ClientSecret:
    """Issue a new secret (shown this once); the old one stops working immediately. 409 for
    clients that authenticate without a secret."""
    reg = await rotate_secret(services().db, _actor(), client_id)
    assert reg.secret is not None
    return ClientSecret(client_id=reg.client.id, client_secret=reg.secret)
