"""The modules of ``oidcc-implicit-certification-test-plan`` (variants:
response_type=id_token and id_token token, server_metadata=discovery,
client_registration=static_client): Basic's modules where they apply to a flow
without a code, with the ID token (and access token) taken from the fragment and
checked there (nonce required; ``at_hash`` required beside an access token).

Not in the plan: code reuse, refresh tokens, PKCE and client_secret_post (the token
endpoint is never called). With ``id_token`` alone there is no access token, so the
userinfo modules do not apply and the scope modules look for the claims in the ID
token instead.
"""

from __future__ import annotations

from conformance import basic, variants
from conformance.framework import Module, ModuleFn

IMPLICIT = "implicit"
RESPONSE_TYPES = ("id_token", "id_token token")

_SCOPES = {
    "oidcc-scope-profile": "profile",
    "oidcc-scope-email": "email",
    "oidcc-scope-address": "address",
    "oidcc-scope-phone": "phone",
    "oidcc-scope-all": "address email phone profile",
}
_USERINFO = {
    "oidcc-userinfo-get",
    "oidcc-userinfo-post-header",
    "oidcc-userinfo-post-body",
    "oidcc-claims-essential",
}
_CODE_ONLY = {
    "oidcc-server-client-secret-post",
    "oidcc-codereuse",
    "oidcc-codereuse-30seconds",
    "oidcc-refresh-token",
    "oidcc-ensure-request-with-valid-pkce-succeeds",
    "oidcc-ensure-request-without-nonce-succeeds-for-code-flow",
}


def entries(response_type: str) -> list[tuple[str, ModuleFn, str]]:
    """The plan's modules for one response type, in the Basic plan's order."""
    out: list[tuple[str, ModuleFn, str]] = []
    for m in basic.MODULES:
        if m.plan != basic.BASIC or m.name in _CODE_ONLY:
            continue
        if response_type == "id_token" and m.name in _USERINFO:
            continue  # VariantNotApplicable: no access token to call userinfo with
        run = m.run
        if response_type == "id_token" and m.name in _SCOPES:
            run = variants.id_token_scope_module(_SCOPES[m.name])
        elif response_type == "id_token" and m.name == "oidcc-ensure-other-scope-order-succeeds":
            run = variants.id_token_scope_module("email", reverse=True)
        out.append((m.name, run, m.note))
        if m.name == "oidcc-userinfo-post-body" or (
            response_type == "id_token" and m.name == "oidcc-idtoken-unsigned"
        ):
            out.append(("oidcc-ensure-request-without-nonce-fails",
                        variants.request_without_nonce_fails, ""))
    return out


MODULES: list[Module] = [
    m for rt in RESPONSE_TYPES for m in variants.modules(IMPLICIT, entries(rt), rt)
]
