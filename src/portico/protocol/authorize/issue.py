"""Issuing what the response type asks for once every check and step is done: a
code, an access token, an ID token, or several of them (OIDC Core §3.3.2.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portico.crypto.tokens import lookup_hash, new_id, random_token
from portico.orgs.active import Acting
from portico.protocol import tokens
from portico.protocol.authlib_bridge.adapters import UserAdapter
from portico.protocol.authlib_bridge.context import timestamp
from portico.protocol.authlib_bridge.server import org_claim
from portico.protocol.authorize.context import AuthorizeContext
from portico.protocol.authorize.request import AuthorizationRequest
from portico.protocol.encryption import seal_id_token
from portico.protocol.resources import aud_claim
from portico.protocol.subjects import subject_for
from portico.storage.models import AccessToken, AuthorizationCode, Client, Session, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.grants import Codes, Tokens
from portico.storage.repositories.logout import SessionClients

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
            resource=list(req.resource) or None,
            dpop_jkt=req.dpop_jkt,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    return code


async def issue_access_token(
    session: AsyncSession,
    req: AuthorizationRequest,
    client: Client,
    user: User,
    login: Session,
    acting: Acting | None,
    ctx: AuthorizeContext,
) -> tuple[str, int]:
    """An RFC 9068 access token straight from /authorize (RFC 6749 §4.2.2), recorded
    like the token endpoint's so userinfo, introspection and revocation know it.
    Never a refresh token: the front channel cannot keep one (§4.2.2)."""
    ttl = ctx.settings.access_token_ttl
    audience = list(req.resource) or None
    token, jti, exp = tokens.access_token(
        ctx.keys,
        issuer=ctx.settings.issuer,
        client_id=req.client_id,
        subject=subject_for(client, user.id),  # OIDC Core §8: as in its ID tokens
        scope=req.scope,
        ttl=ttl,
        extra=org_claim(UserAdapter(user, acting), req.scope),
        # RFC 8707 §2: a token straight from /authorize is for the resources asked for.
        audience=aud_claim(audience),
        alg=client.access_token_signed_response_alg,  # None: RS256
    )
    await Tokens(session).add_access_token(
        AccessToken(
            jti=jti,
            client_id=req.client_id,
            user_id=user.id,
            scope=req.scope,
            claims=req.claims,
            session_id=login.id,
            org_id=acting.org.id if acting else None,
            audience=audience,
            expires_at=datetime.fromtimestamp(exp, UTC),
        )
    )
    return token, ttl


async def issue_response(
    session: AsyncSession,
    req: AuthorizationRequest,
    client: Client,
    user: User,
    login: Session,
    acting: Acting | None,
    ctx: AuthorizeContext,
) -> list[tuple[str, str]]:
    """The response parameters ``req.response_type`` asks for. The ID token comes from
    the one ID-token builder the token endpoint uses, with ``c_hash`` / ``at_hash`` for
    the code / access token beside it (OIDC Core §3.3.2.11, §3.2.2.10)."""
    granted: list[tuple[str, str]] = []
    code = access = None
    # The client now takes part in this session: logout must reach it (Back-Channel and
    # Front-Channel Logout 1.0).
    await SessionClients(session).join(login.id, client.id, login.user_id)
    if "code" in req.returns:
        org_id = acting.org.id if acting else None
        code = await issue_code(session, req, login, ctx.settings.auth_code_ttl, org_id=org_id)
        granted.append(("code", code))
    if "token" in req.returns:
        access, expires_in = await issue_access_token(
            session, req, client, user, login, acting, ctx
        )
        granted += [
            ("access_token", access),
            ("token_type", "Bearer"),
            ("expires_in", str(expires_in)),
            ("scope", req.scope),
        ]
    if "id_token" in req.returns:
        id_token = tokens.id_token_for_client(
            ctx.keys,
            ctx.settings,
            client,
            user,
            acting,
            scopes=set(req.scopes),
            claims_request=req.claims,
            auth_time=timestamp(login.auth_time),
            nonce=req.nonce,
            acr=login.acr or ACR_PASSWORD,
            amr=list(login.amr or []),
            sid=login.id,
            access_token=access,
            code=code,
        )
        granted.append(("id_token", id_token))
    return granted


async def seal_id_tokens(
    client: Client, granted: list[tuple[str, str]], ctx: AuthorizeContext
) -> list[tuple[str, str]]:
    """Encrypt the ID token for a client that registered ``id_token_encrypted_response_*``
    (OIDC Core §10.2), as the token endpoint does. Outside the transaction: the client's
    keys may have to be fetched."""
    sealed: list[tuple[str, str]] = []
    for name, value in granted:
        if name == "id_token":
            value = await seal_id_token(client, value, ctx.fetcher.jwks)
        sealed.append((name, value))
    return sealed
