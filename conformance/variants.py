"""Plans that run Basic's modules under another variant: ``response_type`` (implicit,
hybrid) or ``response_mode`` (form post), as the OIDF suite's ``@VariantParameters`` do.

A module of such a plan is Basic's function run with the variant set on its
``RunEnv`` (``flows.auth_request`` reads it), after the checks the suite's
``configure`` adds for that variant: the OP must advertise the response type and mode.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from conformance import checks, flows
from conformance.framework import Module, ModuleFn, ModuleRun


def _normal(value: str) -> str:
    return " ".join(sorted(value.split()))


def plan_label(plan: str, response_type: str, response_mode: str | None) -> str:
    """How the report (and ``--plan``) names a plan variant: the variant parameter the
    plan varies, e.g. ``implicit[id_token token]``, ``formpost[form_post]``."""
    return f"{plan}[{response_mode or response_type}]"


def by_variant(modules: list[Module]) -> dict[str, list[Module]]:
    """The modules of each plan variant, keyed by its label (for ``--plan``)."""
    out: dict[str, list[Module]] = {}
    for m in modules:
        out.setdefault(m.plan, []).append(m)
    return out


def under(run: ModuleFn, response_type: str, response_mode: str | None) -> ModuleFn:
    """``run`` with the variant set, after CheckDiscEndpointResponseTypesSupported and,
    for form_post, CheckDiscEndpointResponseModesSupported."""

    def variant(t: ModuleRun) -> None:
        t.env = replace(t.env, response_type=response_type, response_mode=response_mode)
        doc = t.env.discovery
        types = [_normal(v) for v in doc.get("response_types_supported", [])
                 if isinstance(v, str)]
        t.require(_normal(response_type) in types,
                  f"response_types_supported does not list {response_type!r}")
        if response_mode:
            modes = doc.get("response_modes_supported", ["query", "fragment"])
            t.require(response_mode in modes,
                      f"response_modes_supported does not list {response_mode!r}")
        run(t)

    return variant


def modules(
    plan: str,
    entries: Iterable[tuple[str, ModuleFn, str]],
    response_type: str,
    response_mode: str | None = None,
) -> list[Module]:
    """``Module``s of one plan variant from (name, function, note) entries."""
    label = plan_label(plan, response_type, response_mode)
    return [Module(name, label, under(fn, response_type, response_mode), note)
            for name, fn, note in entries]


def request_without_nonce_fails(t: ModuleRun) -> None:
    """oidcc-ensure-request-without-nonce-fails (OIDCCEnsureRequestWithoutNonceFails):
    an ID token from the authorization endpoint needs a nonce (OIDC Core §3.2.2.1,
    §3.3.2.11), so the OP shows an error page or returns an error (no ID token)."""
    env = t.env
    checks.check_server_configuration(t, env)
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client, nonce=False)
        outcome = flows.send(t, env, agent, request)
    if outcome.kind == "page":
        t.check(outcome.status < 500, f"the error page answered HTTP {outcome.status}")
        t.note("the OP showed an error page (the suite asks for a screenshot)")
        return
    t.check("id_token" not in outcome.params, "an id_token was issued without a nonce")
    params = flows.expect_error(t, env, outcome, request)
    t.check(params.get("error") == "invalid_request",
            f"error is {params.get('error')!r}, not invalid_request")


def id_token_scope_module(scope: str, *, reverse: bool = False) -> ModuleFn:
    """AbstractOIDCCScopesServerTest for response_type=id_token, where no access token
    exists: the scope's claims must be in the ID token itself (OIDC Core §5.4;
    VerifyScopesReturnedInAuthorizationEndpointIdToken, a WARNING in the suite)."""

    def run(t: ModuleRun) -> None:
        env = t.env
        full = f"openid {scope}"
        supported = env.discovery.get("scopes_supported")
        if isinstance(supported, list) and any(s not in supported for s in full.split()):
            t.skip(f"scopes_supported does not list every scope of {full!r}")
        checks.check_server_configuration(t, env)
        sent = " ".join(reversed(full.split())) if reverse else full
        with flows.browser(env) as agent:
            request = flows.auth_request(env, env.client, scope=sent)
            flow = flows.code_flow(t, env, agent, env.client, request, call_userinfo=False)
        expected = [c for s in full.split() for c in checks.SCOPE_CLAIMS.get(s, [])]
        missing = [c for c in expected if c not in flow.claims]
        t.warn_unless(not missing, f"the id_token lacks claims of the scopes ({full}): {missing}")

    return run
