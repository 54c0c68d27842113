"""``/api/v1/admin/keys``: the issuer's signing keys — listed to any admin (public facts
only), rotated by the superadmin (they sign for every organization)."""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError
from quart import request
from quart_schema import (
    RequestSchemaValidationError,
    document_request,
    document_response,
    validate_querystring,
    validate_response,
)
from sqlalchemy.ext.asyncio import AsyncSession

from portico.api.admin import bp
from portico.api.admin.common import (
    PageQuery,
    admin,
    caller,
    client_ip,
    encode_cursor,
    keyset_after,
    signed_in,
)
from portico.api.admin.platform_schemas import KeyOut, KeyPage, KeyRotation
from portico.api.schemas import Problem
from portico.audit.recorder import record
from portico.crypto.signing_keys import SUPPORTED_ALGS
from portico.errors import ValidationFailed
from portico.http import services
from portico.orgs.access import require_superadmin
from portico.storage.models import SigningKey

T = TypeVar("T")


def _newest_first(rows: list[SigningKey]) -> list[SigningKey]:
    return sorted(rows, key=lambda k: (k.created_at, k.kid), reverse=True)


@bp.get("/keys")
@signed_in
@admin()
@validate_querystring(PageQuery)
@validate_response(KeyPage)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def key_list(query_args: PageQuery) -> KeyPage:
    """Signing keys, newest first: ``next`` (published, not signing yet), ``active``
    (signing) and ``retired`` (published until ``expires_at``)."""
    limit = query_args.page_size()
    start = keyset_after(query_args.cursor, str)
    rows = _newest_first(await services().keys.list_keys())
    if start is not None:
        rows = [k for k in rows if (k.created_at, k.kid) < start]
    page = rows[:limit]
    cursor = encode_cursor(page[-1].created_at, page[-1].kid) if len(rows) > limit else None
    return KeyPage(items=[KeyOut.of(k) for k in page], next_cursor=cursor)


async def _rotation() -> tuple[str, ...]:
    """The algorithms asked for; the body is optional (none: every algorithm)."""
    if not (await request.get_data()).strip():
        return SUPPORTED_ALGS
    body = await request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("invalid body", {"body": "a JSON object, or nothing"})
    try:
        wanted = KeyRotation.model_validate(body)
    except ValidationError as exc:
        raise RequestSchemaValidationError(exc) from None
    return tuple(dict.fromkeys(wanted.algs)) if wanted.algs else SUPPORTED_ALGS


@bp.post("/keys/rotate")
@signed_in
@admin(write=True)
@document_request(KeyRotation)
@validate_response(KeyPage)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def key_rotate() -> KeyPage:
    """Superadmin only. For each algorithm: the published ``next`` key starts signing, the
    active one retires (still published until its tokens expire), a new ``next`` key is
    published. This instance signs with the new keys at once; others within seconds."""
    require_superadmin(caller().user)
    algs = await _rotation()
    svc = services()

    async def rotate(session: AsyncSession) -> list[SigningKey]:
        rows = await svc.keys.rotate(algs, session=session)
        activated = [k.kid[:12] for k in rows if k.status == "active" and k.alg in algs]
        await record(session, "keys.rotated", actor_id=caller().user.id, target="signing_keys",
                     ip=client_ip(), algs=list(algs), activated=activated, via="api")
        return rows

    rows = await svc.db.run(rotate)
    await svc.keys.load(force=True)
    return KeyPage(items=[KeyOut.of(k) for k in _newest_first(rows)], next_cursor=None)
