"""``/api/v1/auth/sessions`` and ``/api/v1/auth/api-keys``: the credentials a person
holds, listed and revoked by that person only (another person's id is a 404).

API keys are shown once (``pk_…``); lists show the prefix, access level and last use,
never the hash. Revocation is effective on the next request: every use looks the
key up.
"""

from __future__ import annotations

from quart import Response
from quart_schema import document_response, validate_request, validate_response

from portico.accounts.api_keys import create_api_key, list_api_keys, revoke_api_key
from portico.accounts.sessions import end_session, list_sessions
from portico.api.auth import bp, client_ip, principal, signed_in
from portico.api.credentials import authenticated
from portico.api.schemas import (
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyOut,
    ApiKeyRequest,
    Problem,
    SessionList,
    SessionOut,
)
from portico.http import services
from portico.protocol.first_party import SYSTEM_CLIENT_ID
from portico.web.session_cookie import clear_session_cookie

# --- sessions ------------------------------------------------------------------------


@bp.get("/sessions")
@signed_in
@authenticated()
@validate_response(SessionList)
@document_response(Problem, 401)
async def sessions() -> SessionList:
    """The caller's live sessions (browser and API), the current one marked."""
    caller = principal()
    async with services().db.session() as session:
        rows = await list_sessions(session, caller.user.id)
    current = caller.session.id if caller.session else None
    return SessionList(sessions=[SessionOut.of(row, current) for row in rows])


@bp.delete("/sessions/<session_id>")
@signed_in
@authenticated(write=True)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def revoke_session(session_id: str) -> Response:
    """Sign out one of the caller's sessions (a lost laptop, say), with the API tokens
    issued for it. Another person's session, or one already over, is a 404."""
    caller = principal()
    await end_session(services().db, caller.user.id, session_id[:64],
                      token_client_id=SYSTEM_CLIENT_ID, action="session.revoked",
                      ip=client_ip())
    response = Response(status=204)
    if caller.session is not None and caller.session.id == session_id:
        clear_session_cookie(response)
    return response


# --- API keys --------------------------------------------------------------------------


@bp.get("/api-keys")
@signed_in
@authenticated()
@validate_response(ApiKeyList)
@document_response(Problem, 401)
async def api_keys() -> ApiKeyList:
    """The caller's live keys: prefix, access, created, expires, last used."""
    rows = await list_api_keys(services().db, principal().user.id)
    return ApiKeyList(api_keys=[ApiKeyOut.of(row) for row in rows])


@bp.post("/api-keys")
@signed_in
@authenticated(write=True)
@validate_request(ApiKeyRequest)
@validate_response(ApiKeyCreated, 201)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def create_key(data: ApiKeyRequest) -> tuple[ApiKeyCreated, int]:
    """Create a key (``read`` or ``read_write``, optional expiry); the secret in ``key``
    is shown this once and only its SHA-256 is stored."""
    created = await create_api_key(services().db, principal().user, data.name, data.access,
                                   data.expires_at, ip=client_ip())
    listed = ApiKeyOut.of(created.row)
    return ApiKeyCreated(**listed.model_dump(), key=created.secret), 201


@bp.delete("/api-keys/<key_id>")
@signed_in
@authenticated(write=True)
@document_response(Problem, 401)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def delete_key(key_id: str) -> Response:
    """Revoke one of the caller's keys; it is refused from the very next request."""
    await revoke_api_key(services().db, principal().user.id, key_id[:64], ip=client_ip())
    return Response(status=204)
