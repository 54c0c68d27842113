"""The one place that runs authlib's synchronous server inside async Portico.

authlib gives us RFC 6749/7636/7523/7662/7009 request validation, client
authentication and error semantics, but its server hooks (``query_client``,
``query_authorization_code``, ``save_token`` …) are plain functions. We run each
protocol call inside ``AsyncSession.run_sync``: that puts the call in a SQLAlchemy
greenlet on the event loop, where ``await_only`` can drive Portico's async
repositories from a sync hook. No threads, one transaction per request, and the
rest of Portico never sees authlib's server classes.

Rules kept here (ECOSYSTEM spike A):
- every consumption is atomic (codes, refresh tokens, assertion ``jti``s);
- nothing slow runs inside: signing keys and a client's remote JWKS are loaded
  before the call, and client secrets are SHA-256 compared, never bcrypt;
- the OAuth2Request is built from awaited form data and the configured issuer,
  not from ``request.url``, so TLS terminated at a proxy still works.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749 import grants as rfc6749_grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import await_only

from portico.audit.recorder import record
from portico.crypto.signing_keys import LoadedKeys
from portico.crypto.tokens import lookup_hash, new_id, random_token, same_hash
from portico.protocol import tokens
from portico.protocol.claims import requested_claim_names, select_claims, user_claims
from portico.settings import Settings
from portico.storage.db import Database
from portico.storage.models import AccessToken, AuthorizationCode, Client, RefreshToken, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.clients import Clients
from portico.storage.repositories.grants import Assertions, Codes, Tokens
from portico.storage.repositories.users import Organizations, Users

T = TypeVar("T")
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
CONFIDENTIAL_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class Call:
    """Per-request state the sync hooks read: the transaction, settings, keys."""

    session: AsyncSession
    settings: Settings
    keys: LoadedKeys
    remote_jwks: dict[str, dict[str, Any]]
    ip: str | None
    minted: dict[str, tuple[str, int]] = field(default_factory=dict)


_call: ContextVar[Call] = ContextVar("portico_authlib_call")


def _run(coro: Awaitable[T]) -> T:
    """Drive an async repository call from inside a sync authlib hook."""
    return await_only(coro)  # type: ignore[arg-type]


def _ts(value: datetime) -> int:
    return int(value.timestamp())


# --- authlib model adapters -------------------------------------------------------


class ClientAdapter(ClientMixin):
    """Presents a ``Client`` row the way authlib asks about clients."""

    def __init__(self, row: Client) -> None:
        self.row = row
        self.id_token_signed_response_alg = row.id_token_signed_response_alg

    def get_client_id(self) -> str:
        return self.row.id

    def get_default_redirect_uri(self) -> str | None:
        return self.row.redirect_uris[0] if self.row.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(self.row.scope.split())
        requested = (scope or "").split()
        if not allowed:
            return " ".join(requested)
        return " ".join(s for s in requested if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.row.secret_hash) and same_hash(client_secret, self.row.secret_hash or "")

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.row.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


class UserAdapter:
    """authlib's RFC 9068 and OIDC code want ``get_user_id``."""

    def __init__(self, row: User) -> None:
        self.row = row

    def get_user_id(self) -> str:
        return self.row.id


class CodeAdapter:
    """An ``AuthorizationCode`` row as authlib's AuthorizationCodeMixin."""

    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return _ts(self.row.auth_time)

    def get_acr(self) -> str | None:
        return self.row.acr

    def get_amr(self) -> list[str]:
        return list(self.row.amr or [])


@dataclass
class TokenView:
    """An access or refresh token as authlib's introspection/revocation see it."""

    kind: str
    client_id: str
    user_id: str | None
    scope: str
    issued_at: datetime
    expires_at: datetime
    revoked: bool
    jti: str | None = None
    family_id: str | None = None
    refresh_row: RefreshToken | None = None

    def check_client(self, client: ClientAdapter) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.expires_at - utcnow()).total_seconds()))

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked


# --- grants ------------------------------------------------------------------------


class S256Only(CodeChallenge):
    """PKCE with S256 only; ``plain`` is refused at /authorize already."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"


def _issue_id_token(
    grant: Any, token: dict[str, Any], user: User, origin: CodeAdapter | RefreshToken
) -> None:
    """Add an ``id_token`` to ``token`` when the grant is for OpenID Connect."""
    call = _call.get()
    scopes = set(token.get("scope", "").split())
    if "openid" not in scopes:
        return
    client: Client = grant.request.client.row
    if isinstance(origin, CodeAdapter):
        row = origin.row
        nonce, claims_req, sid = row.nonce, row.claims, row.session_id
        auth_time, acr, amr = _ts(row.auth_time), row.acr, row.amr
    else:
        nonce, claims_req, sid = None, origin.claims, origin.session_id
        auth_time, acr, amr = _ts(origin.auth_time), origin.acr, origin.amr
    memberships = _run(Organizations(call.session).memberships(user.id))
    names = requested_claim_names(scopes, claims_req, "id_token", include_scope_claims=True)
    extra = select_claims(user_claims(user, memberships), names)
    wants_acr = "acr" in (claims_req or {}).get("id_token", {})
    token["id_token"] = tokens.id_token(
        call.keys,
        alg=client.id_token_signed_response_alg,
        issuer=call.settings.issuer,
        client_id=client.id,
        subject=user.id,
        ttl=call.settings.id_token_ttl,
        auth_time=auth_time,
        nonce=nonce,
        acr=acr if (wants_acr or acr) else None,
        amr=amr,
        sid=sid,
        access_token=token.get("access_token"),
        extra=extra,
    )


class CodeGrant(rfc6749_grants.AuthorizationCodeGrant):
    """RFC 6749 §4.1.3 with an atomic, replay-detecting code consumption."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS  # noqa: RUF012

    def query_authorization_code(self, code: str, client: ClientAdapter) -> CodeAdapter | None:
        call = _call.get()
        if not isinstance(code, str) or len(code) > 128:
            return None
        consumed = _run(Codes(call.session).consume(lookup_hash(code)))
        row = consumed.row
        if row is None or row.client_id != client.get_client_id():
            return None
        if not consumed.first_use:
            # RFC 6749 §4.1.2: a reused code SHOULD revoke what it produced.
            _run(Tokens(call.session).revoke_issued_from_code(row.id))
            _run(
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
        if row.expires_at <= utcnow():
            return None
        return CodeAdapter(row)

    def delete_authorization_code(self, authorization_code: CodeAdapter) -> None:
        """Nothing to do: ``query_authorization_code`` already consumed it."""

    def authenticate_user(self, authorization_code: CodeAdapter) -> UserAdapter | None:
        user = _run(Users(_call.get().session).get(authorization_code.row.user_id))
        return UserAdapter(user) if user and not user.disabled else None

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        raise NotImplementedError("codes are issued by portico.protocol.authorize")


class RefreshGrant(rfc6749_grants.RefreshTokenGrant):
    """RFC 6749 §6 with rotation; reuse of a rotated token revokes its whole family."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS  # noqa: RUF012
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> TokenView | None:
        call = _call.get()
        if not isinstance(refresh_token, str) or len(refresh_token) > 128:
            return None
        repo = Tokens(call.session)
        token_hash = lookup_hash(refresh_token)
        row = _run(repo.refresh_token(token_hash))
        client = self.request.client
        # Check ownership and scope before consuming, so a stranger cannot burn it.
        if row is None or row.client_id != client.get_client_id():
            return None
        asked = set((self.request.payload.scope or "").split())
        if not asked <= set(row.scope.split()):
            return None
        consumed = _run(repo.rotate_refresh_token(token_hash))
        row = consumed.row
        if row is None:
            return None
        if not consumed.first_use:
            if row.used_at is not None and row.revoked_at is None:
                _run(repo.revoke_family(row.family_id))
                _run(
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
        )

    def authenticate_user(self, refresh_token: TokenView) -> UserAdapter | None:
        user = _run(Users(_call.get().session).get(refresh_token.user_id or ""))
        return UserAdapter(user) if user and not user.disabled else None

    def revoke_old_credential(self, refresh_token: TokenView) -> None:
        """Nothing to do: rotation consumed the old token atomically."""


class ClientCredentials(rfc6749_grants.ClientCredentialsGrant):
    """RFC 6749 §4.4 for confidential clients acting on their own behalf."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_METHODS  # noqa: RUF012


class PrivateKeyJWT(JWTBearerClientAssertion):
    """OIDC Core §9 ``private_key_jwt`` with DB-backed ``jti`` replay protection."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, issuer: str) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.issuer = issuer

    def get_audiences(self) -> list[str]:
        base = self.issuer
        return [base, f"{base}/token", f"{base}/introspect", f"{base}/revoke"]

    def resolve_client_public_key(self, client: ClientAdapter) -> KeySet:
        row = client.row
        jwks = row.jwks or _call.get().remote_jwks.get(row.id) or {"keys": []}
        return KeySet.import_key_set(jwks)  # type: ignore[arg-type]

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        call = _call.get()
        exp = claims.get("exp")
        expires = (
            datetime.fromtimestamp(int(exp), UTC)
            if isinstance(exp, int | float)
            else (utcnow() + timedelta(hours=1))
        )
        return _run(
            Assertions(call.session).first_use(
                lookup_hash(f"{claims.get('iss')}:{jti}"), str(claims.get("iss")), expires
            )
        )


# --- introspection and revocation --------------------------------------------------


def _find_token(token_string: str, hint: str | None) -> TokenView | None:
    call = _call.get()
    if not isinstance(token_string, str) or not token_string or len(token_string) > 8192:
        return None
    repo = Tokens(call.session)
    if token_string.count(".") == 2:
        try:
            claims = tokens.verify(call.keys, token_string, typ="at+jwt")
        except ValueError:
            return None
        row = _run(repo.access_token(str(claims.get("jti", ""))))
        if row is None:
            return None
        return TokenView(
            "access_token",
            row.client_id,
            row.user_id,
            row.scope,
            row.issued_at,
            row.expires_at,
            row.revoked_at is not None,
            jti=row.jti,
            family_id=row.family_id,
        )
    refresh = _run(repo.refresh_token(lookup_hash(token_string)))
    if refresh is None:
        return None
    dead = refresh.revoked_at is not None or refresh.used_at is not None
    return TokenView(
        "refresh_token",
        refresh.client_id,
        refresh.user_id,
        refresh.scope,
        refresh.issued_at,
        refresh.expires_at,
        dead,
        family_id=refresh.family_id,
        refresh_row=refresh,
    )


class Introspection(IntrospectionEndpoint):
    """RFC 7662: authoritative, because every token has a database record."""

    CLIENT_AUTH_METHODS = CONFIDENTIAL_METHODS  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return _find_token(token_string, token_type_hint)

    def check_permission(self, token: TokenView, client: ClientAdapter, request: Any) -> bool:
        # A client may introspect only what was issued to it.
        return token.client_id == client.get_client_id()

    def introspect_token(self, token: TokenView) -> dict[str, Any]:
        call = _call.get()
        payload: dict[str, Any] = {
            "active": True,
            "scope": token.scope,
            "client_id": token.client_id,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "exp": _ts(token.expires_at),
            "iat": _ts(token.issued_at),
            "iss": call.settings.issuer,
            "sub": token.user_id or token.client_id,
        }
        if token.jti:
            payload["jti"] = token.jti
            payload["aud"] = call.settings.issuer
        if token.user_id:
            user = _run(Users(call.session).get(token.user_id))
            if user is not None:
                payload["username"] = user.username
        return payload


class Revocation(RevocationEndpoint):
    """RFC 7009: a refresh token takes its whole family with it."""

    CLIENT_AUTH_METHODS = AUTH_METHODS  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return _find_token(token_string, token_type_hint)

    def revoke_token(self, token: TokenView, request: Any) -> None:
        call = _call.get()
        repo = Tokens(call.session)
        if token.kind == "refresh_token" and token.family_id:
            _run(repo.revoke_family(token.family_id))
        elif token.jti:
            _run(repo.revoke_access_token(token.jti, token.client_id))
        _run(
            record(
                call.session,
                "token.revoked",
                actor_id=token.user_id,
                target=f"client:{token.client_id}",
                ip=call.ip,
                kind=token.kind,
            )
        )


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


class PorticoServer(AuthorizationServer):
    """authlib's AuthorizationServer wired to Portico's storage and token formats."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(scopes_supported=None)
        self.settings = settings
        self.register_grant(CodeGrant, [S256Only(required=True), self._code_id_token])
        self.register_grant(RefreshGrant, [self._refresh_id_token])
        self.register_grant(ClientCredentials)
        self.register_client_auth_method("private_key_jwt", PrivateKeyJWT(settings.issuer))
        self.register_endpoint(Introspection)
        self.register_endpoint(Revocation)
        self.register_token_generator("default", self._generate_token)

    # hooks -------------------------------------------------------------------------
    @staticmethod
    def _code_id_token(grant: Any) -> None:
        def after(grant: Any, response: Any) -> Any:
            _, token, _ = response
            _issue_id_token(grant, token, grant.request.user.row, grant.request.authorization_code)
            return token

        grant.register_hook("after_create_token_response", after)

    @staticmethod
    def _refresh_id_token(grant: Any) -> None:
        def after(grant: Any, response: Any) -> Any:
            _, token, _ = response
            origin = grant.request.refresh_token.refresh_row
            _issue_id_token(grant, token, grant.request.user.row, origin)
            return token

        grant.register_hook("after_create_token_response", after)

    def query_client(self, client_id: str) -> ClientAdapter | None:
        row = _run(Clients(_call.get().session).get(client_id))
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
        call = _call.get()
        scope = scope or ""
        ttl = call.settings.access_token_ttl
        subject = user.get_user_id() if user else client.get_client_id()
        access, jti, exp = tokens.access_token(
            call.keys,
            issuer=call.settings.issuer,
            client_id=client.get_client_id(),
            subject=subject,
            scope=scope,
            ttl=ttl,
        )
        call.minted[access] = (jti, exp)
        token: dict[str, Any] = {
            "token_type": "Bearer",
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
        call = _call.get()
        jti, exp = call.minted[token["access_token"]]
        client = request.client.row
        user_id = request.user.get_user_id() if request.user else None
        code = request.authorization_code
        previous: RefreshToken | None = (
            request.refresh_token.refresh_row if request.refresh_token else None
        )
        code_row = code.row if isinstance(code, CodeAdapter) else None
        origin_claims = code_row.claims if code_row else (previous.claims if previous else None)
        family_id = previous.family_id if previous else new_id()
        session_id = (
            code_row.session_id if code_row else (previous.session_id if previous else None)
        )
        repo = Tokens(call.session)
        _run(
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
                    expires_at=datetime.fromtimestamp(exp, UTC),
                )
            )
        )
        if "refresh_token" in token and user_id:
            now = utcnow()
            origin = code_row or previous
            assert origin is not None
            _run(
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
                        auth_time=origin.auth_time,
                        acr=origin.acr,
                        amr=list(origin.amr or []),
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


def _assertion_client_id(form: dict[str, str]) -> str | None:
    """The ``sub`` of a client assertion, read without verifying (to prefetch keys)."""
    assertion = form.get("client_assertion")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
        return None
    try:
        part = assertion.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) else None


class ProtocolBridge:
    """Runs token, introspection and revocation requests through authlib."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        load_keys: Callable[[], Awaitable[LoadedKeys]],
        fetch_jwks: Callable[[str], Awaitable[dict[str, Any]]],
    ) -> None:
        self.settings = settings
        self.db = db
        self.load_keys = load_keys
        self.fetch_jwks = fetch_jwks
        self.server = PorticoServer(settings)

    async def _remote_jwks(self, form: dict[str, str]) -> dict[str, dict[str, Any]]:
        client_id = _assertion_client_id(form)
        if not client_id:
            return {}
        async with self.db.session() as session:
            client = await Clients(session).get(client_id)
        if client is None or client.jwks or not client.jwks_uri:
            return {}
        try:
            return {client.id: await self.fetch_jwks(client.jwks_uri)}
        except Exception:  # noqa: BLE001 - authentication will fail cleanly without keys
            return {}

    async def handle(
        self, endpoint: str, request: QuartOAuth2Request, ip: str | None
    ) -> ProtocolResponse:
        """Run ``endpoint`` ("token", "introspection", "revocation") in one transaction."""
        keys = await self.load_keys()
        remote = await self._remote_jwks(request.form)

        async def work(session: AsyncSession) -> tuple[int, Any, Any]:
            def sync(_: Any) -> tuple[int, Any, Any]:
                token = _call.set(Call(session, self.settings, keys, remote, ip))
                try:
                    if endpoint == "token":
                        return self.server.create_token_response(request)
                    return self.server.create_endpoint_response(endpoint, request)
                finally:
                    _call.reset(token)

            return await session.run_sync(sync)

        status, body, headers = await self.db.run(work)
        return ProtocolResponse(status, body if isinstance(body, dict) else {}, list(headers))


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


def now_ts() -> int:
    """Current Unix time (for callers that stamp responses)."""
    return int(time.time())
