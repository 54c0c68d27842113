"""The verdict table (text) and the JSON report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from conformance.framework import FAIL, PASS, SKIPPED, Result


def verdict(result: Result) -> str:
    """PASS / PASS (n warnings) / FAIL (reason) / SKIPPED (reason)."""
    if result.status == PASS:
        n = len(result.warnings)
        return f"PASS ({n} warning{'s' if n != 1 else ''})" if n else "PASS"
    return f"{result.status} ({result.reason})"


def summary(results: Sequence[Result]) -> dict[str, int]:
    return {
        "passed": sum(r.status == PASS for r in results),
        "failed": sum(r.status == FAIL for r in results),
        "skipped": sum(r.status == SKIPPED for r in results),
        "warnings": sum(len(r.warnings) for r in results),
    }


def table(results: Sequence[Result], *, details: bool = True, width: int = 100) -> str:
    """A plain-text table; with ``details`` every failure and warning follows."""
    name_w = max((len(r.name) for r in results), default=10)
    plan_w = max((len(r.plan) for r in results), default=6)
    lines = [f"{'module':<{name_w}}  {'plan':<{plan_w}}  result", "-" * min(width * 2, 160)]
    for r in results:
        lines.append(f"{r.name:<{name_w}}  {r.plan:<{plan_w}}  {verdict(r)}")
    s = summary(results)
    lines.append("-" * min(width * 2, 160))
    lines.append(
        f"{s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped, "
        f"{s['warnings']} warnings"
    )
    if details:
        extra = [r for r in results if r.failures or r.warnings or r.notes]
        for r in extra:
            lines.append("")
            lines.append(f"{r.name}:")
            lines += [f"  FAIL  {m}" for m in r.failures]
            lines += [f"  WARN  {m}" for m in r.warnings]
            lines += [f"  NOTE  {m}" for m in r.notes]
    return "\n".join(lines)


def as_json(results: Sequence[Result], meta: dict[str, Any]) -> str:
    return json.dumps(
        {**meta, "summary": summary(results), "modules": [r.as_dict() for r in results]},
        indent=2,
    )
