"""Token grants and client authentication, on authlib's grant classes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import InvalidClientError, InvalidGrantError, OAuth2Request
from authlib.oauth2.rfc6749 import grants as rfc6749_grants
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.crypto.tokens import lookup_hash
from portico.orgs.active import acting_in
from portico.protocol import tokens
from portico.protocol.authlib_bridge.adapters import (
    ClientAdapter,
    CodeAdapter,
    TokenView,
    UserAdapter,
)
from portico.protocol.authlib_bridge.binding import (
    request_proof,
    require_proof,
    shape_tokens,
)
from portico.protocol.authlib_bridge.context import (
    AUTH_METHODS,
    CONFIDENTIAL_METHODS,
    current_call,
    run_async,
    timestamp,
)
from portico.protocol.claims import ORGANIZATION_SCOPE
from portico.protocol.first_party import SYSTEM_CLIENT_ID
from portico.storage.models import AuthorizationCode, Client, RefreshToken
from portico.storage.models.base import utcnow
from portico.storage.repositories.grants import Assertions, Codes, Tokens
from portico.storage.repositories.sessions import Sessions
from portico.storage.repositories.users import Users

# --- grants ------------------------------------------------------------------------


class S256Only(CodeChallenge):
    """PKCE with S256 only; ``plain`` is refused at /authorize already."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"


def issue_id_token(
    grant: Any, token: dict[str, Any], person: UserAdapter, origin: CodeAdapter | RefreshToken
) -> None:
    """Add an ``id_token`` to ``token`` when the grant is for OpenID Connect; its
    organization claims are those of the organization the grant acts in."""
    call = current_call.get()
    scopes = set(token.get("scope", "").split())
    if "openid" not in scopes:
        return
    client: Client = grant.request.client.row
    if isinstance(origin, CodeAdapter):
        row = origin.row
        nonce, claims_req, sid = row.nonce, row.claims, row.session_id
        auth_time, acr, amr = timestamp(row.auth_time), row.acr, row.amr
    else:
        nonce, claims_req, sid = None, origin.claims, origin.session_id
        auth_time, acr, amr = timestamp(origin.auth_time), origin.acr, origin.amr
    token["id_token"] = tokens.id_token_for_client(
        call.keys,
        call.settings,
        client,
        person.row,
        person.acting,
        scopes=scopes,
        claims_request=claims_req,
        auth_time=auth_time,
        nonce=nonce,
        acr=acr,
        amr=amr,
        sid=sid,
        access_token=token.get("access_token"),
    )


def left_org(row: AuthorizationCode | RefreshToken, scopes: list[str]) -> bool:
    """Whether a grant of the ``organization`` scope names an organization the person
    no longer belongs to. Such a grant cannot be redeemed (``invalid_grant``): minting
    tokens without the organization would quietly change what the client relies on,
    and sending the person back to /authorize lets them pick one they belong to."""
    if row.org_id is None or ORGANIZATION_SCOPE not in scopes:
        return False
    session = current_call.get().session
    return run_async(acting_in(session, row.user_id, row.org_id)) is None


def user_of_grant(user_id: str, org_id: str | None) -> UserAdapter | None:
    """The active user behind a grant, with their membership in the grant's organization."""
    session = current_call.get().session
    user = run_async(Users(session).get(user_id))
    if user is None or user.disabled:
        return None
    return UserAdapter(user, run_async(acting_in(session, user.id, org_id)))


class CodeGrant(rfc6749_grants.AuthorizationCodeGrant):
    """RFC 6749 §4.1.3 with an atomic, replay-detecting code consumption."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS  # noqa: RUF012

    def validate_token_request(self) -> None:
        """The DPoP proof is checked before the code is consumed (a ``use_dpop_nonce``
        retry needs the code again), its key against the code's ``dpop_jkt`` after."""
        proof = request_proof(self.request)
        super().validate_token_request()
        require_proof(self.request.client, proof)
        row = self.request.authorization_code.row
        # RFC 9449 §10: the code was bound at /authorize to the key of ``dpop_jkt``.
        if row.dpop_jkt and proof is None:
            raise InvalidGrantError("This code is bound to a DPoP key; send a DPoP proof.")
        if row.dpop_jkt and proof is not None and proof.jkt != row.dpop_jkt:
            raise InvalidGrantError("The DPoP proof key does not match dpop_jkt.")
        shape_tokens(self.request, proof, granted=row.resource)

    def query_authorization_code(self, code: str, client: ClientAdapter) -> CodeAdapter | None:
        call = current_call.get()
        if not isinstance(code, str) or len(code) > 128:
            return None
        # RFC 9449 §5.2 before consuming: a proof-less request must not burn the code.
        require_proof(client, request_proof(self.request))
        consumed = run_async(Codes(call.session).consume(lookup_hash(code)))
        row = consumed.row
        if row is None or row.client_id != client.get_client_id():
            return None
        if not consumed.first_use:
            # RFC 6749 §4.1.2: a reused code SHOULD revoke what it produced.
            run_async(Tokens(call.session).revoke_issued_from_code(row.id))
            run_async(
                record(
                    call.session,
                    "token.code_replayed",
                    outcome="failure",
                    actor_id=row.user_id,
                    target=f"client:{row.client_id}",
                    ip=call.ip,
                )
            )
            return None
        if row.expires_at <= utcnow() or left_org(row, row.scope.split()):
            return None
        return CodeAdapter(row)

    def delete_authorization_code(self, authorization_code: CodeAdapter) -> None:
        """Nothing to do: ``query_authorization_code`` already consumed it."""

    def authenticate_user(self, authorization_code: CodeAdapter) -> UserAdapter | None:
        return user_of_grant(authorization_code.row.user_id, authorization_code.row.org_id)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        raise NotImplementedError("codes are issued by portico.protocol.authorize")


async def _session_live(session: AsyncSession, session_id: str | None) -> bool:
    """Whether the login session a token was issued for is still signed in."""
    row = await Sessions(session).get(session_id) if session_id else None
    return row is not None and row.revoked_at is None and row.expires_at > utcnow()


class RefreshGrant(rfc6749_grants.RefreshTokenGrant):
    """RFC 6749 §6 with rotation; reuse of a rotated token revokes its whole family."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS  # noqa: RUF012
    INCLUDE_NEW_REFRESH_TOKEN = True

    def validate_token_request(self) -> None:
        proof = request_proof(self.request)
        super().validate_token_request()
        require_proof(self.request.client, proof)
        row = self.request.refresh_token.refresh_row
        shape_tokens(self.request, proof, granted=row.resource, refresh_jkt=row.cnf_jkt)

    def authenticate_refresh_token(self, refresh_token: str) -> TokenView | None:
        call = current_call.get()
        if not isinstance(refresh_token, str) or len(refresh_token) > 128:
            return None
        repo = Tokens(call.session)
        token_hash = lookup_hash(refresh_token)
        row = run_async(repo.refresh_token(token_hash))
        client = self.request.client
        # Check ownership and scope before consuming, so a stranger cannot burn it.
        if row is None or row.client_id != client.get_client_id():
            return None
        # RFC 9449 §5.2 before rotating: a proof-less request must not burn the token.
        require_proof(client, request_proof(self.request))
        asked = set((self.request.payload.scope or "").split())
        if not asked <= set(row.scope.split()):
            return None
        if row.cnf_jkt:
            # RFC 9449 §5: a bound refresh token needs a proof with the same key. Checked
            # before rotation, so a thief without the key cannot burn the family.
            proof = request_proof(self.request)
            if proof is None:
                raise InvalidGrantError("This refresh token is DPoP-bound; send a DPoP proof.")
            if proof.jkt != row.cnf_jkt:
                raise InvalidGrantError("The DPoP proof key does not match the refresh token.")
        if row.client_id == SYSTEM_CLIENT_ID and not run_async(
                _session_live(call.session, row.session_id)):
            # Portico's own API tokens live and die with the session they were issued for:
            # signing out, revoking the session or changing the password ends them.
            return None
        live = row.used_at is None and row.revoked_at is None
        if live and left_org(row, sorted(asked) or row.scope.split()):
            # The grant's organization is gone for this person: end the family, so the
            # client goes back to /authorize rather than retrying forever.
            run_async(repo.revoke_family(row.family_id))
            run_async(
                record(
                    call.session,
                    "token.refresh_refused",
                    outcome="failure",
                    actor_id=row.user_id,
                    org_id=row.org_id,
                    target=f"client:{row.client_id}",
                    ip=call.ip,
                    reason="no longer a member of the organization",
                )
            )
            return None
        consumed = run_async(repo.rotate_refresh_token(token_hash))
        row = consumed.row
        if row is None:
            return None
        if not consumed.first_use:
            if row.used_at is not None and row.revoked_at is None:
                run_async(repo.revoke_family(row.family_id))
                run_async(
                    record(
                        call.session,
                        "token.refresh_reused",
                        outcome="failure",
                        actor_id=row.user_id,
                        target=f"client:{row.client_id}",
                        ip=call.ip,
                        family_id=row.family_id,
                    )
                )
            return None
        if row.expires_at <= utcnow():
            return None
        return TokenView(
            "refresh_token",
            row.client_id,
            row.user_id,
            row.scope,
            row.issued_at,
            row.expires_at,
            False,
            family_id=row.family_id,
            refresh_row=row,
            org_id=row.org_id,
        )

    def authenticate_user(self, refresh_token: TokenView) -> UserAdapter | None:
        return user_of_grant(refresh_token.user_id or "", refresh_token.org_id)

    def revoke_old_credential(self, refresh_token: TokenView) -> None:
        """Nothing to do: rotation consumed the old token atomically."""


class ClientCredentials(rfc6749_grants.ClientCredentialsGrant):
    """RFC 6749 §4.4 for confidential clients acting on their own behalf."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_METHODS  # noqa: RUF012

    def validate_token_request(self) -> None:
        proof = request_proof(self.request)
        super().validate_token_request()
        require_proof(self.request.client, proof)
        shape_tokens(self.request, proof, granted=None)


class PrivateKeyJWT(JWTBearerClientAssertion):
    """OIDC Core §9 ``private_key_jwt`` with DB-backed ``jti`` replay protection."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, issuer: str) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.issuer = issuer

    def __call__(self, query_client: Any, request: OAuth2Request) -> ClientAdapter | None:
        """Authenticate, then hold the client to the algorithm it registered
        (``token_endpoint_auth_signing_alg``, OIDC Registration §2: "MUST be used")."""
        client = super().__call__(query_client, request)
        wanted = client.row.token_endpoint_auth_signing_alg if client is not None else None
        if wanted:
            alg = self.extract_assertion(request.form["client_assertion"])[0].get("alg")
            if alg != wanted:
                raise InvalidClientError(
                    description=f"The client assertion must be signed with {wanted}.")
        return client  # type: ignore[no-any-return]

    def get_audiences(self) -> list[str]:
        base = self.issuer
        # RFC 9126 §2: the PAR endpoint URL is an accepted audience too, and so is the
        # device authorization endpoint, which authenticates clients the same way.
        return [base, f"{base}/token", f"{base}/introspect", f"{base}/revoke", f"{base}/par",
                f"{base}/device_authorization"]

    def resolve_client_public_key(self, client: ClientAdapter) -> KeySet:
        row = client.row
        jwks = row.jwks or current_call.get().remote_jwks.get(row.id) or {"keys": []}
        return KeySet.import_key_set(jwks)  # type: ignore[arg-type]

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        call = current_call.get()
        exp = claims.get("exp")
        expires = (
            datetime.fromtimestamp(int(exp), UTC)
            if isinstance(exp, int | float)
            else (utcnow() + timedelta(hours=1))
        )
        return run_async(
            Assertions(call.session).first_use(
                lookup_hash(f"{claims.get('iss')}:{jti}"), str(claims.get("iss")), expires
            )
        )
