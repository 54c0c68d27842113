"""The modules of ``oidcc-hybrid-certification-test-plan`` (variants: response_type=
code id_token, code token and code id_token token; server_metadata=discovery,
client_registration=static_client): every Basic module, with the code and tokens from
the fragment. An ID token from the authorization endpoint is checked there (nonce,
``c_hash``, ``at_hash`` when an access token travels with it) and must name the same
``iss`` and ``sub`` as the token endpoint's (OIDC Core §3.3.3.6).

Response types returning an ID token from the authorization endpoint need a nonce, so
for them ``oidcc-ensure-request-without-nonce-fails`` replaces
``oidcc-ensure-request-without-nonce-succeeds-for-code-flow``.
"""

from __future__ import annotations

from conformance import basic, variants
from conformance.framework import Module, ModuleFn

HYBRID = "hybrid"
RESPONSE_TYPES = ("code id_token", "code token", "code id_token token")
_WITHOUT_NONCE = "oidcc-ensure-request-without-nonce-succeeds-for-code-flow"


def entries(response_type: str) -> list[tuple[str, ModuleFn, str]]:
    """The plan's modules for one response type, in the Basic plan's order."""
    out: list[tuple[str, ModuleFn, str]] = []
    for m in basic.MODULES:
        if m.plan != basic.BASIC:
            continue
        if m.name == _WITHOUT_NONCE and "id_token" in response_type.split():
            out.append(("oidcc-ensure-request-without-nonce-fails",
                        variants.request_without_nonce_fails, ""))
            continue
        out.append((m.name, m.run, m.note))
    return out


MODULES: list[Module] = [
    m for rt in RESPONSE_TYPES for m in variants.modules(HYBRID, entries(rt), rt)
]
