"""Issuing the authorization code once every check and step is done."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portico.crypto.tokens import lookup_hash, new_id, random_token
from portico.protocol.authorize.request import AuthorizationRequest
from portico.storage.models import AuthorizationCode, Session
from portico.storage.models.base import utcnow
from portico.storage.repositories.grants import Codes

ACR_PASSWORD = "urn:portico:acr:password"


async def issue_code(
    session: AsyncSession,
    req: AuthorizationRequest,
    login: Session,
    ttl: int,
    org_id: str | None = None,
) -> str:
    """Store a new single-use code (its hash) bound to everything /token must check,
    including the organization the person acts in (``org_id``)."""
    code = random_token(32)
    now = utcnow()
    await Codes(session).add(
        AuthorizationCode(
            id=new_id(),
            code_hash=lookup_hash(code),
            client_id=req.client_id,
            user_id=login.user_id,
            session_id=login.id,
            org_id=org_id,
            redirect_uri=req.redirect_uri,
            scope=req.scope,
            nonce=req.nonce,
            code_challenge=req.code_challenge,
            code_challenge_method=req.code_challenge_method,
            claims=req.claims,
            auth_time=login.auth_time,
            acr=login.acr or ACR_PASSWORD,
            amr=list(login.amr or []),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    return code
