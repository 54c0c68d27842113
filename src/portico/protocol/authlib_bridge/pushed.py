"""Client authentication for the pushed authorization request endpoint.

RFC 9126 §2: "the client authenticates ... using the same method that it uses at the
token endpoint", so ``/par`` runs authlib's client authentication exactly as the token
endpoint does (secrets, ``private_key_jwt`` with its ``jti`` replay check, public
clients by ``client_id``) and answers who the client is. Validating and storing the
request is ``protocol.par``'s business, outside the sync bridge.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.token_endpoint import TokenEndpoint

from portico.protocol.authlib_bridge.context import AUTH_METHODS

PAR_ENDPOINT = "pushed_authorization_request"


class PushedAuthorization(TokenEndpoint):
    """Authenticates the pushing client; answers ``{"client_id": …}``."""

    ENDPOINT_NAME = PAR_ENDPOINT
    CLIENT_AUTH_METHODS = AUTH_METHODS  # noqa: RUF012

    def create_endpoint_response(self, request: OAuth2Request) -> tuple[int, Any, list[Any]]:
        client = self.authenticate_endpoint_client(request)
        return 200, {"client_id": client.get_client_id()}, []
