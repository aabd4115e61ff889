"""The layering docs/architecture.md describes, kept true: who may import dulwich, httpx and
whom; no import cycles; package __init__ files are docstrings only; every module imports alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "claude_backup"

# Which of our layers each layer may import (by the first part of the module name below
# claude_backup). "base" is the top-level modules: errors, config, keys, client, text, ...
# "core" is errors.py and text.py, which import nothing of ours.
ALLOWED = {
    "core": {"core"},
    "model": {"model", "core"},
    "base": {"base", "model", "core"},
    "archive": {"archive", "model", "base", "core"},
    "read": {"read", "archive", "model", "base", "core"},
    "sync": {"sync", "read", "archive", "model", "base", "core"},
    "cli": {"cli", "sync", "read", "archive", "model", "base", "core", "fakeapi"},  # demo
    "fakeapi": {"fakeapi", "model", "base", "core"},
}
CORE = {"errors", "text"}
# The entry points and the fake API's face, which gathers its parts for the tests.
NOT_LAYERED = {"claude_backup", "claude_backup.__main__"}
FACADES = {"claude_backup.fakeapi"}
# Third-party packages only one place may import.
OWNERS = {
    "dulwich": ("archive",),
    "httpx": ("client", "transport", "fakeapi"),
    "curl_cffi": ("client", "transport"),
    "httpx_curl_cffi": ("client", "transport"),
}
LAYERS = {"model", "archive", "read", "sync", "cli", "fakeapi"}


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[1] in CORE:
        return "core"
    return parts[1] if parts[1] in LAYERS else "base"


def imports_of(path: Path, *, top_level_only: bool = False) -> Iterator[str]:
    """Every module a file imports (absolute names), at any depth unless `top_level_only`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (write it absolute)"
            assert node.module is not None
            if node.module == "claude_backup":
                yield from (f"claude_backup.{alias.name}" for alias in node.names)
            else:
                yield node.module


def owner_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_layers_import_only_layers_below_them() -> None:
    wrong = []
    for module, path in modules():
        if module in NOT_LAYERED:
            continue
        layer = layer_of(module)
        for name in imports_of(path):
            if name.startswith("claude_backup.") and name != "claude_backup.__version__":
                target = layer_of(name)
                if target not in ALLOWED[layer]:
                    wrong.append(f"{module} ({layer}) imports {name} ({target})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", sorted(OWNERS))
def test_only_its_owner_imports_a_package(package: str) -> None:
    wrong = [
        f"{module} imports {name}"
        for module, path in modules()
        for name in imports_of(path)
        if name.split(".")[0] == package and owner_of(module) not in OWNERS[package]
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles() -> None:
    """Module-level imports only: an import inside a function is how a module loads a heavy
    dependency late, and it cannot make a cycle at import time."""
    known = dict(modules())
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        targets = set()
        for name in imports_of(path, top_level_only=True):
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name.startswith("claude_backup") and name != module:
                targets.add(name)
        graph[module] = targets
    cycles = []
    state: dict[str, int] = {}

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target, [*stack, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


def test_package_init_files_are_docstrings_only() -> None:
    for module, path in modules():
        if path.name != "__init__.py" or module in NOT_LAYERED | FACADES:
            continue
        body = ast.parse(path.read_text(encoding="utf-8")).body
        code = [
            n for n in body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
        ]
        assert code == [], f"{path} holds code"


def test_every_module_imports_on_its_own() -> None:
    names = [m for m, _ in modules() if not m.endswith("__main__")]
    failed = []
    for batch in range(0, len(names), 4):  # a few interpreters at a time
        running = {
            name: subprocess.Popen(
                [sys.executable, "-c", f"import {name}"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in names[batch : batch + 4]
        }
        for name, process in running.items():
            _, stderr = process.communicate()
            if process.returncode != 0:
                failed.append(f"{name}: {stderr.strip().splitlines()[-1]}")
    assert not failed, "\n".join(failed)


def test_status_and_help_load_neither_httpx_nor_the_sync_stack() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['claude-backup', 'status', '--help']\n"
        "from claude_backup.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'dulwich', "
        "'curl_cffi') or m.startswith('claude_backup.sync.'))\n"
        "print('LOADED', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "LOADED []" in result.stdout
