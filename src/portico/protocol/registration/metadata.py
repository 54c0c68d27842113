"""Client metadata as RFC 7591 §2 and OIDC Registration 1.0 §2 define it: read from a
registration request into ``ClientFields``, and written back for the answers.

Members Portico does not understand are ignored (RFC 7591 §2: the server "MUST ignore
any client metadata sent by the client that it does not understand"), and never
echoed, so a client can tell what was registered. Members it understands but whose
value it cannot honour are refused with the RFC 7591 §3.2.2 error naming them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from portico.clients import (
    AUTH_METHODS,
    EXTRA_KEYS,
    ClientFields,
    check_redirect_uri,
)
from portico.errors import ValidationFailed
from portico.protocol.authorize.response import RESPONSE_TYPES
from portico.protocol.errors import AccessDenied, OAuthError
from portico.settings import Settings, is_loopback_url
from portico.storage.models import Client

DEFAULT_NAME = "Unnamed client"
# OIDC Registration §2 (grant_types): which grant each response type needs.
IMPLICIT = "implicit"
# RFC 7592 §2.2: fields a client must not send back in an update.
SERVER_ONLY = ("registration_access_token", "registration_client_uri",
               "client_secret_expires_at", "client_id_issued_at")
_STRINGS = ("client_name", "token_endpoint_auth_method", "scope", "jwks_uri",
            "id_token_signed_response_alg", "userinfo_signed_response_alg",
            "request_object_signing_alg", "subject_type", "sector_identifier_uri",
            "id_token_encrypted_response_alg", "id_token_encrypted_response_enc",
            "userinfo_encrypted_response_alg", "userinfo_encrypted_response_enc",
            "authorization_signed_response_alg", "authorization_encrypted_response_alg",
            "authorization_encrypted_response_enc", "backchannel_logout_uri",
            "token_endpoint_auth_signing_alg",
            "frontchannel_logout_uri",
            "client_id", "client_secret", "software_statement")
_BOOLEANS = ("require_pushed_authorization_requests", "dpop_bound_access_tokens",
             "backchannel_logout_session_required", "frontchannel_logout_session_required")
_LISTS = ("redirect_uris", "post_logout_redirect_uris", "grant_types", "response_types",
          "request_uris", "contacts")


class InvalidRedirectUri(OAuthError):
    """RFC 7591 §3.2.2: "The value of one or more redirection URIs is invalid." """

    error = "invalid_redirect_uri"
    redirectable = False


class InvalidClientMetadata(OAuthError):
    """RFC 7591 §3.2.2: "The value of one of the client metadata fields is invalid and
    the server has rejected this request." """

    error = "invalid_client_metadata"
    redirectable = False


class InvalidSoftwareStatement(OAuthError):
    """RFC 7591 §3.2.2: "The software statement presented is invalid." """

    error = "invalid_software_statement"
    redirectable = False


class UnapprovedSoftwareStatement(OAuthError):
    """RFC 7591 §3.2.2: "The software statement presented is not approved for use by
    this authorization server." """

    error = "unapproved_software_statement"
    redirectable = False


class RegistrationRefused(AccessDenied):
    """A registration policy (the number of clients) refuses the request (RFC 7591
    §3.2.2 lets a server use other OAuth error codes)."""

    status = 403
    redirectable = False


@dataclass(frozen=True)
class Requested:
    """A checked registration request: the client's fields and its response types."""

    fields: ClientFields
    response_types: list[str]


def _typed(body: dict[str, Any]) -> None:
    """Each understood member has the JSON type RFC 7591 / OIDC Registration give it."""
    for name in _STRINGS:
        if name in body and body[name] is not None and not isinstance(body[name], str):
            raise InvalidClientMetadata(f"{name} must be a string.")
    for name in _LISTS:
        value = body.get(name)
        if value is not None and not (
                isinstance(value, list) and len(value) <= 50
                and all(isinstance(v, str) for v in value)):
            raise InvalidClientMetadata(f"{name} must be an array of strings.")
    for name in _BOOLEANS:
        if body.get(name) is not None and not isinstance(body[name], bool):
            raise InvalidClientMetadata(f"{name} must be true or false.")
    if body.get("jwks") is not None and not isinstance(body["jwks"], dict):
        raise InvalidClientMetadata("jwks must be a JSON Web Key Set object.")


def _host_allowed(host: str, allowed: list[str]) -> bool:
    host = host.lower()
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern.startswith("*.") and host.endswith(pattern[1:]) and host != pattern[2:]:
            return True
        if host == pattern:
            return True
    return False


def check_redirect_uris(uris: list[str], application_type: str, response_types: list[str],
                        settings: Settings) -> None:
    """``invalid_redirect_uri`` unless every URI is acceptable: Portico's rules for any
    client (absolute, no fragment, http only on loopback), the registration policy's
    schemes and hosts, and OIDC Registration §2 ``application_type``: web clients of
    the implicit flow use https and no localhost; native clients use a private-use
    scheme or http on loopback."""
    implicit = any(set(rt.split()) & {"token", "id_token"} for rt in response_types)
    for index, uri in enumerate(uris):
        try:
            check_redirect_uri(uri, f"redirect_uris.{index}")
        except ValidationFailed as exc:
            raise InvalidRedirectUri(
                f"redirect_uris[{index}]: {next(iter(exc.fields.values()))}") from None
        parts = urlsplit(uri)
        scheme = parts.scheme.lower()
        if scheme not in [s.lower() for s in settings.client_registration_redirect_schemes]:
            raise InvalidRedirectUri(f"redirect_uris[{index}]: the {scheme} scheme is not "
                                     "allowed for dynamically registered clients.")
        allowed_hosts = settings.client_registration_redirect_hosts
        if allowed_hosts and scheme in ("http", "https") and not _host_allowed(
                parts.hostname or "", allowed_hosts):
            raise InvalidRedirectUri(f"redirect_uris[{index}]: this host is not allowed for "
                                     "dynamically registered clients.")
        loopback = scheme == "http" and is_loopback_url(uri)
        if application_type == "native":
            if scheme == "https" or (scheme == "http" and not loopback):
                raise InvalidRedirectUri(
                    f"redirect_uris[{index}]: native clients use a private-use scheme or "
                    "http on a loopback address (OIDC Registration 1.0 section 2).")
        elif implicit and (scheme != "https" or (parts.hostname or "") == "localhost"):
            raise InvalidRedirectUri(
                f"redirect_uris[{index}]: web clients of the implicit flow use https and "
                "not localhost (OIDC Registration 1.0 section 2).")


def _grants_and_types(body: dict[str, Any], settings: Settings) -> tuple[list[str], list[str]]:
    """RFC 7591 §2.1: the grant types and response types, each from what Portico
    offers and the policy allows, and consistent with each other (OIDC Registration
    §2: ``code`` needs ``authorization_code``, ``id_token``/``token`` need ``implicit``)."""
    grants = list(dict.fromkeys(body.get("grant_types") or ["authorization_code"]))
    types = list(dict.fromkeys(" ".join(sorted(rt.split()))
                               for rt in (body.get("response_types") or ["code"])))
    offered = {" ".join(sorted(rt.split())) for rt in RESPONSE_TYPES}
    allowed_types = offered & {" ".join(sorted(rt.split()))
                               for rt in settings.client_registration_response_types}
    for rt in types:
        if rt not in allowed_types:
            raise InvalidClientMetadata(
                f"The response type {rt!r} is not available to dynamically registered clients.")
    allowed_grants = set(settings.client_registration_grant_types)
    if any(set(rt.split()) & {"token", "id_token"} for rt in types):
        allowed_grants.add(IMPLICIT)
    for grant in grants:
        if grant not in allowed_grants:
            raise InvalidClientMetadata(
                f"The grant type {grant!r} is not available to dynamically registered clients.")
    for rt in types:
        parts = set(rt.split())
        if "code" in parts and "authorization_code" not in grants:
            raise InvalidClientMetadata(
                f"The response type {rt!r} needs the authorization_code grant type.")
        if parts & {"token", "id_token"} and IMPLICIT not in grants:
            raise InvalidClientMetadata(f"The response type {rt!r} needs the implicit grant type.")
    if "authorization_code" in grants and not any("code" in rt.split() for rt in types):
        raise InvalidClientMetadata("The authorization_code grant type needs the code "
                                    "response type.")
    return [g for g in grants if g != IMPLICIT], types


def parse(body: Any, settings: Settings) -> Requested:
    """A registration (or RFC 7592 update) request body, checked; raises the RFC 7591
    §3.2.2 error for the first problem."""
    if not isinstance(body, dict):
        raise InvalidClientMetadata("The request body must be a JSON object.")
    _typed(body)
    if body.get("software_statement") is not None:
        # RFC 7591 §3.1.1: Portico trusts no software statement issuer (documented).
        raise UnapprovedSoftwareStatement("Software statements are not accepted by this server.")
    grants, types = _grants_and_types(body, settings)
    application_type = body.get("application_type", "web")
    if application_type not in ("web", "native"):
        raise InvalidClientMetadata("application_type must be web or native.")
    redirect_uris = list(body.get("redirect_uris") or [])
    if types and not redirect_uris:
        raise InvalidRedirectUri("redirect_uris is required.")
    check_redirect_uris(redirect_uris, application_type, types, settings)
    method = body.get("token_endpoint_auth_method") or "client_secret_basic"
    if method not in AUTH_METHODS:
        raise InvalidClientMetadata(
            f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}.")
    id_alg = body.get("id_token_signed_response_alg") or "RS256"
    if id_alg == "none":
        raise InvalidClientMetadata("Unsigned ID tokens (alg none) are not offered.")
    extra = {name: value for name, value in body.items()
             if name.partition("#")[0] in EXTRA_KEYS and name != "client_name"}
    name = body.get("client_name")
    fields = ClientFields(
        name=name if isinstance(name, str) and name.strip() else DEFAULT_NAME,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=list(body.get("post_logout_redirect_uris") or []),
        token_endpoint_auth_method=method,
        grant_types=grants,
        scope=body.get("scope") or "",
        id_token_signed_response_alg=id_alg,
        userinfo_signed_response_alg=body.get("userinfo_signed_response_alg"),
        jwks=body.get("jwks"),
        jwks_uri=body.get("jwks_uri"),
        request_uris=list(body.get("request_uris") or []),
        request_object_signing_alg=body.get("request_object_signing_alg"),
        subject_type=body.get("subject_type") or "public",
        sector_identifier_uri=body.get("sector_identifier_uri"),
        id_token_encrypted_response_alg=body.get("id_token_encrypted_response_alg"),
        id_token_encrypted_response_enc=body.get("id_token_encrypted_response_enc"),
        userinfo_encrypted_response_alg=body.get("userinfo_encrypted_response_alg"),
        userinfo_encrypted_response_enc=body.get("userinfo_encrypted_response_enc"),
        authorization_signed_response_alg=body.get("authorization_signed_response_alg"),
        token_endpoint_auth_signing_alg=body.get("token_endpoint_auth_signing_alg"),
        authorization_encrypted_response_alg=body.get("authorization_encrypted_response_alg"),
        authorization_encrypted_response_enc=body.get("authorization_encrypted_response_enc"),
        require_pushed_authorization_requests=body.get(
            "require_pushed_authorization_requests") is True,
        dpop_bound_access_tokens=body.get("dpop_bound_access_tokens") is True,
        backchannel_logout_uri=body.get("backchannel_logout_uri"),
        backchannel_logout_session_required=body.get(
            "backchannel_logout_session_required") is True,
        frontchannel_logout_uri=body.get("frontchannel_logout_uri"),
        frontchannel_logout_session_required=body.get(
            "frontchannel_logout_session_required") is True,
        extra_metadata=extra,
    )
    for index, uri in enumerate(fields.request_uris or []):
        parts = urlsplit(uri)
        if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_url(uri)):
            raise InvalidClientMetadata(f"request_uris[{index}] must be an https URL.")
    try:
        checked = fields.checked()
    except ValidationFailed as exc:
        where, what = next(iter(exc.fields.items()))
        if where.startswith(("redirect_uris", "post_logout_redirect_uris")):
            raise InvalidRedirectUri(f"{where}: {what}") from None
        raise InvalidClientMetadata(f"{where}: {what}") from None
    return Requested(checked, types)


def metadata_of(client: Client) -> dict[str, Any]:
    """The registered metadata as RFC 7591 §3.2.1 returns it (no secret, no token)."""
    doc: dict[str, Any] = {
        "client_id": client.id,
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": list(client.grant_types) + (
            [IMPLICIT] if any(set(rt.split()) & {"token", "id_token"}
                              for rt in client.response_types or []) else []),
        "response_types": list(client.response_types or []),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "subject_type": client.subject_type,
        "application_type": (client.extra_metadata or {}).get("application_type", "web"),
    }
    if client.secret_hash is not None:
        doc["client_secret_expires_at"] = 0  # RFC 7591 §3.2.1: 0 means it does not expire
    optional = {
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris) or None,
        "scope": client.scope or None,
        "userinfo_signed_response_alg": client.userinfo_signed_response_alg,
        "request_object_signing_alg": client.request_object_signing_alg,
        "request_uris": list(client.request_uris) or None,
        "jwks": client.jwks,
        "jwks_uri": client.jwks_uri,
        "sector_identifier_uri": client.sector_identifier_uri,
        "id_token_encrypted_response_alg": client.id_token_encrypted_response_alg,
        "id_token_encrypted_response_enc": client.id_token_encrypted_response_enc,
        "userinfo_encrypted_response_alg": client.userinfo_encrypted_response_alg,
        "userinfo_encrypted_response_enc": client.userinfo_encrypted_response_enc,
        "authorization_signed_response_alg": client.authorization_signed_response_alg,
        "token_endpoint_auth_signing_alg": client.token_endpoint_auth_signing_alg,
        "authorization_encrypted_response_alg": client.authorization_encrypted_response_alg,
        "authorization_encrypted_response_enc": client.authorization_encrypted_response_enc,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "frontchannel_logout_uri": client.frontchannel_logout_uri,
    }
    doc.update({k: v for k, v in optional.items() if v is not None})
    for flag in _BOOLEANS:
        if getattr(client, flag):
            doc[flag] = True
    for name, value in (client.extra_metadata or {}).items():
        doc.setdefault(name, value)
    return doc
