"""What the authorize checks work on: the parsed input, what has been established so
far, and the services they may call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from portico.protocol.params import Params

if TYPE_CHECKING:
    from portico.crypto.signing_keys import LoadedKeys
    from portico.protocol.fetch import Fetcher
    from portico.settings import Settings
    from portico.storage.db import Database
    from portico.storage.models import Client


@dataclass
class AuthorizeContext:
    """Services for one authorize request."""

    settings: Settings
    db: Database
    keys: LoadedKeys
    fetcher: Fetcher


@dataclass
class AuthorizeState:
    """Mutable state threaded through the checks, in order.

    ``redirect_uri`` is only set once it is known to be registered for ``client``;
    from then on errors may be redirected back to the client.
    """

    params: Params
    client: Client | None = None
    redirect_uri: str | None = None
    # Normalised (space-sorted) once ``check_response_type`` accepted it.
    response_type: str = "code"
    response_mode: str = "query"
    scopes: tuple[str, ...] = ()
    prompt: tuple[str, ...] = ()
    max_age: int | None = None
    claims: dict[str, object] | None = None
    id_token_hint_sub: str | None = None
    # RFC 8707 resource indicators, checked by ``check_resource``.
    resources: tuple[str, ...] = ()
    # The request was pushed (RFC 9126): it is being validated at /par, or came from there.
    pushed: bool = False
    # The parameters came from a signed request object (RFC 9101).
    signed_request_object: bool = False
    notes: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """A request parameter (after any request object was merged in)."""
        return self.params.get(name)
