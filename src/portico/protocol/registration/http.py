"""HTTP bindings of ``/connect/register`` (RFC 7591 §3) and each client's
``registration_client_uri`` (RFC 7592 §2). ``/register`` is the hosted sign-up page,
hence the ``/connect`` prefix.

Answers are JSON with ``Cache-Control: no-store`` (RFC 7591 §3.2.1); errors are the
RFC 7591 §3.2.2 JSON errors, and a missing or wrong bearer token is a 401 with an
RFC 6750 challenge.
"""

from __future__ import annotations

import json
from typing import Any

from quart import Response, request

from portico.http import services
from portico.protocol.errors import OAuthError
from portico.protocol.registration import REGISTRATION_PATH, service
from portico.protocol.registration.metadata import InvalidClientMetadata, metadata_of
from portico.protocol.routes import bp, json_response, oauth_error_response
from portico.protocol.userinfo import bearer_token

MAX_BODY = 65536


def _bearer() -> str | None:
    return bearer_token(request.headers.get("Authorization"), None)


async def _body() -> Any:
    """RFC 7591 §3.1: the metadata is a JSON object sent as ``application/json``."""
    if request.mimetype != "application/json":
        raise InvalidClientMetadata("The request must be sent as application/json.")
    raw = await request.get_data(cache=True, as_text=False)
    if len(raw) > MAX_BODY:
        raise InvalidClientMetadata("The request body is too large.")
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidClientMetadata("The request body is not valid JSON.") from None


def _answer(reg: service.Registration, status: int, token: str | None) -> Response:
    body: dict[str, Any] = metadata_of(reg.client)
    if reg.secret is not None:
        body["client_secret"] = reg.secret
    body["registration_access_token"] = reg.access_token or token
    body["registration_client_uri"] = services().settings.url(
        f"{REGISTRATION_PATH}/{reg.client.id}")
    return json_response(body, status)


def _failed(err: OAuthError) -> Response:
    return oauth_error_response(err, bearer=err.status == 401)


def _disabled() -> Response:
    return json_response({"error": "invalid_request",
                          "error_description": "Dynamic client registration is not enabled."},
                         404)


@bp.post(REGISTRATION_PATH)
async def register_client() -> Response:
    """RFC 7591 §3.1 client registration request."""
    svc = services()
    try:
        body = await _body()
        reg = await service.register(svc.db, svc.settings, svc.fetcher, body, _bearer(),
                                     request.remote_addr)
    except service.RegistrationDisabled:
        return _disabled()
    except OAuthError as err:
        return _failed(err)
    return _answer(reg, 201, None)


@bp.route(f"{REGISTRATION_PATH}/<client_id>", methods=["GET", "PUT", "DELETE"])
async def manage_client(client_id: str) -> Response:
    """RFC 7592 §2.1 read, §2.2 update, §2.3 delete."""
    svc = services()
    try:
        bearer = _bearer()
        if request.method == "GET":
            return _answer(await service.read(svc.db, svc.settings, client_id, bearer),
                           200, bearer)
        if request.method == "PUT":
            body = await _body()
            reg = await service.update(svc.db, svc.settings, svc.fetcher, client_id, bearer,
                                       body, request.remote_addr)
            return _answer(reg, 200, None)
        await service.delete(svc.db, svc.settings, client_id, bearer, request.remote_addr)
    except service.RegistrationDisabled:
        return _disabled()
    except OAuthError as err:
        return _failed(err)
    response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response
