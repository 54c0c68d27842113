"""``/api/v1/admin/users``: accounts, as the organizations' admins manage them.

An organization admin sees the people of the organizations they administer and only
those memberships; account-level changes need every organization of the person to
be theirs (``accounts.admin_users`` holds the rules). The superadmin sees everyone.
"""

from __future__ import annotations

import re

from quart import Response
from quart_schema import (
    document_response,
    validate_querystring,
    validate_request,
    validate_response,
)

from portico.accounts import admin_users
from portico.accounts.passwords import PasswordPolicy
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
from portico.api.admin.users_schemas import (
    REF_PATTERN,
    AdminUser,
    CreatedUser,
    NewUser,
    TemporaryPassword,
    UserPage,
    UserPatch,
    UserQuery,
)
from portico.api.schemas import Problem
from portico.errors import NotFound
from portico.http import services
from portico.orgs.memberships import Actor

_REF = re.compile(REF_PATTERN)


def path_id(value: str, what: str = "user") -> str:
    """An id from the path; one Portico could never have made (a NUL, 10 kB) is simply
    not found, before any database sees it."""
    if len(value) > 64 or not _REF.match(value):
        raise NotFound(f"No such {what}.")
    return value


def actor() -> Actor:
    """The calling admin, their scope and address: what the domain rules and audit need."""
    return Actor(caller().user, scope(), client_ip())


def password_policy() -> PasswordPolicy:
    settings = services().settings
    return PasswordPolicy(settings.password_min_length, settings.password_require_classes)


@bp.get("/users")
@signed_in
@admin()
@validate_querystring(UserQuery)
@validate_response(UserPage)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def list_users(query_args: UserQuery) -> UserPage:
    """People in the organizations you administer, oldest first, with their memberships
    there. ``organization`` must be one you administer (403 otherwise)."""
    limit = query_args.page_size()
    after = keyset_after(query_args.cursor, str)
    db = services().db
    filters = await admin_users.account_filter(
        db, scope(), username=query_args.username, email=query_args.email,
        organization=query_args.organization, role=query_args.role,
        disabled=query_args.disabled, locked=query_args.locked)
    views = await admin_users.list_accounts(db, scope(), filters, after=after, limit=limit + 1)
    more = len(views) > limit
    views = views[:limit]
    cursor = encode_cursor(views[-1].user.created_at, views[-1].user.id) if more else None
    return UserPage(items=[AdminUser.of(v) for v in views], next_cursor=cursor)


@bp.post("/users")
@signed_in
@admin(write=True)
@validate_request(NewUser)
@validate_response(CreatedUser, 201)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 409)
async def create_user(data: NewUser) -> tuple[CreatedUser, int]:
    """Create an account in an organization you administer. Without ``password`` a
    temporary one is generated and shown in ``temporary_password`` this once; the
    person must change it at first sign-in. 409 names a taken username or email."""
    settings = services().settings
    created = await admin_users.create_account(
        services().db, actor(), username=data.username, email=data.email,
        password=data.password, policy=password_policy(), rounds=settings.bcrypt_rounds,
        name=data.name, organization=data.organization, role=data.role)
    body = AdminUser.of(created.view).model_dump()
    return CreatedUser(**body, temporary_password=created.temporary_password), 201


@bp.get("/users/<user_id>")
@signed_in
@admin()
@validate_response(AdminUser)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def get_user(user_id: str) -> AdminUser:
    """One person (404 outside the organizations you administer)."""
    view = await admin_users.get_account(services().db, scope(), path_id(user_id))
    return AdminUser.of(view)


@bp.patch("/users/<user_id>")
@signed_in
@admin(write=True)
@validate_request(UserPatch)
@validate_response(AdminUser)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
async def update_user(user_id: str, data: UserPatch) -> AdminUser:
    """Change username, email, display name or ``email_verified``. A changed email is
    unverified unless ``email_verified`` is sent too."""
    view = await admin_users.update_account(services().db, actor(), path_id(user_id),
                                            data.changes())
    return AdminUser.of(view)


async def _set_disabled(user_id: str, disabled: bool) -> AdminUser:
    view = await admin_users.set_disabled(services().db, actor(), path_id(user_id), disabled)
    return AdminUser.of(view)


@bp.post("/users/<user_id>/disable")
@signed_in
@admin(write=True)
@validate_response(AdminUser)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
async def disable_user(user_id: str) -> AdminUser:
    """Stop the person signing in and revoke every session, token and API key of
    theirs at once. Not yourself (409)."""
    return await _set_disabled(user_id, True)


@bp.post("/users/<user_id>/enable")
@signed_in
@admin(write=True)
@validate_response(AdminUser)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def enable_user(user_id: str) -> AdminUser:
    """Let a disabled person sign in again (revoked credentials stay revoked)."""
    return await _set_disabled(user_id, False)


@bp.delete("/users/<user_id>")
@signed_in
@admin(write=True)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
async def delete_user(user_id: str) -> Response:
    """Delete the account. Not yourself, not an organization's owner (transfer
    ownership first), not the last admin of an organization (409)."""
    await admin_users.delete_account(services().db, actor(), path_id(user_id))
    return Response(status=204)


@bp.post("/users/<user_id>/reset-password")
@signed_in
@admin(write=True)
@validate_response(TemporaryPassword)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def reset_password(user_id: str) -> TemporaryPassword:
    """A temporary password, shown this once; the person must change it at their next
    sign-in. Every session of theirs ends now and a lockout is lifted."""
    password = await admin_users.reset_password(
        services().db, actor(), path_id(user_id), policy=password_policy(),
        rounds=services().settings.bcrypt_rounds)
    return TemporaryPassword(temporary_password=password)


@bp.post("/users/<user_id>/unlock")
@signed_in
@admin(write=True)
@validate_response(AdminUser)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def unlock_user(user_id: str) -> AdminUser:
    """Lift a sign-in lockout now."""
    view = await admin_users.unlock_account(services().db, actor(), path_id(user_id))
    return AdminUser.of(view)
