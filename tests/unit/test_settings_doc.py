"""The README's configuration table is generated from ``Settings``; these tests fail
when a setting changes and the README was not regenerated, so the docs cannot drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from portico import settings_doc
from portico.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_configuration_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert settings_doc.is_current(text), (
        "README.md's configuration table is stale; regenerate it with "
        f"`{settings_doc.FIX_COMMAND}` and commit the result"
    )


def test_table_lists_every_setting_as_its_environment_variable() -> None:
    table = settings_doc.settings_table()
    for name in Settings.model_fields:
        assert f"`PORTICO_{name.upper()}`" in table


def test_table_shows_defaults_in_the_form_the_environment_accepts() -> None:
    table = settings_doc.settings_table()
    assert "| `PORTICO_INSECURE_COOKIES` | `false` |" in table
    assert "| `PORTICO_KEYS_DIR` | `./keys` |" in table
    assert "| `PORTICO_SECRET_KEY` | unset |" in table
    assert "| `PORTICO_ISSUER` | `http://127.0.0.1:8000` |" in table


def test_table_states_what_validation_accepts() -> None:
    table = settings_doc.settings_table()
    assert "One of `debug`, `info`, `warning`, `error`." in table
    assert "Range 4–16." in table


def test_write_replaces_only_the_marked_section(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Title\n\n{settings_doc.START}\nold table\n{settings_doc.END}\n\nAfter.\n",
        encoding="utf-8",
    )
    assert settings_doc.main(["--check", str(readme)]) == 1
    assert settings_doc.main(["--write", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert "old table" not in text
    assert text.startswith("# Title\n\n") and text.endswith("\n\nAfter.\n")
    assert settings_doc.main(["--check", str(readme)]) == 0


def test_check_reports_the_command_that_fixes_a_stale_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"{settings_doc.START}\n{settings_doc.END}\n", encoding="utf-8")
    assert settings_doc.main(["--check", str(readme)]) == 1
    assert settings_doc.FIX_COMMAND in capsys.readouterr().err


def test_a_file_without_markers_is_an_error_not_a_silent_no_op(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# No markers here\n", encoding="utf-8")
    assert settings_doc.main(["--write", str(readme)]) == 2
    assert readme.read_text(encoding="utf-8") == "# No markers here\n"
