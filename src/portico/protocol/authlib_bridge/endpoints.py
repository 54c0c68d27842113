"""RFC 7662 introspection and RFC 7009 revocation on authlib's endpoints."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from portico.audit.recorder import record
from portico.crypto.tokens import lookup_hash
from portico.orgs.active import acting_in
from portico.protocol import tokens
from portico.protocol.authlib_bridge.adapters import (
    ClientAdapter,
    TokenView,
)
from portico.protocol.authlib_bridge.context import (
    AUTH_METHODS,
    CONFIDENTIAL_METHODS,
    current_call,
    run_async,
    timestamp,
)
from portico.protocol.claims import ORGANIZATION_SCOPE
from portico.protocol.resources import aud_claim
from portico.protocol.subjects import PAIRWISE, subject_for
from portico.storage.repositories.clients import Clients
from portico.storage.repositories.grants import Tokens
from portico.storage.repositories.users import Users

# --- introspection and revocation --------------------------------------------------


def _find_token(token_string: str, hint: str | None) -> TokenView | None:
    call = current_call.get()
    if not isinstance(token_string, str) or not token_string or len(token_string) > 8192:
        return None
    repo = Tokens(call.session)
    if token_string.count(".") == 2:
        try:
            claims = tokens.verify(call.keys, token_string, typ="at+jwt")
        except ValueError:
            return None
        # With its user and client in the same statement (introspect_token needs both).
        found = run_async(repo.access_token_in_full(str(claims.get("jti", ""))))
        if found is None:
            return None
        row, user, owner = found
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
            org_id=row.org_id,
            audience=row.audience,
            cnf_jkt=row.cnf_jkt,
            actor=row.actor,
            user_row=user,
            client_row=owner,
        )
    refresh = run_async(repo.refresh_token(lookup_hash(token_string)))
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
        org_id=refresh.org_id,
    )


def _token_type(token: TokenView) -> str:
    if token.kind != "access_token":
        return "refresh_token"
    return "DPoP" if token.cnf_jkt else "Bearer"


class Introspection(IntrospectionEndpoint):
    """RFC 7662: authoritative, because every token has a database record."""

    CLIENT_AUTH_METHODS = CONFIDENTIAL_METHODS  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return _find_token(token_string, token_type_hint)

    def check_permission(self, token: TokenView, client: ClientAdapter, request: Any) -> bool:
        # A client may introspect only what was issued to it.
        return token.client_id == client.get_client_id()

    def introspect_token(self, token: TokenView) -> dict[str, Any]:
        call = current_call.get()
        # OIDC Core §8: the sub the token's client knows the user by (pairwise or not).
        owner = token.client_row or run_async(Clients(call.session).get(token.client_id))
        pairwise = owner is not None and owner.subject_type == PAIRWISE
        payload: dict[str, Any] = {
            "active": True,
            "scope": token.scope,
            "client_id": token.client_id,
            "token_type": _token_type(token),
            "exp": timestamp(token.expires_at),
            "iat": timestamp(token.issued_at),
            "iss": call.settings.issuer,
            "sub": subject_for(owner, token.user_id) if token.user_id else token.client_id,
        }
        if token.jti:
            payload["jti"] = token.jti
            payload["aud"] = aud_claim(token.audience) or call.settings.issuer
        if token.cnf_jkt:
            # RFC 9449 §6.2: the resource server checks the proof key against this.
            payload["cnf"] = {"jkt": token.cnf_jkt}
        if token.actor:
            payload["act"] = token.actor  # RFC 8693 §4.1
        if token.user_id:
            user = token.user_row or run_async(Users(call.session).get(token.user_id))
            if user is not None and not pairwise:  # a username would undo pairwise subs
                payload["username"] = user.username
            if ORGANIZATION_SCOPE in token.scope.split():
                # As in the JWT, but only while the person still belongs there.
                acting = run_async(acting_in(call.session, token.user_id, token.org_id))
                if acting is not None:
                    payload["org_id"] = acting.org.id
        return payload


class Revocation(RevocationEndpoint):
    """RFC 7009: a refresh token takes its whole family with it."""

    CLIENT_AUTH_METHODS = AUTH_METHODS  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return _find_token(token_string, token_type_hint)

    def revoke_token(self, token: TokenView, request: Any) -> None:
        call = current_call.get()
        repo = Tokens(call.session)
        if token.kind == "refresh_token" and token.family_id:
            run_async(repo.revoke_family(token.family_id))
        elif token.jti:
            run_async(repo.revoke_access_token(token.jti, token.client_id))
        run_async(
            record(
                call.session,
                "token.revoked",
                actor_id=token.user_id,
                target=f"client:{token.client_id}",
                ip=call.ip,
                kind=token.kind,
            )
        )
