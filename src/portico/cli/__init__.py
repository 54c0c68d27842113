"""The ``portico`` command line: human output by default, ``--json`` for scripts.

Every command that automation uses is non-interactive (secrets come on stdin).
A command's module is imported only when that command runs, so ``portico serve``
carries none of the others (memory, start-up time).
"""

from __future__ import annotations

import importlib

import click

# Command name -> the module of this package whose COMMANDS defines it;
# tests/cli/test_cli_commands.py checks this against every module's COMMANDS.
COMMAND_MODULES = {
    "admin": "users",
    "audit": "audit",
    "client": "clients",
    "db": "setup",
    "init": "setup",
    "invite": "invites",
    "keys": "keys",
    "maintenance": "maintenance",
    "org": "orgs",
    "provider": "providers",
    "registration": "registration",
    "serve": "serve",
    "user": "users",
}


class _Commands(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMAND_MODULES.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"{__name__}.{module_name}")
        return next((c for c in module.COMMANDS if c.name == cmd_name), None)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="portico")
def main() -> None:
    """Portico, a small, standards-exact OpenID Connect provider."""
