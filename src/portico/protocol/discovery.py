"""Discovery documents (OIDC Discovery 1.0 §3, RFC 8414), computed from what is
registered: grants from the authlib server, auth methods from the grant classes,
response types and modes from the authorize checks, algorithms from the key service.
Nobody keeps these lists by hand."""

from __future__ import annotations

from typing import Any

from portico.crypto.signing_keys import SUPPORTED_ALGS
from portico.protocol import jarm, logout, registration
from portico.protocol.authlib_bridge import (
    Introspection,
    PorticoServer,
    Revocation,
)
from portico.protocol.authorize.issue import ACR_PASSWORD
from portico.protocol.authorize.prompt import PROMPTS
from portico.protocol.authorize.request_object import REQUEST_OBJECT_ALGS, SIGNED_ALGS
from portico.protocol.authorize.response import RESPONSE_MODES, RESPONSE_TYPES
from portico.protocol.claims import CLAIMS_SUPPORTED, SUPPORTED_SCOPES
from portico.protocol.dpop import DPOP_ALGS
from portico.protocol.subjects import SUBJECT_TYPES
from portico.settings import Settings

# Endpoint name -> path; the routes are registered from this same table.
ENDPOINTS = {
    "authorization_endpoint": "/authorize",
    "token_endpoint": "/token",
    "userinfo_endpoint": "/userinfo",
    "jwks_uri": "/jwks",
    "end_session_endpoint": "/end_session",
    "introspection_endpoint": "/introspect",
    "revocation_endpoint": "/revoke",
    # RFC 8628 §4: the device authorization endpoint is advertised like the others.
    "device_authorization_endpoint": "/device_authorization",
    # RFC 9126 §5.
    "pushed_authorization_request_endpoint": "/par",
}


def _token_grants(server: PorticoServer) -> list[str]:
    grants = [cls.GRANT_TYPE for cls, _ in server._token_grants]
    return sorted(set(grants), key=grants.index)


def _auth_methods(server: PorticoServer) -> list[str]:
    methods: list[str] = []
    for cls, _ in server._token_grants:
        methods += [m for m in cls.TOKEN_ENDPOINT_AUTH_METHODS if m not in methods]
    return methods


def openid_configuration(settings: Settings, server: PorticoServer) -> dict[str, Any]:
    """The OpenID Provider metadata document."""
    doc: dict[str, Any] = {"issuer": settings.issuer}
    doc.update({name: settings.url(path) for name, path in ENDPOINTS.items()})
    doc.update(
        scopes_supported=list(SUPPORTED_SCOPES),
        response_types_supported=list(RESPONSE_TYPES),
        response_modes_supported=list(RESPONSE_MODES),
        grant_types_supported=_token_grants(server),
        subject_types_supported=list(SUBJECT_TYPES),
        id_token_signing_alg_values_supported=list(SUPPORTED_ALGS),
        userinfo_signing_alg_values_supported=list(SUPPORTED_ALGS),
        request_object_signing_alg_values_supported=list(REQUEST_OBJECT_ALGS),
        token_endpoint_auth_methods_supported=_auth_methods(server),
        token_endpoint_auth_signing_alg_values_supported=list(SIGNED_ALGS),
        introspection_endpoint_auth_methods_supported=list(Introspection.CLIENT_AUTH_METHODS),
        revocation_endpoint_auth_methods_supported=list(Revocation.CLIENT_AUTH_METHODS),
        code_challenge_methods_supported=["S256"],
        claims_supported=list(CLAIMS_SUPPORTED),
        claim_types_supported=["normal"],
        claims_parameter_supported=True,
        request_parameter_supported=True,
        request_uri_parameter_supported=True,
        require_request_uri_registration=True,
        prompt_values_supported=list(PROMPTS),
        acr_values_supported=[ACR_PASSWORD],
        ui_locales_supported=["en"],
        claims_locales_supported=["en"],
        authorization_response_iss_parameter_supported=True,
        # RFC 9126 §5, RFC 9101 §10.5: whether /authorize takes only pushed / signed requests.
        require_pushed_authorization_requests=settings.require_pushed_authorization_requests,
        require_signed_request_object=settings.require_signed_request_object,
        # OpenID JARM §3: the JWT response modes are signed with these.
        authorization_signing_alg_values_supported=list(jarm.SIGNING_ALGS),
        authorization_encryption_alg_values_supported=list(jarm.ENCRYPTION_ALGS),
        authorization_encryption_enc_values_supported=list(jarm.ENCRYPTION_ENCS),
        # RFC 9449 §5.1: DPoP at the token endpoint and UserInfo.
        dpop_signing_alg_values_supported=list(DPOP_ALGS),
    )
    doc.update(logout.metadata())
    doc.update(registration.discovery_metadata(settings))
    return doc


def authorization_server_metadata(settings: Settings, server: PorticoServer) -> dict[str, Any]:
    """RFC 8414 metadata: the same facts, without OIDC-only members."""
    doc = openid_configuration(settings, server)
    for oidc_only in (
        "userinfo_endpoint",
        "end_session_endpoint",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
        "claims_supported",
        "claim_types_supported",
        "claims_parameter_supported",
        "userinfo_signing_alg_values_supported",
        "acr_values_supported",
        "frontchannel_logout_supported",
        "backchannel_logout_supported",
        "frontchannel_logout_session_supported",
        "backchannel_logout_session_supported",
        "prompt_values_supported",
        "claims_locales_supported",
        "id_token_encryption_alg_values_supported",
        "id_token_encryption_enc_values_supported",
        "userinfo_encryption_alg_values_supported",
        "userinfo_encryption_enc_values_supported",
    ):
        doc.pop(oidc_only, None)
    return doc
