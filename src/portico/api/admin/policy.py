"""``/api/v1/admin/policy``: the authentication policy in force — read by any admin,
changed by the superadmin (it binds every organization). ``portico.policy`` explains how
a change reaches every instance."""

from __future__ import annotations

from typing import Any

from quart_schema import document_response, validate_request, validate_response

from portico.api.admin import bp
from portico.api.admin.common import admin, caller, client_ip, signed_in
from portico.api.admin.platform_schemas import PolicyOut, PolicyPatch
from portico.api.schemas import Problem
from portico.http import services
from portico.orgs.access import require_superadmin
from portico.policy import update_policy


@bp.get("/policy")
@signed_in
@admin()
@validate_response(PolicyOut)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def policy_show() -> PolicyOut:
    """Each policy field: the value in force, whether it comes from ``configuration`` or
    was set by an ``admin``, and the configured value a reset returns to."""
    return PolicyOut.of(await services().policy.entries())


@bp.patch("/policy")
@signed_in
@admin(write=True)
@validate_request(PolicyPatch)
@validate_response(PolicyOut)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def policy_update(data: Any) -> PolicyOut:
    """Superadmin only. Set the fields given (same bounds as the configuration); ``null``
    resets a field to its configured value. Applies on this instance at once and on every
    other within about a second."""
    require_superadmin(caller().user)
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    svc = services()
    if not changes:
        return PolicyOut.of(await svc.policy.entries())
    entries = await update_policy(svc, changes, actor_id=caller().user.id, ip=client_ip())
    return PolicyOut.of(entries)
