"""``/api/v1/admin/organizations``: organizations and the people in them.

The rules (owner, last admin, only organization, who may create, delete or transfer)
live in ``orgs.memberships``; these handlers parse, call one rule and render. An
organization outside the caller's scope is a 404 like a missing one.
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
from portico.api.admin.common import PageQuery, admin, encode_cursor, keyset_after, scope, signed_in
from portico.api.admin.users import actor, path_id
from portico.api.admin.users_schemas import (
    MemberOut,
    MemberPage,
    NewMember,
    NewOrganization,
    OrganizationOut,
    OrganizationPage,
    OrganizationPatch,
    OrganizationQuery,
    OrganizationSummary,
    OwnershipTransfer,
    RoleChange,
)
from portico.api.schemas import Problem
from portico.errors import NotFound
from portico.http import services
from portico.orgs import memberships as rules
from portico.storage.models import Membership
from portico.storage.repositories.orgs import ScopedOrganizations
from portico.storage.repositories.users import Users


def org_ref(org_id: str) -> str:
    return path_id(org_id, "organization")


async def _detail(org_id: str) -> OrganizationOut:
    async with services().db.session() as session:
        orgs = ScopedOrganizations(session, scope())
        org = await orgs.get(org_ref(org_id))
        if org is None:
            raise NotFound("No such organization.")
        owner = await orgs.owner(org.id)
        return OrganizationOut(
            **OrganizationSummary.of(org).model_dump(), settings=dict(org.settings or {}),
            updated_at=org.updated_at, member_count=await orgs.member_count(org.id),
            admin_count=await orgs.admin_count(org.id),
            owner_id=owner.user_id if owner else None)


async def _member(membership: Membership) -> MemberOut:
    async with services().db.session() as session:
        user = await Users(session).get(membership.user_id)
    if user is None:  # deleted at this very moment
        raise NotFound("No such member.")
    return MemberOut.of(membership, user)


# --- organizations -----------------------------------------------------------------------


@bp.get("/organizations")
@signed_in
@admin()
@validate_querystring(OrganizationQuery)
@validate_response(OrganizationPage)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def list_organizations(query_args: OrganizationQuery) -> OrganizationPage:
    """The organizations you administer (every one, for the superadmin), oldest first;
    ``q`` matches the name or slug."""
    limit = query_args.page_size()
    after = keyset_after(query_args.cursor, str)
    async with services().db.session() as session:
        rows = await ScopedOrganizations(session, scope()).page(
            after=after, limit=limit + 1, query=(query_args.q or "").strip() or None)
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return OrganizationPage(items=[OrganizationSummary.of(o) for o in rows], next_cursor=cursor)


@bp.post("/organizations")
@signed_in
@admin(write=True)
@validate_request(NewOrganization)
@validate_response(OrganizationOut, 201)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 409)
async def create_organization(data: NewOrganization) -> tuple[OrganizationOut, int]:
    """Create an organization (superadmin only); ``owner_id`` becomes its owner and admin."""
    org = await rules.create_organization(services().db, actor(), name=data.name,
                                          slug=data.slug, owner_id=data.owner_id,
                                          settings=data.settings)
    return await _detail(org.id), 201


@bp.get("/organizations/<org_id>")
@signed_in
@admin()
@validate_response(OrganizationOut)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def get_organization(org_id: str) -> OrganizationOut:
    """One organization: settings, member and admin counts, owner."""
    return await _detail(org_id)


@bp.patch("/organizations/<org_id>")
@signed_in
@admin(write=True)
@validate_request(OrganizationPatch)
@validate_response(OrganizationOut)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
async def update_organization(org_id: str, data: OrganizationPatch) -> OrganizationOut:
    """Rename, re-slug (409 when taken) or replace the settings object."""
    await rules.update_organization(services().db, actor(), org_ref(org_id), name=data.name,
                                    slug=data.slug, settings=data.settings)
    return await _detail(org_id)


@bp.delete("/organizations/<org_id>")
@signed_in
@admin(write=True)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
async def delete_organization(org_id: str) -> Response:
    """Delete an organization (superadmin only). 409 while someone would be left
    without any organization: move or delete them first."""
    await rules.delete_organization(services().db, actor(), org_ref(org_id))
    return Response(status=204)


@bp.post("/organizations/<org_id>/transfer-ownership")
@signed_in
@admin(write=True)
@validate_request(OwnershipTransfer)
@validate_response(OrganizationOut)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def transfer_ownership(org_id: str, data: OwnershipTransfer) -> OrganizationOut:
    """Make another member the owner (the current owner or the superadmin only); the
    previous owner stays an admin."""
    await rules.transfer_ownership(services().db, actor(), org_ref(org_id), data.user_id)
    return await _detail(org_id)


# --- memberships -------------------------------------------------------------------------


@bp.get("/organizations/<org_id>/members")
@signed_in
@admin()
@validate_querystring(PageQuery)
@validate_response(MemberPage)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def list_members(org_id: str, query_args: PageQuery) -> MemberPage:
    """The organization's members, in the order they joined."""
    limit = query_args.page_size()
    after = keyset_after(query_args.cursor, int)
    async with services().db.session() as session:
        orgs = ScopedOrganizations(session, scope())
        if await orgs.get(org_ref(org_id)) is None:
            raise NotFound("No such organization.")
        rows = await orgs.members(org_id, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1][0].created_at, rows[-1][0].id) if more else None
    return MemberPage(items=[MemberOut.of(m, u) for m, u in rows], next_cursor=cursor)


@bp.post("/organizations/<org_id>/members")
@signed_in
@admin(write=True)
@validate_request(NewMember)
@validate_response(MemberOut, 201)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
async def add_member(org_id: str, data: NewMember) -> tuple[MemberOut, int]:
    """Add someone you can already see (a member of another organization you
    administer; anyone, for the superadmin). Others join by invite."""
    membership = await rules.add_member(services().db, actor(), org_ref(org_id), data.user_id,
                                        data.role)
    return await _member(membership), 201


@bp.patch("/organizations/<org_id>/members/<user_id>")
@signed_in
@admin(write=True)
@validate_request(RoleChange)
@validate_response(MemberOut)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
async def change_role(org_id: str, user_id: str, data: RoleChange) -> MemberOut:
    """Promote or demote. The owner stays an admin and the last admin cannot be
    demoted (409)."""
    membership = await rules.change_role(services().db, actor(), org_ref(org_id),
                                         path_id(user_id, "member"), data.role)
    return await _member(membership)


@bp.delete("/organizations/<org_id>/members/<user_id>")
@signed_in
@admin(write=True)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
async def remove_member(org_id: str, user_id: str) -> Response:
    """Take someone out of the organization: never the owner, the last admin, or a
    person's only organization (delete the account instead) (409)."""
    await rules.remove_member(services().db, actor(), org_ref(org_id), path_id(user_id, "member"))
    return Response(status=204)
