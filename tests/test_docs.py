"""The docs keep their promises: every flag they show exists, every exit code is documented."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
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


def first_code_block(text: str) -> list[str]:
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #")[0].strip() for line in block.splitlines()]


def test_readme_opens_with_install_and_test_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.index("```sh") < 200  # the first thing after the title
    use, develop = first_code_block(text)[:2]
    assert use.startswith("pipx install . && ~/.local/bin/claude-backup ")  # PATH not needed
    assert "python3 -m venv .venv" in develop and "-m pytest" in develop
    assert "python -m pip install ." not in text  # externally managed on Debian and Ubuntu
    assert "Python 3.10 or newer" in text[:800]


def test_ci_runs_the_readme_lines_as_written() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "first_code_block_line 1" in ci and "first_code_block_line 2" in ci
    assert "PIPX_HOME" in ci  # a clean environment of its own, without the dev extras


def test_python_39_is_told_the_version_it_needs() -> None:
    code = "import sys; sys.version_info = (3, 9, 18, 'final', 0); import claude_backup"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "claude-backup needs Python 3.10 or newer; this is Python 3.9" in result.stderr


def _fragments(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    if isinstance(node, ast.BinOp):
        return _fragments(node.left) + _fragments(node.right)
    return []


def error_messages() -> list[tuple[str, int, str]]:
    """(module, line, the message's longest fixed part) of every error the code raises."""
    classes = {
        name
        for name, cls in vars(errors).items()
        if isinstance(cls, type) and issubclass(cls, errors.ClaudeBackupError)
    } | {"NoMatch"}
    found = []
    for path in sorted((ROOT / "src" / "claude_backup").rglob("*.py")):
        if "fakeapi" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in classes or not node.args:
                continue
            pieces = [f.strip(" ;:,.()'\"") for f in _fragments(node.args[0])]
            pieces = [p for p in pieces if len(p) >= 6]
            if pieces:
                found.append((path.name, node.lineno, max(pieces, key=len)))
    return found


def test_every_error_message_is_in_errors_md() -> None:
    doc = " ".join((ROOT / "docs" / "errors.md").read_text(encoding="utf-8").split())
    messages = error_messages()
    assert len(messages) > 50  # the scan works
    missing = [m for m in messages if " ".join(m[2].split()) not in doc]
    assert missing == [], f"messages missing from docs/errors.md: {missing}"


def test_the_key_file_recipe_works_on_a_fresh_machine(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "session-key.md").read_text(encoding="utf-8")
    block = next(b for b in text.split("```sh\n")[1:] if "install -m 600" in b).split("```")[0]
    lines = [line for line in block.splitlines() if "claude-backup" not in line.split()[0]]
    script = "\n".join(line.replace("wl-paste", "echo sk-ant-sid01-x") for line in lines)
    home = tmp_path / "home"
    home.mkdir()
    subprocess.run(
        ["bash", "-euc", script], env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, check=True
    )
    key = home / ".config" / "claude-backup" / "session-key"
    assert key.read_text() == "sk-ant-sid01-x\n" and key.stat().st_mode & 0o077 == 0


def test_readme_says_how_long_the_tests_take_and_what_they_need() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    developing = text[text.index("## Developing") :]
    assert re.search(r"takes about \d+ minutes", developing)
    for tool in ("chromium", "openssh-server", "git", "[dev]"):
        assert tool in developing


def test_the_scheduling_path_is_where_the_readme_installs_the_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    schedule = (ROOT / "docs" / "scheduling.md").read_text(encoding="utf-8")
    used = set(re.findall(r"(?:\$HOME|%h|~)/([\w./-]+)/claude-backup sync", schedule))
    assert used, "scheduling.md runs claude-backup by its full path"
    for folder in used:
        assert f"`~/{folder}`" in readme, f"the README never installs into ~/{folder}"
