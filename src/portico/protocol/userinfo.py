"""UserInfo (OIDC Core §5.3): claims about the person behind an access token.

The bearer token comes from the ``Authorization`` header or, for POST, the form
body (RFC 6750 §2.1–2.2), never both. A revoked token is refused because every
access token has a database record.

Organization claims describe the organization recorded on the token, not the one the
browser session acts in now; once the person has left it they are omitted (the token
still identifies the person, and refreshing such a grant fails).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portico.crypto.signing_keys import LoadedKeys
from portico.orgs.active import acting_in
from portico.protocol import tokens
from portico.protocol.claims import (
    ORGANIZATION_SCOPE,
    SCOPE_CLAIMS,
    requested_claim_names,
    select_claims,
    user_claims,
)
from portico.protocol.errors import InsufficientScope, InvalidRequest, InvalidToken
from portico.settings import Settings
from portico.storage.db import Database
from portico.storage.models.base import utcnow
from portico.storage.repositories.clients import Clients
from portico.storage.repositories.grants import Tokens
from portico.storage.repositories.users import Users


@dataclass(frozen=True)
class UserInfoResult:
    """Either plain claims or a signed JWT, as the client registered."""

    claims: dict[str, Any]
    jwt: str | None = None


def bearer_token(authorization: str | None, form_token: str | None) -> str | None:
    """Extract the bearer token; ``None`` when the request carries none."""
    header_token = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise InvalidToken("The Authorization header is not a bearer token.")
        header_token = value.strip()
    if header_token and form_token:
        raise InvalidRequest("Send the access token in one place only.")
    return header_token or form_token


async def userinfo(
    token: str, *, settings: Settings, db: Database, keys: LoadedKeys
) -> UserInfoResult:
    """The claims this token may see."""
    try:
        claims = tokens.verify(keys, token, typ="at+jwt")
    except ValueError:
        raise InvalidToken("The access token is invalid.") from None
    async with db.session() as session:
        record = await Tokens(session).access_token(str(claims.get("jti", "")))
        if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
            raise InvalidToken("The access token is expired or revoked.")
        if record.user_id is None:
            raise InvalidToken("The access token does not represent a user.")
        scopes = set(record.scope.split())
        if "openid" not in scopes:
            raise InsufficientScope("The access token lacks the openid scope.")
        user = await Users(session).get(record.user_id)
        if user is None or user.disabled:
            raise InvalidToken("The user behind this token is no longer active.")
        names = requested_claim_names(
            scopes, record.claims, "userinfo", include_scope_claims=True
        )
        wants_org = bool(names & set(SCOPE_CLAIMS[ORGANIZATION_SCOPE]))
        acting = await acting_in(session, user.id, record.org_id) if wants_org else None
        client = await Clients(session).get(record.client_id)
    body = {"sub": user.id, **select_claims(user_claims(user, acting), names)}
    if client is not None and client.userinfo_signed_response_alg:
        signed = dict(body, iss=settings.issuer, aud=client.id)
        return UserInfoResult(body, tokens.sign(keys, client.userinfo_signed_response_alg, signed))
    return UserInfoResult(body)
