"""No recursion over message trees (issue 14 §5): a chat with a thousand nested edits is
synced, shown with every branch, exported as Markdown and as a site; `walk_all` agrees with a
plain recursive walk on any tree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from claude_backup.fakeapi import FakeClaudeServer
from claude_backup.fakeapi.hostile import nested_edits
from claude_backup.read.search import strings
from claude_backup.read.tree import ROOT, MessageTree, Step, walk_all
from conftest import Fake, assert_git_healthy, make_model, run_cli, sync

DEPTH = 1000


def test_a_thousand_nested_edits(tmp_path: Path) -> None:
    model = make_model(chats=2)
    chat = sorted(model.accounts[0].orgs[0].chats)[0]
    nested_edits(model, chat, DEPTH)
    with FakeClaudeServer(model) as server:
        fake = Fake(model, server)
        archive = tmp_path / "archive"
        result = sync(fake, archive)
        assert result.returncode == 0, result.stderr
        assert_git_healthy(archive)
        base = ["--archive", str(archive)]
        shown = run_cli("show", chat, "--branch", "all", *base, base_url=fake.base_url)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.count("Branch ") >= 2 * DEPTH  # each fork: two versions shown
        for fmt in ("md", "html"):
            out = tmp_path / f"export-{fmt}"
            done = run_cli("export", str(out), "--format", fmt, *base, base_url=fake.base_url)
            assert done.returncode == 0, done.stderr
            assert any(out.rglob(f"*{chat}*")) or any(
                chat in p.read_text() for p in out.rglob("*.json")
            )
        found = run_cli("search", "Please", *base, base_url=fake.base_url)
        assert found.returncode in (0, 1), found.stderr


def _recursive_walk(tree: MessageTree, current: set[str]) -> Iterator[tuple[Any, ...]]:
    """The reference: the obvious recursive walk (fine for small trees)."""
    forks = [0]

    def visit(children: list[str]) -> Iterator[tuple[Any, ...]]:
        while len(children) == 1:
            yield ("message", children[0])
            children = tree.children[children[0]]
        if not children:
            return
        forks[0] += 1
        number = forks[0]
        yield ("fork", number, len(children))
        for index, child in enumerate(children, 1):
            yield ("branch", number, index, child in current)
            yield from visit([child])

    yield from visit(tree.children[ROOT])


def _flat(step: Step) -> tuple[Any, ...]:
    kind, value = step
    if kind == "message":
        return ("message", value)
    if kind == "fork":
        return ("fork", value.number, value.count)  # type: ignore[union-attr]
    return ("branch", value.fork, value.index, value.current)  # type: ignore[union-attr]


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=40), st.integers(0, 40))
def test_walk_all_is_the_recursive_walk(parents: list[int], leaf: int) -> None:
    messages = [
        {"uuid": f"m{n}", "parent_message_uuid": f"m{p}" if p < n else ROOT, "sender": "human"}
        for n, p in enumerate(parents)
    ]
    tree = MessageTree(messages)
    current = set(tree.path_to(f"m{leaf}")) if leaf < len(messages) else set()
    walked = [_flat(step) for step in walk_all(tree, list(current))]
    assert walked == list(_recursive_walk(tree, current))
    assert sorted(v for k, v, *_ in walked if k == "message") == sorted(tree.order)


def test_strings_of_any_depth() -> None:
    value: Any = "deep"
    for n in range(100_000):
        value = [value, {"k": str(n)}] if n % 2 else {"x": value}
    found = list(strings(value))
    assert found[0] == "deep" and len(found) == 50_001
