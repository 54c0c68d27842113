"""The ``portico`` command line: human output by default, ``--json`` for scripts.

Every command that automation uses is non-interactive (secrets come on stdin).
"""

from __future__ import annotations

import importlib
import pkgutil

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="portico")
def main() -> None:
    """Portico, a small, standards-exact OpenID Connect provider."""


# Every module of this package that defines COMMANDS contributes them.
for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    module = importlib.import_module(f"{__name__}.{info.name}")
    for command in getattr(module, "COMMANDS", ()):
        main.add_command(command)
