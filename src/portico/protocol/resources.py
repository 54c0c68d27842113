"""Resource indicators (RFC 8707): which resource servers a token is meant for.

Policy (documented in docs/protocol/dpop-resources-exchange.md): a client may name a
resource only if the operator lists it in ``PORTICO_RESOURCES`` — an exact absolute
URI, or one ending in ``/`` that covers every URI below it — or if it is one of
Portico's own (the issuer, and its UserInfo endpoint). Anything else is refused with
``invalid_target``: an access token audience-restricted to an arbitrary URI would let
any client mint tokens for servers the operator never vouched for.

Without a ``resource`` parameter the access token's ``aud`` stays the issuer, as before.
With one, ``aud`` is the resource(s) (§2: the server "SHOULD audience-restrict issued
access tokens to the resource(s) indicated"). A grant remembers the resources it was
given at /authorize; the token endpoint may only narrow them (§2.2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from portico.protocol.errors import OAuthError
from portico.settings import Settings

MAX_RESOURCES = 10
MAX_RESOURCE_LENGTH = 2000
USERINFO_PATH = "/userinfo"


class InvalidTarget(OAuthError):
    """RFC 8707 §2: "The requested resource is invalid, missing, unknown, or
    malformed." """

    error = "invalid_target"
    default_description = "The requested resource is not allowed."


def own_resources(settings: Settings) -> tuple[str, ...]:
    """Portico's own protected resources: the issuer (the default ``aud``) and UserInfo."""
    return settings.issuer, settings.url(USERINFO_PATH)


def check_resource_uri(value: str) -> str:
    """§2: "an absolute URI ... MUST NOT include a fragment component"."""
    if not value or len(value) > MAX_RESOURCE_LENGTH or any(
        ord(c) <= 0x20 or ord(c) == 0x7F for c in value
    ):
        raise InvalidTarget("The resource must be an absolute URI without spaces.")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise InvalidTarget("The resource must be an absolute URI.") from None
    if not parts.scheme or "#" in value:
        raise InvalidTarget("The resource must be an absolute URI without a fragment.")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise InvalidTarget("The resource must be an absolute URI.")
    return value


def is_known(value: str, settings: Settings) -> bool:
    """Listed by the operator (exactly, or under an entry ending in ``/``) or Portico's."""
    if value in own_resources(settings):
        return True
    return any(
        value == entry or (entry.endswith("/") and value.startswith(entry))
        for entry in settings.resources
    )


def requested(values: Iterable[str], settings: Settings) -> list[str] | None:
    """The ``resource`` values of a request, checked; None when there are none."""
    kept: list[str] = []
    for value in values:
        if value not in kept:
            kept.append(check_resource_uri(value))
    if not kept:
        return None
    if len(kept) > MAX_RESOURCES:
        raise InvalidTarget(f"At most {MAX_RESOURCES} resources may be requested.")
    for value in kept:
        if not is_known(value, settings):
            raise InvalidTarget("The requested resource is not known to this server.")
    return kept


def from_parameter(first: str | None, all_values: list[str]) -> list[str]:
    """The ``resource`` values of an authorization request. A request object may carry
    them as a JSON array (merged into the first value by the request-object check);
    otherwise every repeated query/form value counts."""
    if first is None:
        return []
    if all_values and first == all_values[0]:
        return list(all_values)
    if first.startswith("["):
        try:
            parsed = json.loads(first)
        except ValueError:
            raise InvalidTarget("The resource must be an absolute URI.") from None
        if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
            raise InvalidTarget("The resource must be an absolute URI.")
        return parsed
    return [first]


def narrowed(asked: list[str] | None, granted: list[str] | None) -> list[str] | None:
    """The audience of a token from a grant: what the request asks for, which must lie
    within what was granted (§2.2); all that was granted when it asks for nothing."""
    if asked is None:
        return granted
    if granted is not None and not set(asked) <= set(granted):
        raise InvalidTarget("The resource was not part of the original grant.")
    return asked


def accepts(audience: list[str] | None, resource: str, settings: Settings) -> bool:
    """Whether a token with ``audience`` (None: the issuer) is meant for ``resource``,
    one of Portico's own resources."""
    if audience is None:
        return True
    return settings.issuer in audience or resource in audience


def aud_claim(audience: list[str] | None) -> str | list[str] | None:
    """``aud`` as RFC 7519 §4.1.3 writes it: one string, or an array of several."""
    if not audience:
        return None
    return audience[0] if len(audience) == 1 else list(audience)
