"""The README's configuration table, generated from ``Settings`` so it cannot drift.

The field descriptions in ``portico.settings`` are the single source: this module
renders them as Markdown between two markers in the README, and a unit test fails
when the committed table differs from what the code would write (the idea of
node-oidc-provider's docs generated from ``defaults.js``)::

    python -m portico.settings_doc                    # print the table
    python -m portico.settings_doc --write README.md  # refresh the README section
    python -m portico.settings_doc --check README.md  # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import enum
import sys
import typing
from pathlib import Path, PurePath
from typing import Any

from annotated_types import Ge, Le
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from portico.settings import DEFAULT_CONFIG_FILE, Settings

START = "<!-- settings-table:start -->"
END = "<!-- settings-table:end -->"
FIX_COMMAND = ".venv/bin/python -m portico.settings_doc --write README.md"


class MarkersMissing(ValueError):
    """The README has no place for the table; a silent no-op would hide that."""


def _code(text: str) -> str:
    return f"`{text}`"


def _render_default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        # Written the way the environment accepts it, not Python's True/False.
        return _code(str(value).lower())
    if isinstance(value, PurePath):
        text = str(value)
        return _code(text if value.is_absolute() or text.startswith(".") else f"./{text}")
    if isinstance(value, list):
        return _code("[]") if not value else _code(repr(value))
    if isinstance(value, enum.Enum):
        return _code(str(value.value))
    return _code(str(value))


def _allowed_values(field: FieldInfo) -> str:
    """Literal choices and numeric bounds, so the table tells what validation accepts."""
    notes: list[str] = []
    if typing.get_origin(field.annotation) is typing.Literal:
        notes.append("One of " + ", ".join(_code(v) for v in typing.get_args(field.annotation)))
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    if low is not None and high is not None:
        notes.append(f"Range {low}–{high}")
    elif low is not None:
        notes.append(f"At least {low}")
    elif high is not None:
        notes.append(f"At most {high}")
    return ". ".join(notes) + "." if notes else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def settings_table() -> str:
    """The Markdown table (plus the note on the config file itself), without markers."""
    rows = [
        "| Environment variable | Default | Description |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").strip()
        if not description:
            # Every setting must explain itself; an empty cell would ship silently.
            raise ValueError(f"Settings.{name} has no description")
        extra = _allowed_values(field)
        if extra:
            description = f"{description.rstrip('.')}. {extra}"
        rows.append(
            f"| {_code('PORTICO_' + name.upper())} | {_cell(_render_default(field))} "
            f"| {_cell(description)} |"
        )
    rows.append("")
    rows.append(
        f"`PORTICO_CONFIG` names the TOML file to read (default `{DEFAULT_CONFIG_FILE}` in "
        "the working directory; a missing file is fine). In the file, use the same names "
        "in lower case without the prefix, e.g. `access_token_ttl = 600`."
    )
    return "\n".join(rows)


def with_table(text: str) -> str:
    """``text`` with the section between the markers replaced by the current table."""
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < 0 or end < start:
        raise MarkersMissing(f"expected {START} … {END} in the file")
    head = text[: start + len(START)]
    tail = text[end:]
    return f"{head}\n{settings_table()}\n{tail}"


def is_current(text: str) -> bool:
    """True when the section between the markers is what the code would write."""
    return with_table(text) == text


def main(argv: list[str] | None = None) -> int:
    """Print, write or check the table; the exit code is for CI and ``make``."""
    parser = argparse.ArgumentParser(prog="python -m portico.settings_doc", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="FILE", nargs="?", const="README.md", type=Path)
    group.add_argument("--check", metavar="FILE", nargs="?", const="README.md", type=Path)
    args = parser.parse_args(argv)
    if args.write is None and args.check is None:
        print(settings_table())
        return 0
    path: Path = args.write or args.check
    try:
        text = path.read_text(encoding="utf-8")
        updated = with_table(text)
    except (OSError, MarkersMissing) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if updated != text:
            print(f"{path}: the configuration table is stale; run `{FIX_COMMAND}`", file=sys.stderr)
            return 1
        return 0
    if updated != text:
        path.write_text(updated, encoding="utf-8")
        print(f"updated the configuration table in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
