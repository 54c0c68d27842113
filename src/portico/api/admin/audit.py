"""``/api/v1/admin/audit``: the audit log, newest first. Organization admins read the
events of their organizations; events of no organization are the superadmin's."""

from __future__ import annotations

import re
from datetime import datetime

from quart_schema import document_response, validate_querystring, validate_response

from portico.api.admin import bp
from portico.api.admin.common import admin, decode_cursor, encode_cursor, scope, signed_in
from portico.api.admin.platform_schemas import AuditOut, AuditPage, AuditQuery
from portico.api.schemas import Problem
from portico.errors import ValidationFailed
from portico.http import services
from portico.orgs.access import named_org
from portico.storage.repositories.audit import AuditFilter, AuditLog

RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def parse_time(value: str | None, field: str) -> datetime | None:
    """An RFC 3339 date-time with its offset, or a 400 naming ``field``. An unencoded
    ``+02:00`` arrives as `` 02:00`` (a ``+`` in a query is a space): taken as meant."""
    if value is None:
        return None
    text = re.sub(r" (\d{2}:\d{2})$", r"+\1", value.strip())
    parsed = None
    if RFC3339.fullmatch(text):
        try:
            parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationFailed("invalid time", {
            field: "an RFC 3339 date-time with offset, e.g. 2025-01-31T08:00:00Z"})
    return parsed


def _filter(query: AuditQuery, org_id: str | None) -> AuditFilter:
    since, until = parse_time(query.since, "since"), parse_time(query.until, "until")
    if since is not None and until is not None and since > until:
        raise ValidationFailed("invalid time range", {"since": "must not be after until"})
    action = query.action or None
    prefix = None
    if action is not None and action.endswith("*"):
        prefix, action = action[:-1], None
        if "*" in prefix:
            raise ValidationFailed("invalid action", {"action": "one * at the end only"})
    return AuditFilter(actor_id=query.actor or None, org_id=org_id, action=action,
                       action_prefix=prefix, outcome=query.outcome or None, since=since,
                       until=until)


def _before(cursor: str | None) -> int | None:
    values = decode_cursor(cursor, 1)
    if values is None:
        return None
    if not isinstance(values[0], int) or isinstance(values[0], bool):
        raise ValidationFailed("invalid cursor", {"cursor": "not a cursor from this API"})
    return values[0]


@bp.get("/audit")
@signed_in
@admin()
@validate_querystring(AuditQuery)
@validate_response(AuditPage)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def audit_list(query_args: AuditQuery) -> AuditPage:
    """Audit events, newest first. Filters: ``actor`` (user id), ``organization`` (id or
    slug; 403 if you do not administer it), ``action`` (exact, or a prefix with a trailing
    ``*``: ``login.*``), ``outcome``, and ``since``/``until`` (RFC 3339, inclusive)."""
    limit = query_args.page_size()
    before = _before(query_args.cursor)
    async with services().db.session() as session:
        org_id = None
        if query_args.organization:
            org_id = (await named_org(session, scope(), query_args.organization)).id
        where = _filter(query_args, org_id)
        rows = await AuditLog(session).page(scope(), where, before_id=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(items=[AuditOut.of(e) for e in rows],
                     next_cursor=encode_cursor(rows[-1].id) if more and rows else None)
