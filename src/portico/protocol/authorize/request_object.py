"""Request objects (OIDC Core §6, RFC 9101 JAR): the parameters as a JWT, by value
or by reference.

Unsigned objects (``alg: none``) are accepted unless the client registered a
``request_object_signing_alg``, the request was pushed (RFC 9126 §3 with JAR's
signing rules), or signed objects are required; signed ones must verify with a key
from the client's registered JWKS. ``typ``, when present, must say this is an
authorization request (RFC 9101 §4, §10.8), so no other JWT of the client's can be
replayed as one.

Parameters inside the object supersede those in the query (OIDC Core §6.3.3), but
``client_id`` must agree (RFC 9101 §5). When signed request objects are required
(``require_signed_request_object``: the setting, or the client's metadata; RFC 9101
§10.5) only the object's parameters count (RFC 9101 §5: "MUST only use the
parameters in the Request Object").
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.errors import InvalidRequest, InvalidRequestObject, InvalidRequestUri
from portico.protocol.fetch import FetchError
from portico.storage.models import Client

SIGNED_ALGS = ("RS256", "PS256", "ES256", "EdDSA")
REQUEST_OBJECT_ALGS = ("none", *SIGNED_ALGS)
# RFC 9101 §10.8 explicit typing; a bare "JWT" (or none) is what OIDC Core clients send.
ACCEPTED_TYPES = ("oauth-authz-req+jwt", "jwt")
# Claims of the JWT itself, never authorization request parameters.
_JWT_CLAIMS = ("iss", "aud", "exp", "iat", "nbf", "jti", "request", "request_uri")


def _b64json(part: str) -> dict[str, Any]:
    raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _request_uri_allowed(client: Client, uri: str) -> bool:
    return any(uri == r or (r.endswith("/") and uri.startswith(r)) for r in client.request_uris)


async def _client_keys(client: Client, ctx: AuthorizeContext) -> KeySet:
    if client.jwks:
        return KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]
    if client.jwks_uri:
        try:
            return KeySet.import_key_set(await ctx.fetcher.jwks(client.jwks_uri))  # type: ignore[arg-type]
        except FetchError as exc:
            raise InvalidRequestObject(f"The client JWKS could not be fetched: {exc}") from None
    raise InvalidRequestObject("The client has no registered keys to verify a signed request.")


def signed_object_required(client: Client, ctx: AuthorizeContext) -> bool:
    """RFC 9101 §10.5 ``require_signed_request_object``: instance-wide or per client."""
    extra = client.extra_metadata or {}
    return ctx.settings.require_signed_request_object or extra.get(
        "require_signed_request_object"
    ) is True


def _check_typ(header: dict[str, Any]) -> None:
    typ = header.get("typ")
    if typ is None:
        return
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") not in ACCEPTED_TYPES:
        raise InvalidRequestObject("The request object typ must be oauth-authz-req+jwt.")


async def decode_request_object(
    token: str, client: Client, ctx: AuthorizeContext, *, allow_unsigned: bool = True
) -> dict[str, Any]:
    """Verify (or accept unsigned, when ``allow_unsigned``) and return the object's claims."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise InvalidRequestObject("The request object is not a compact JWT.")
    try:
        header = _b64json(parts[0])
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequestObject("The request object header is malformed.") from None
    _check_typ(header)
    alg = header.get("alg")
    if alg not in REQUEST_OBJECT_ALGS:
        raise InvalidRequestObject("The request object algorithm is not supported.")
    if alg == "none" and not allow_unsigned:
        raise InvalidRequestObject("The request object must be signed.")
    expected = client.request_object_signing_alg
    if expected and alg != expected:
        raise InvalidRequestObject("The request object is not signed with the registered alg.")
    if alg == "none":
        if parts[2]:
            raise InvalidRequestObject("An unsigned request object must have no signature.")
        try:
            claims = _b64json(parts[1])
        except (ValueError, UnicodeDecodeError):
            raise InvalidRequestObject("The request object payload is malformed.") from None
    else:
        keys = await _client_keys(client, ctx)
        try:
            claims = dict(jwt.decode(token, keys, algorithms=[alg]).claims)
        except (JoseError, ValueError, TypeError):
            raise InvalidRequestObject("The request object signature does not verify.") from None
        if claims.get("iss") not in (None, client.id):
            raise InvalidRequestObject("The request object iss must be the client_id.")
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if aud is not None and ctx.settings.issuer not in auds:
            raise InvalidRequestObject("The request object aud must contain the issuer.")
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, int | float) or exp < time.time() - 30):
        raise InvalidRequestObject("The request object has expired.")
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, int | float) or nbf > time.time() + 30):
        raise InvalidRequestObject("The request object is not valid yet.")
    if claims.get("client_id") not in (None, client.id):
        raise InvalidRequestObject("The request object client_id does not match.")
    return claims


async def apply_request_object(state: AuthorizeState, ctx: AuthorizeContext) -> None:
    """Merge a ``request`` / ``request_uri`` object into the parameters."""
    assert state.client is not None
    request = state.get("request")
    request_uri = state.get("request_uri")
    required = signed_object_required(state.client, ctx)
    if not request and not request_uri:
        if "request" in state.params.oversized:
            raise InvalidRequestObject("The request object is too large.")
        if required and not state.signed_request_object:
            raise InvalidRequest("This request must be sent as a signed request object.")
        return
    if request and request_uri:
        raise InvalidRequest("Use either request or request_uri, not both.")
    if request_uri:
        if len(request_uri) > 512 or not _request_uri_allowed(state.client, request_uri):
            raise InvalidRequestUri("The request_uri is not registered for this client.")
        try:
            request = await ctx.fetcher.text(
                request_uri, max_bytes=ctx.settings.request_object_max_bytes
            )
        except FetchError as exc:
            raise InvalidRequestUri(f"The request_uri could not be used: {exc}") from None
    assert request is not None
    allow_unsigned = not (required or state.pushed)
    claims = await decode_request_object(
        request, state.client, ctx, allow_unsigned=allow_unsigned
    )
    state.signed_request_object = _is_signed(request)
    if required:
        # RFC 9101 §5: only the object's parameters; client_id was checked to agree.
        state.params.values = {"client_id": state.client.id}
        state.params.repeated.clear()
        state.params.oversized.clear()
    for name, value in claims.items():
        if name in _JWT_CLAIMS:
            continue
        if isinstance(value, dict | list):
            value = json.dumps(value)
        elif not isinstance(value, str):
            value = str(value)
        state.params.values[name] = value
        state.params.repeated.discard(name)
    state.params.values.pop("request", None)
    state.params.values.pop("request_uri", None)


def _is_signed(token: str) -> bool:
    """Called after ``decode_request_object`` accepted ``token``: signed unless ``none``."""
    return _b64json(token.strip().split(".")[0]).get("alg") != "none"
