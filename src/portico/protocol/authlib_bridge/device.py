"""RFC 8628 on authlib: the device authorization endpoint (§3.1–3.2) and the device
code grant at the token endpoint (§3.4–3.5). The rest of the flow (user codes, the
person's decision on ``/device``) is ``portico.protocol.device``; this module is only
the part that runs inside authlib's synchronous server.

The endpoint authenticates clients exactly as the token endpoint does (public clients
send only ``client_id``, §3.1), checks the scope by /authorize's rule, and answers a
fresh device code (stored as SHA-256 only) with a user code unique among stored
requests.

authlib's ``DeviceCodeGrant`` gives the request shape, client authentication and the
``hooked`` token response (so the ID token hook of the code flow runs here too). What
Portico changes:

- a device code that is unknown, already redeemed, or issued to another client is
  ``invalid_grant`` (RFC 6749 §5.2), not authlib's ``invalid_request`` /
  ``unauthorized_client``;
- the request's status lives in the database, and an approved request becomes
  ``issued`` with a conditional UPDATE, so two racing polls get one set of tokens;
- polling faster than the interval is ``slow_down`` and adds 5 seconds to the interval
  the device must keep from then on (§3.5), stored on the row so every instance agrees.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import urlencode

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc8628 import (
    DEVICE_CODE_GRANT_TYPE,
    AuthorizationPendingError,
    DeviceAuthorizationEndpoint,
    DeviceCredentialMixin,
    ExpiredTokenError,
    SlowDownError,
)
from authlib.oauth2.rfc8628 import DeviceCodeGrant as AuthlibDeviceCodeGrant

from portico.crypto.tokens import lookup_hash, new_id, random_token
from portico.protocol.authlib_bridge.adapters import CodeAdapter, UserAdapter
from portico.protocol.authlib_bridge.binding import request_proof, require_proof, shape_tokens
from portico.protocol.authlib_bridge.context import AUTH_METHODS, current_call, run_async
from portico.protocol.authlib_bridge.grants import left_org, user_of_grant
from portico.protocol.device.user_code import display, new_user_code
from portico.protocol.errors import InvalidScope
from portico.protocol.params import Params
from portico.storage.models import AuthorizationCode, Client, DeviceAuthorization
from portico.storage.models.base import utcnow
from portico.storage.repositories.devices import (
    APPROVED,
    DENIED,
    ISSUED,
    PENDING,
    DeviceAuthorizations,
)

# --- the device authorization endpoint ------------------------------------------------

VERIFICATION_PATH = "/device"
# Draws of a user code before giving up; a collision is already a one-in-billions event.
USER_CODE_ATTEMPTS = 8


def checked_scope(client: Client, scope: str | None) -> str:
    """The scopes kept by /authorize's rule (``check_scope``: supported ones the client
    may ask for; ``offline_access`` only with the refresh grant), or ``invalid_scope``."""
    # Imported here: the authorize package imports the authlib bridge, which imports this.
    from portico.protocol.authorize.context import AuthorizeState
    from portico.protocol.authorize.scope import check_scope

    state = AuthorizeState(Params({"scope": scope or ""}), client=client)
    try:
        # check_scope reads only the request and the client, never the context.
        run_async(check_scope(state, None))  # type: ignore[arg-type]
    except InvalidScope as err:
        raise InvalidScopeError(err.description) from None
    return " ".join(state.scopes)


class DeviceEndpoint(DeviceAuthorizationEndpoint):
    """RFC 8628 §3.1: "The client initiates the authorization flow by requesting a set
    of verification codes from the authorization server"."""

    CLIENT_AUTH_METHODS = AUTH_METHODS  # noqa: RUF012

    def create_endpoint_response(self, request: OAuth2Request) -> tuple[int, Any, Any]:
        client = self.authenticate_client(request)
        row: Client = client.row
        if not client.check_grant_type(DEVICE_CODE_GRANT_TYPE):
            raise UnauthorizedClientError("The client is not allowed to use the device flow.")
        scope = checked_scope(row, request.payload.scope)
        call = current_call.get()
        settings = call.settings
        device_code = random_token(32)
        now = utcnow()
        repo = DeviceAuthorizations(call.session)
        for _ in range(USER_CODE_ATTEMPTS):
            user_code = new_user_code()
            added = run_async(repo.add(DeviceAuthorization(
                id=new_id(),
                device_code_hash=lookup_hash(device_code),
                user_code=user_code,
                client_id=row.id,
                scope=scope,
                params={},
                status=PENDING,
                interval=settings.device_poll_interval,
                created_at=now,
                expires_at=now + timedelta(seconds=settings.device_code_ttl),
            )))
            if added:
                break
        else:
            raise RuntimeError("no free user code")  # becomes server_error
        shown = display(user_code)
        verification_uri = settings.url(VERIFICATION_PATH)
        body = {
            "device_code": device_code,
            "user_code": shown,
            "verification_uri": verification_uri,
            # §3.3.1: lets the device show a QR code; the page still asks to confirm.
            "verification_uri_complete": f"{verification_uri}?{urlencode({'user_code': shown})}",
            "expires_in": settings.device_code_ttl,
            "interval": settings.device_poll_interval,
        }
        return 200, body, default_json_headers


# --- the device code grant ---------------------------------------------------------------

# §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests".
SLOW_DOWN_STEP = 5
# A poll counts as too early only when it comes this much sooner than the interval: the
# time of the previous poll may have been taken by another instance, whose clock differs.
POLL_LEEWAY = 1.0
MAX_DEVICE_CODE = 128


class DeviceCredential(DeviceCredentialMixin):
    """A ``DeviceAuthorization`` row as authlib's device credential."""

    def __init__(self, row: DeviceAuthorization) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_scope(self) -> str:
        return self.row.scope

    def get_user_code(self) -> str:
        return self.row.user_code

    def is_expired(self) -> bool:
        return self.row.expires_at <= utcnow()


def as_code(row: DeviceAuthorization) -> CodeAdapter:
    """The approved request seen as the authorization code it stands in for (§3.4: the
    device code is the grant), so token and ID-token issuance need no second path.

    The ``AuthorizationCode`` is never added to the database; its id is the device
    authorization's, which ties the tokens to the grant that produced them."""
    assert row.user_id is not None and row.auth_time is not None
    return CodeAdapter(AuthorizationCode(
        id=row.id,
        client_id=row.client_id,
        user_id=row.user_id,
        session_id=row.session_id,
        org_id=row.org_id,
        redirect_uri="",
        scope=row.scope,
        nonce=None,
        claims=None,
        auth_time=row.auth_time,
        acr=row.acr,
        amr=list(row.amr or []),
        expires_at=row.expires_at,
    ))


class DeviceCodeGrant(AuthlibDeviceCodeGrant):
    """``grant_type=urn:ietf:params:oauth:grant-type:device_code`` (RFC 8628 §3.4)."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS  # noqa: RUF012

    def validate_token_request(self) -> None:
        """Like the code grant, the DPoP proof (RFC 9449 §5) is checked before the device
        code is looked at, so a ``use_dpop_nonce`` retry still finds it unredeemed."""
        device_code = self.request.payload.data.get("device_code")
        if not device_code:
            raise InvalidRequestError("Missing 'device_code' in request.")
        proof = request_proof(self.request)
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("The client is not allowed to use the device flow.")
        require_proof(client, proof)
        credential = self.query_device_credential(device_code)
        # RFC 6749 §5.2: a grant "issued to another client" is invalid_grant; answering the
        # same as for an unknown code tells a stranger nothing about someone else's code.
        if credential is None or credential.get_client_id() != client.get_client_id():
            raise InvalidGrantError("Invalid 'device_code' in request.")
        self.request.client = client
        self.request.user = self.validate_device_credential(credential)
        self.request.credential = credential
        shape_tokens(self.request, proof, granted=None)

    def query_device_credential(self, device_code: str) -> DeviceCredential | None:
        if not isinstance(device_code, str) or len(device_code) > MAX_DEVICE_CODE:
            return None
        session = current_call.get().session
        row = run_async(DeviceAuthorizations(session).by_device_code(lookup_hash(device_code)))
        return DeviceCredential(row) if row else None

    def validate_device_credential(self, credential: DeviceCredential) -> UserAdapter:
        """The person who approved, once; otherwise the §3.5 error for the row's state."""
        row = credential.row
        now = utcnow()
        if row.status == ISSUED:
            raise InvalidGrantError("The device code was already used.")
        if row.expires_at <= now:
            raise ExpiredTokenError("The device code has expired.")
        if row.status == DENIED:
            raise AccessDeniedError("The end user denied the request.")
        if row.status == APPROVED:
            return self._redeem(credential, now)
        self._count_poll(row, now)

    def _redeem(self, credential: DeviceCredential, now: datetime) -> UserAdapter:
        session = current_call.get().session
        issued = run_async(DeviceAuthorizations(session).mark_issued(credential.row.id, now))
        if issued is None:
            # Another poll won the race and got the tokens.
            raise InvalidGrantError("The device code was already used.")
        credential.row = issued
        code = as_code(issued)
        user = user_of_grant(code.row.user_id, code.row.org_id)
        if user is None or left_org(code.row, issued.scope.split()):
            raise InvalidGrantError("The person who approved can no longer use this grant.")
        # Read by the code flow's save_token and ID-token hook.
        self.request.authorization_code = code
        return user

    def _count_poll(self, row: DeviceAuthorization, now: datetime) -> NoReturn:
        """Still pending: ``authorization_pending``, or ``slow_down`` when too early."""
        session = current_call.get().session
        last = row.last_polled_at
        early = last is not None and (now - last).total_seconds() < row.interval - POLL_LEEWAY
        interval = row.interval + SLOW_DOWN_STEP if early else row.interval
        recorded = run_async(DeviceAuthorizations(session).record_poll(row, now, interval))
        if early or not recorded:
            # Not recorded: another poll of the same code was counted at the same moment.
            raise SlowDownError(f"Poll at most every {interval} seconds.")
        raise AuthorizationPendingError("The end user has not yet completed the request.")

    def query_user_grant(self, user_code: str) -> None:
        """Unused: the decision is read from the row in ``validate_device_credential``."""
        raise NotImplementedError

    def should_slow_down(self, credential: DeviceCredential) -> bool:
        """Unused: see ``_count_poll``."""
        raise NotImplementedError
