"""What the in-process CLI tests share: ``portico`` run through click's runner over a
fresh SQLite file (tests/cli/test_org_cli.py and test_serve.py run the real process)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result

from portico.cli import main
from portico.crypto.secretbox import new_master_key_text

Cli = Callable[..., Result]


def cli_runner(tmp_path: Path, **env: str) -> Cli:
    """``cli(*args, stdin=None, ok=True)`` runs ``portico ARGS`` on ``tmp_path/p.db`` with
    ``env`` on top; ``ok`` says whether it must exit 0 (or must not)."""
    settings = {
        "PORTICO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
        "PORTICO_KEYS_DIR": str(tmp_path / "keys"),
        "PORTICO_BCRYPT_ROUNDS": "4",
        "PORTICO_CONFIG": str(tmp_path / "none.toml"),
        **env,
    }
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None, ok: bool = True) -> Result:
        result = runner.invoke(main, list(args), input=stdin, env=settings)
        assert (result.exit_code == 0) == ok, result.output
        return result

    run.tmp_path = tmp_path  # type: ignore[attr-defined]
    return run


def instance_with_alice(tmp_path: Path) -> Cli:
    """An initialised instance with an issuer, a master key and alice (whose ``user
    create`` makes the default organization)."""
    run = cli_runner(tmp_path, PORTICO_SECRET_KEY=new_master_key_text(),
                     PORTICO_ISSUER="https://id.example.com")
    run("init")
    run("user", "create", "--username", "alice", "--email", "alice@example.org",
        "--password-stdin", stdin="Correct-horse-1\n")
    return run

