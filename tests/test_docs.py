"""The docs keep their promises: every flag they show exists, every exit code is documented."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from claude_backup import errors
from conftest import CLI

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND_RE = re.compile(
    r"(?:^|(?<=[\s|`(])|(?<=bin/))claude-backup\s+"
    r"(sync|status|demo|config show|push|schedule (?:install|show|status|remove)|"
    r"key (?:set|show|remove)|show|log|search|export|import|verify)\b([^\n`|]*)",
    re.MULTILINE,
)


def used_flags() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for doc in DOCS:
        for command, rest in COMMAND_RE.findall(doc.read_text(encoding="utf-8")):
            flags = {token.split("=")[0] for token in rest.split() if token.startswith("-")}
            found.setdefault(command, set()).update(flags)
    return found


@pytest.mark.parametrize("command", sorted(used_flags()))
def test_documented_flags_exist(command: str) -> None:
    help_text = subprocess.run(
        [CLI, *command.split(), "--help"], capture_output=True, text=True, env={"COLUMNS": "200"}
    ).stdout
    assert help_text, f"`claude-backup {command}` has no help"
    for flag in used_flags()[command]:
        assert flag in help_text, f"docs use `{command} {flag}`, which does not exist"


def test_every_exit_code_is_documented() -> None:
    table = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    codes = {
        cls.exit_code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.ClaudeBackupError)
    }
    for code in codes:
        assert f"| {code} |" in table, f"exit code {code} is not in docs/errors.md"


def test_readme_opens_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8").split("\n")[:6]
    text = "\n".join(head)
    assert "claude-backup sync" in text and "pytest" in text
