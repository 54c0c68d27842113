"""Token exchange (RFC 8693): a client trades a token it holds for a new access token,
for another resource, with fewer scopes, or acting for someone (delegation).

Policy (off by default, documented in docs/protocol/dpop-resources-exchange.md):

* the grant exists only with ``PORTICO_TOKEN_EXCHANGE=true``, and only clients whose
  ``grant_types`` include it may use it (else ``unauthorized_client``); they must be
  confidential: a token exchange hands out tokens about someone else;
* the subject token is a live Portico access token, or a Portico ID token, that
  represents a person and was issued to the requesting client or names it in its
  audience (a resource server registered with its resource URI as ``client_id``);
* with an ``actor_token`` (a live Portico access token of the requesting client) the new
  token says who acts: ``act`` (§4.1), nested when the subject token had one already;
  without one it is impersonation, allowed only for the clients listed in
  ``PORTICO_TOKEN_EXCHANGE_IMPERSONATION_CLIENTS`` (else ``unauthorized_client``);
* only access tokens are issued (``requested_token_type``), never refresh tokens: the
  exchanged token must not outlive the subject token's grant, and revoking that grant
  (its refresh family) revokes the exchanged tokens with it;
* the scope may only shrink; ``resource`` and ``audience`` name known resources
  (``protocol.resources``), else ``invalid_target`` (§2.2.2).

Per §2.2.2 an invalid, expired or revoked subject or actor token is ``invalid_request``
("The value of the error parameter MUST be the invalid_request error code").
"""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2.rfc6749 import (
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants.base import BaseGrant, TokenEndpointMixin

from portico.audit.recorder import record
from portico.orgs.active import acting_in
from portico.protocol import tokens
from portico.protocol.authlib_bridge.adapters import UserAdapter
from portico.protocol.authlib_bridge.binding import (
    BridgedError,
    request_proof,
    require_proof,
    shape_tokens,
)
from portico.protocol.authlib_bridge.context import CONFIDENTIAL_METHODS, current_call, run_async
from portico.protocol.errors import OAuthError
from portico.protocol.resources import requested
from portico.storage.models import AccessToken, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.grants import Tokens
from portico.storage.repositories.users import Users

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
SUBJECT_TOKEN_TYPES = (ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE)


def _access_token(value: str, what: str) -> AccessToken:
    """A live access-token record behind ``value`` (``invalid_request`` otherwise)."""
    call = current_call.get()
    try:
        claims = tokens.verify(call.keys, value, typ="at+jwt")
    except ValueError:
        raise InvalidRequestError(f"The {what} is not a valid access token.") from None
    record = run_async(Tokens(call.session).access_token(str(claims.get("jti", ""))))
    if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
        raise InvalidRequestError(f"The {what} is expired or revoked.")
    return record


def _id_token_user(value: str, client_id: str) -> str:
    """The person an ID token Portico issued to ``client_id`` names, while it is valid."""
    call = current_call.get()
    try:
        claims = tokens.verify(call.keys, value, typ="JWT")
    except ValueError:
        raise InvalidRequestError("The subject_token is not a valid ID token.") from None
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    exp = claims.get("exp")
    if claims.get("iss") != call.settings.issuer or client_id not in audiences:
        raise InvalidRequestError("The subject_token was not issued to this client.")
    if not isinstance(exp, int | float) or exp <= time.time():
        raise InvalidRequestError("The subject_token is expired.")
    return str(claims.get("sub", ""))


def _active_user(user_id: str | None) -> User:
    user = run_async(Users(current_call.get().session).get(user_id)) if user_id else None
    if user is None or user.disabled:
        raise InvalidRequestError("The subject_token does not represent an active person.")
    return user


class TokenExchangeGrant(BaseGrant, TokenEndpointMixin):  # type: ignore[misc]
    """RFC 8693 §2 on authlib's grant base (authlib ships no server for it)."""

    GRANT_TYPE = GRANT_TYPE
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_METHODS  # noqa: RUF012

    def validate_token_request(self) -> None:
        call = current_call.get()
        proof = request_proof(self.request)
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(GRANT_TYPE):
            raise UnauthorizedClientError("The client may not use token exchange.")
        self.request.client = client
        require_proof(client, proof)
        form = self.request.form
        subject_token, subject_type = form.get("subject_token"), form.get("subject_token_type")
        actor_token, actor_type = form.get("actor_token"), form.get("actor_token_type")
        if not subject_token or not subject_type:
            raise InvalidRequestError("The subject_token and subject_token_type are required.")
        if subject_type not in SUBJECT_TOKEN_TYPES:
            raise InvalidRequestError("The subject_token_type is not supported.")
        if bool(actor_token) != bool(actor_type):
            # §2.1: actor_token_type is required with an actor_token and only with one.
            raise InvalidRequestError("Send actor_token and actor_token_type together.")
        if actor_type and actor_type != ACCESS_TOKEN_TYPE:
            raise InvalidRequestError("The actor_token_type is not supported.")
        wanted = form.get("requested_token_type")
        if wanted and wanted != ACCESS_TOKEN_TYPE:
            raise InvalidRequestError("Token exchange issues access tokens only.")

        subject: AccessToken | None = None
        if subject_type == ACCESS_TOKEN_TYPE:
            subject = _access_token(subject_token, "subject_token")
            mine = subject.client_id == client.get_client_id()
            if not mine and client.get_client_id() not in (subject.audience or []):
                raise InvalidRequestError("The subject_token was not issued to this client.")
            user = _active_user(subject.user_id)
            granted_scope = subject.scope.split()
        else:
            user = _active_user(_id_token_user(subject_token, client.get_client_id()))
            granted_scope = ["openid"]

        actor: dict[str, Any] | None = None
        if actor_token:
            acting_token = _access_token(actor_token, "actor_token")
            if acting_token.client_id != client.get_client_id():
                raise InvalidRequestError("The actor_token was not issued to this client.")
            actor = {"sub": acting_token.user_id or acting_token.client_id,
                     "client_id": acting_token.client_id}
            if subject is not None and subject.actor:
                actor["act"] = subject.actor  # §4.1: the chain of earlier actors
        elif client.get_client_id() not in call.settings.token_exchange_impersonation_clients:
            raise UnauthorizedClientError(
                "The client may not impersonate; send an actor_token to act on behalf.")

        asked_scope = (self.request.payload.scope or "").split()
        if not set(asked_scope) <= set(granted_scope):
            raise InvalidScopeError("The scope exceeds the subject_token's.")
        self.scope = " ".join(asked_scope or granted_scope)
        datalist = self.request.payload.datalist
        try:
            asked = requested(
                [*datalist.get("resource", []), *datalist.get("audience", [])], call.settings
            )
        except OAuthError as err:
            raise BridgedError(err) from None
        org_id = subject.org_id if subject is not None else None
        self.request.user = UserAdapter(user, run_async(acting_in(call.session, user.id, org_id)))
        shape_tokens(self.request, proof, granted=None, asked=asked, actor=actor)
        call.issue.subject = subject

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """§2.2.1: an access token and ``issued_token_type``; no refresh token."""
        token = self.generate_token(
            user=self.request.user, scope=self.scope, include_refresh_token=False
        )
        token["issued_token_type"] = ACCESS_TOKEN_TYPE
        self.save_token(token)
        call = current_call.get()
        # Who obtained a token for whom, and as whom: never the tokens themselves.
        run_async(record(
            call.session, "token.exchanged", actor_id=self.request.user.get_user_id(),
            target=f"client:{self.request.client.get_client_id()}", ip=call.ip,
            impersonation=call.issue.actor is None, audience=call.issue.audience,
            scope=self.scope))
        return 200, token, self.TOKEN_RESPONSE_HEADER
