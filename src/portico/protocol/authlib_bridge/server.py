"""authlib's AuthorizationServer wired to Portico, and the async entry point."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from portico.crypto.signing_keys import LoadedKeys
from portico.crypto.tokens import lookup_hash, new_id, random_token
from portico.protocol import tokens
from portico.protocol.authlib_bridge.adapters import (
    ClientAdapter,
    CodeAdapter,
    UserAdapter,
)
from portico.protocol.authlib_bridge.context import (
    ASSERTION_TYPE,
    Call,
    current_call,
    run_async,
)
from portico.protocol.authlib_bridge.device import DeviceCodeGrant, DeviceEndpoint
from portico.protocol.authlib_bridge.endpoints import Introspection, Revocation
from portico.protocol.authlib_bridge.grants import (
    ClientCredentials,
    CodeGrant,
    PrivateKeyJWT,
    RefreshGrant,
    S256Only,
    issue_id_token,
)
from portico.protocol.authlib_bridge.pushed import PushedAuthorization
from portico.protocol.authlib_bridge.token_exchange import TokenExchangeGrant
from portico.protocol.claims import ORGANIZATION_SCOPE
from portico.protocol.encryption import id_token_audience
from portico.protocol.resources import aud_claim
from portico.protocol.subjects import subject_for
from portico.settings import Settings
from portico.storage.db import Database
from portico.storage.models import AccessToken, Client, RefreshToken
from portico.storage.models.base import utcnow
from portico.storage.repositories.clients import Clients
from portico.storage.repositories.grants import Tokens

# --- the server ----------------------------------------------------------------------


class QuartOAuth2Request(OAuth2Request):
    """An OAuth2Request built from already-awaited Quart data (a real subclass, so
    concurrent requests never share state)."""

    def __init__(
        self,
        method: str,
        uri: str,
        form: dict[str, str],
        datalist: dict[str, list[str]],
        args: dict[str, str],
        headers: dict[str, str],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._form = form
        self._args = args
        payload = BasicOAuth2Payload(form)
        payload._datalist = datalist
        self.payload = payload

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return self._args


def org_claim(user: UserAdapter | None, scope: str) -> dict[str, Any]:
    """``org_id`` for an RFC 9068 access token of the ``organization`` scope, so a
    resource server can tell which organization the caller acts in without a call back.
    Only the id: names change, ids do not. Membership was checked when the grant was
    redeemed; a resource server that must notice removal sooner introspects."""
    if user is None or user.acting is None or ORGANIZATION_SCOPE not in scope.split():
        return {}
    return {"org_id": user.acting.org.id}


class PorticoServer(AuthorizationServer):
    """authlib's AuthorizationServer wired to Portico's storage and token formats."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(scopes_supported=None)
        self.settings = settings
        self.register_grant(CodeGrant, [S256Only(required=True), self._code_id_token])
        self.register_grant(RefreshGrant, [self._refresh_id_token])
        self.register_grant(ClientCredentials)
        if settings.token_exchange:  # RFC 8693, off by default
            self.register_grant(TokenExchangeGrant)
        self.register_grant(DeviceCodeGrant, [self._code_id_token])
        self.register_client_auth_method("private_key_jwt", PrivateKeyJWT(settings.issuer))
        self.register_endpoint(Introspection)
        self.register_endpoint(Revocation)
        self.register_endpoint(PushedAuthorization)
        self.register_endpoint(DeviceEndpoint)
        self.register_token_generator("default", self._generate_token)

    # hooks -------------------------------------------------------------------------
    @staticmethod
    def _code_id_token(grant: Any) -> None:
        def after(grant: Any, response: Any) -> Any:
            _, token, _ = response
            issue_id_token(grant, token, grant.request.user, grant.request.authorization_code)
            return token

        grant.register_hook("after_create_token_response", after)

    @staticmethod
    def _refresh_id_token(grant: Any) -> None:
        def after(grant: Any, response: Any) -> Any:
            _, token, _ = response
            origin = grant.request.refresh_token.refresh_row
            issue_id_token(grant, token, grant.request.user, origin)
            return token

        grant.register_hook("after_create_token_response", after)

    def query_client(self, client_id: str) -> ClientAdapter | None:
        row = run_async(Clients(current_call.get().session).get(client_id))
        return ClientAdapter(row) if row else None

    def _generate_token(
        self,
        grant_type: str,
        client: ClientAdapter,
        user: UserAdapter | None,
        scope: str | None,
        expires_in: int | None,
        include_refresh_token: bool,
    ) -> dict[str, Any]:
        call = current_call.get()
        scope = scope or ""
        ttl = call.settings.access_token_ttl
        # OIDC Core §8: a pairwise client sees its own sub for the user here too.
        subject = subject_for(client.row, user.get_user_id()) if user else client.get_client_id()
        access, jti, exp = tokens.access_token(
            call.keys,
            issuer=call.settings.issuer,
            client_id=client.get_client_id(),
            subject=subject,
            scope=scope,
            ttl=ttl,
            extra=org_claim(user, scope) | call.issue.claims(),
            audience=aud_claim(call.issue.audience),
            alg=client.row.access_token_signed_response_alg,  # None: RS256
        )
        call.minted[access] = (jti, exp)
        token: dict[str, Any] = {
            "token_type": call.issue.token_type,
            "access_token": access,
            "expires_in": ttl,
            "scope": scope,
        }
        wants_refresh = grant_type == "refresh_token" or "offline_access" in scope.split()
        if (
            user
            and include_refresh_token
            and wants_refresh
            and client.check_grant_type("refresh_token")
        ):
            token["refresh_token"] = random_token(32)
        return token

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        call = current_call.get()
        jti, exp = call.minted[token["access_token"]]
        client = request.client.row
        user_id = request.user.get_user_id() if request.user else None
        code = request.authorization_code
        previous: RefreshToken | None = (
            request.refresh_token.refresh_row if request.refresh_token else None
        )
        code_row = code.row if isinstance(code, CodeAdapter) else None
        origin_claims = code_row.claims if code_row else (previous.claims if previous else None)
        # The organization recorded at /authorize stays with the family through rotation.
        org_id = code_row.org_id if code_row else (previous.org_id if previous else None)
        family_id = previous.family_id if previous else new_id()
        session_id = (
            code_row.session_id if code_row else (previous.session_id if previous else None)
        )
        issue = call.issue
        if isinstance(issue.subject, AccessToken):
            # Token exchange (RFC 8693): the new token belongs to the subject token's grant.
            subject = issue.subject
            origin_claims, org_id, session_id = subject.claims, subject.org_id, subject.session_id
            family_id = subject.family_id or family_id
        repo = Tokens(call.session)
        run_async(
            repo.add_access_token(
                AccessToken(
                    jti=jti,
                    client_id=client.id,
                    user_id=user_id,
                    scope=token.get("scope", ""),
                    claims=origin_claims,
                    code_id=code_row.id if code_row else None,
                    family_id=family_id if user_id else None,
                    session_id=session_id,
                    org_id=org_id,
                    audience=issue.audience,
                    cnf_jkt=issue.jkt,
                    actor=issue.actor,
                    expires_at=datetime.fromtimestamp(exp, UTC),
                )
            )
        )
        if "refresh_token" in token and user_id:
            now = utcnow()
            origin = code_row or previous
            assert origin is not None
            run_async(
                repo.add_refresh_token(
                    RefreshToken(
                        id=new_id(),
                        token_hash=lookup_hash(token["refresh_token"]),
                        family_id=family_id,
                        client_id=client.id,
                        user_id=user_id,
                        # RFC 6749 §6: a rotated refresh token keeps the original scope.
                        scope=previous.scope if previous else token.get("scope", ""),
                        claims=origin_claims,
                        code_id=code_row.id if code_row else previous.code_id,
                        session_id=session_id,
                        org_id=org_id,
                        auth_time=origin.auth_time,
                        acr=origin.acr,
                        amr=list(origin.amr or []),
                        resource=issue.resource,
                        cnf_jkt=issue.refresh_jkt,
                        issued_at=now,
                        expires_at=now + timedelta(seconds=call.settings.refresh_token_ttl),
                    )
                )
            )

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Portico audits inside the hooks instead of using signals."""


@dataclass(frozen=True)
class ProtocolResponse:
    """What an authlib endpoint answered, ready for the route to serialise."""

    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]
    # The client an ID token in ``body`` was issued to, read in the same transaction,
    # for the encryption step after it (protocol/encryption.py).
    id_token_client: Client | None = None


def _b64json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _assertion_client_id(form: dict[str, str]) -> tuple[str, str | None] | None:
    """The ``sub`` and header ``kid`` of a client assertion, read without verifying (to
    prefetch keys, refetching them when the client has rotated to a new ``kid``)."""
    assertion = form.get("client_assertion")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
        return None
    try:
        header_part, claims_part = assertion.split(".")[:2]
        header, claims = _b64json(header_part), _b64json(claims_part)
    except (IndexError, ValueError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    kid = header.get("kid") if isinstance(header, dict) else None
    if not isinstance(sub, str):
        return None
    return sub, kid if isinstance(kid, str) else None


class ProtocolBridge:
    """Runs token, introspection and revocation requests through authlib."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        load_keys: Callable[[], Awaitable[LoadedKeys]],
        fetch_jwks: Callable[..., Awaitable[dict[str, Any]]],
    ) -> None:
        self.settings = settings
        self.db = db
        self.load_keys = load_keys
        self.fetch_jwks = fetch_jwks
        self.server = PorticoServer(settings)

    async def _remote_jwks(self, form: dict[str, str]) -> dict[str, dict[str, Any]]:
        asserted = _assertion_client_id(form)
        if not asserted:
            return {}
        client_id, kid = asserted
        async with self.db.session() as session:
            client = await Clients(session).get(client_id)
        if client is None or client.jwks or not client.jwks_uri:
            return {}
        try:
            return {client.id: await self.fetch_jwks(client.jwks_uri, kid=kid)}
        except Exception:  # noqa: BLE001 - authentication will fail cleanly without keys
            return {}

    async def handle(
        self, endpoint: str, request: QuartOAuth2Request, ip: str | None
    ) -> ProtocolResponse:
        """Run ``endpoint`` ("token", "introspection", "revocation") in one transaction."""
        keys = await self.load_keys()
        remote = await self._remote_jwks(request.form)

        async def work(session: AsyncSession) -> ProtocolResponse:
            def sync(sync_session: Session) -> ProtocolResponse:
                token = current_call.set(Call(session, self.settings, keys, remote, ip))
                try:
                    if endpoint == "token":
                        status, body, headers = self.server.create_token_response(request)
                    else:
                        status, body, headers = self.server.create_endpoint_response(
                            endpoint, request)
                finally:
                    current_call.reset(token)
                body = body if isinstance(body, dict) else {}
                audience = id_token_audience(body.get("id_token"))
                # The grant loaded this client already: get() answers from the session's
                # identity map without a statement.
                owner = sync_session.get(Client, audience) if audience else None
                return ProtocolResponse(status, body, list(headers), owner)

            return await session.run_sync(sync)

        return await self.db.run(work)


def build_request(
    method: str, uri: str, items: list[tuple[str, str]], headers: dict[str, str]
) -> QuartOAuth2Request:
    """An OAuth2Request from form items; repeated names are kept in ``datalist``."""
    form: dict[str, str] = {}
    datalist: dict[str, list[str]] = {}
    for name, value in items:
        datalist.setdefault(name, []).append(value)
        form.setdefault(name, value)
    return QuartOAuth2Request(method, uri, form, datalist, {}, headers)
