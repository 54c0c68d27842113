"""Which claims a token carries: from scopes (OIDC Core §5.4) and from the ``claims``
request parameter (§5.5), read off the user and the organization the token acts in.

The ``organization`` scope releases ``org`` ({"id", "slug", "name"}) and ``roles`` (the
person's roles there, e.g. ``["admin"]``) for the organization recorded on the grant,
not whichever one the browser session has switched to since (see ``orgs.active``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from portico.protocol.errors import InvalidRequest

if TYPE_CHECKING:
    from portico.orgs.active import Acting
    from portico.storage.models import User

ORGANIZATION_SCOPE = "organization"

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
    ORGANIZATION_SCOPE: ("org", "roles"),
}
SUPPORTED_SCOPES = (
    "openid", "profile", "email", "address", "phone", ORGANIZATION_SCOPE, "offline_access"
)
CLAIMS_SUPPORTED = tuple(
    ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash"]
    + [c for claims in SCOPE_CLAIMS.values() for c in claims]
)


def parse_claims_parameter(raw: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """Validate the OIDC ``claims`` parameter (a JSON object of id_token/userinfo requests)."""
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        if len(raw) > 8192:
            raise InvalidRequest("The claims parameter is too large.")
        try:
            value = json.loads(raw)
        except ValueError:
            raise InvalidRequest("The claims parameter is not valid JSON.") from None
    else:
        value = raw
    if not isinstance(value, dict):
        raise InvalidRequest("The claims parameter must be a JSON object.")
    parsed: dict[str, Any] = {}
    for target in ("id_token", "userinfo"):
        member = value.get(target)
        if member is None:
            continue
        if not isinstance(member, dict) or not all(
            spec is None or isinstance(spec, dict) for spec in member.values()
        ):
            raise InvalidRequest(f"The claims parameter member {target} is malformed.")
        parsed[target] = member
    return parsed


def requested_claim_names(
    scopes: set[str], claims_request: dict[str, Any] | None, target: str, include_scope_claims: bool
) -> set[str]:
    """Claim names to release for ``target`` ("id_token" or "userinfo")."""
    names: set[str] = set()
    if include_scope_claims:
        for scope in scopes:
            names.update(SCOPE_CLAIMS.get(scope, ()))
    if claims_request and isinstance(claims_request.get(target), dict):
        names.update(claims_request[target].keys())
    return names


def user_claims(user: User, acting: Acting | None) -> dict[str, Any]:
    """Every claim Portico knows about a user acting in ``acting``'s organization,
    before filtering by what was asked."""
    profile = dict(user.profile or {})
    claims: dict[str, Any] = {
        "preferred_username": user.username,
        "email": user.email,
        "email_verified": bool(user.email_verified),
        "updated_at": int(user.updated_at.timestamp()),
    }
    if user.name:
        claims["name"] = user.name
    for name in SCOPE_CLAIMS["profile"] + SCOPE_CLAIMS["phone"] + SCOPE_CLAIMS["address"]:
        if name in profile and name not in claims:
            claims[name] = profile[name]
    if acting is not None:
        org = acting.org
        claims["org"] = {"id": org.id, "slug": org.slug, "name": org.name}
        claims["roles"] = [acting.role]
    return claims


def select_claims(all_claims: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The subset of ``all_claims`` that was asked for and is known."""
    return {name: all_claims[name] for name in sorted(names) if name in all_claims}
