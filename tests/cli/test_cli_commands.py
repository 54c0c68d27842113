"""The command table of the lazily loaded CLI (portico/cli/__init__.py)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import portico.cli
from portico.cli import COMMAND_MODULES


def test_the_command_table_names_every_command_of_every_module() -> None:
    defined: dict[str, str] = {}
    for info in pkgutil.iter_modules(portico.cli.__path__):
        module = importlib.import_module(f"portico.cli.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            defined[command.name] = info.name
    assert defined == COMMAND_MODULES


def test_serve_loads_no_other_command_no_alembic_and_no_postgresql_dialect() -> None:
    # What `portico serve` imports before it serves (memory: bench/README.md, RSS).
    probe = (
        "import sys; from portico.cli import main; main.get_command(None, 'serve'); "
        "import portico.app; "
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'portico.cli.', 'alembic', 'sqlalchemy.dialects.postgresql'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['portico.cli.common', 'portico.cli.serve']"
