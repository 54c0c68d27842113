"""Imports flow one way: surfaces → domain → storage/crypto (STYLE §1).

A small AST check instead of a linter plugin: each rule names a package and the
packages it must never import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "portico"

FORBIDDEN = {
    "storage": ("portico.protocol", "portico.web", "portico.api", "portico.accounts",
                "portico.cli", "portico.app", "quart"),
    "crypto": ("portico.protocol", "portico.web", "portico.api", "portico.cli", "quart"),
    "accounts": ("portico.protocol", "portico.web", "portico.api", "portico.cli", "quart"),
    "federation": ("portico.web", "portico.api", "portico.cli", "quart"),
    "orgs": ("portico.protocol", "portico.web", "portico.api", "portico.cli", "quart"),
    "audit": ("portico.protocol", "portico.web", "portico.api", "quart"),
    "protocol": ("portico.web", "portico.api", "portico.cli"),
}
ONLY_BRIDGE = "authlib.oauth2.rfc6749"


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_never_import_upwards(package):
    offenders = []
    for path in (SRC / package).rglob("*.py"):
        for name in imports_of(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[package]):
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_only_the_bridge_touches_authlibs_sync_server():
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "authlib_bridge" not in path.parts
        and any(name.startswith(ONLY_BRIDGE) for name in imports_of(path))
    ]
    assert not offenders


def test_modules_stay_small():
    big = [f"{p.relative_to(SRC)}: {n}" for p in SRC.rglob("*.py")
           if (n := len(p.read_text().splitlines())) > 600]
    assert not big, big
