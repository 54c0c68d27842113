"""The ``portico`` command line: human output by default, ``--json`` for scripts.

Every command that automation uses is non-interactive (secrets come on stdin).
"""

from __future__ import annotations

import click

from portico.cli import audit, clients, keys, maintenance, serve, setup, users


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="portico")
def main() -> None:
    """Portico, a small, standards-exact OpenID Connect provider."""


for module in (setup, serve, users, clients, keys, maintenance, audit):
    for command in module.COMMANDS:
        main.add_command(command)
