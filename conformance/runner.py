"""Select the modules of the requested plans, prepare the shared state, run them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence

from conformance import (
    basic,
    checks,
    config_op,
    dynamic,
    fapi2,
    formpost,
    hybrid,
    implicit,
    logout,
    variants,
)
from conformance.framework import FAIL, Module, Result, RunEnv, execute

PLANS: dict[str, list[Module]] = {
    "config": list(config_op.MODULES),
    "basic": [m for m in basic.MODULES if m.plan == basic.BASIC],
    "dynamic": [m for m in basic.MODULES if m.plan == basic.DYNAMIC],
    # oidcc-dynamic-certification-test-plan: needs client_registration=open on the OP.
    "dynamic-op": list(dynamic.MODULES),
    # Basic's modules under other variants (response_type, response_mode).
    "implicit": list(implicit.MODULES),
    "hybrid": list(hybrid.MODULES),
    "formpost": list(formpost.MODULES),
    **variants.by_variant([*implicit.MODULES, *hybrid.MODULES, *formpost.MODULES]),
    # The three logout plans; the RP endpoints and clients come from conformance.logout_rig.
    **{plan: [m for m in logout.MODULES if m.plan == plan] for plan in logout.PLAN_NAMES},
    # fapi2-security-profile-final-test-plan (private_key_jwt, DPoP); clients: fapi2_client.
    fapi2.PLAN: list(fapi2.MODULES),
}
ALL_MODULES: dict[str, Module] = {m.name: m for plan in PLANS.values() for m in plan}


class SetupError(Exception):
    """The OP's metadata could not be read: no module can run."""


def select(
    plans: Iterable[str], only: Sequence[str] = (), skip: Sequence[str] = ()
) -> list[Module]:
    """The modules of ``plans`` in plan order, narrowed by ``only`` and ``skip``."""
    unknown = [n for n in [*only, *skip] if n not in ALL_MODULES]
    if unknown:
        raise ValueError(f"unknown module(s): {', '.join(unknown)}")
    chosen = [m for plan in plans for m in PLANS[plan]]
    if only:
        chosen = [m for m in chosen if m.name in only]
    return [m for m in chosen if m.name not in skip]


def prepare(env: RunEnv) -> None:
    """GetDynamicServerConfiguration + FetchServerKeys, once for the whole run."""
    try:
        response = env.http.get(env.discovery_url, headers={"Accept": "application/json"})
    except Exception as exc:  # noqa: BLE001 - reported as a setup failure
        raise SetupError(f"cannot fetch {env.discovery_url}: {exc}") from None
    doc = checks.json_body(response)
    if response.status_code != 200 or not isinstance(doc, dict):
        raise SetupError(f"{env.discovery_url} answered HTTP {response.status_code}")
    env.discovery_response = response
    env.discovery = doc
    jwks_uri = doc.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise SetupError("the discovery document has no jwks_uri")
    keys = env.http.get(jwks_uri, headers={"Accept": "application/json"})
    body = checks.json_body(keys)
    if keys.status_code != 200 or not isinstance(body, dict):
        raise SetupError(f"{jwks_uri} answered HTTP {keys.status_code}")
    env.jwks = body


def run(
    env: RunEnv,
    modules: Sequence[Module],
    progress: Callable[[int, int, Result], None] | None = None,
) -> list[Result]:
    """Run ``modules`` in order against the OP described by ``env``."""
    try:
        prepare(env)
    except SetupError as exc:
        return [Result(m.name, m.plan, FAIL, f"setup: {exc}", [str(exc)]) for m in modules]
    results: list[Result] = []
    for index, module in enumerate(modules, 1):
        result = execute(module, env)
        results.append(result)
        if progress:
            progress(index, len(modules), result)
    return results


def print_progress(index: int, total: int, result: Result) -> None:
    from conformance.report import verdict

    print(
        f"[{index:>2}/{total}] {result.name} … {verdict(result)} ({result.seconds:.1f}s)",
        file=sys.stderr,
        flush=True,
    )
