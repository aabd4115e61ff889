"""Message trees and their Markdown: golden files for branches, every block type and legacy
exports; unit tests for the tree rules of claude-api.md §3.

Run with UPDATE_GOLDEN=1 to rewrite the golden files after an intended change (then read the
diff)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from claude_backup.read.markdown import close_fences, render_chat
from claude_backup.read.tree import Branch, Fork, MessageTree, walk_all
from test_read_samples import ROOT, blocks_chat, branching_chat, legacy_export_chat, uid

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "chat", "branch"),
    [
        ("branches-current.md", branching_chat(), "current"),
        ("branches-all.md", branching_chat(), "all"),
        ("blocks.md", blocks_chat(), "current"),
        ("legacy-export-all.md", legacy_export_chat(), "all"),
        ("legacy-export-current.md", legacy_export_chat(), "current"),
    ],
)
def test_golden_markdown(name: str, chat: dict[str, Any], branch: Any) -> None:
    check_golden(name, render_chat(chat, branch, [("Organization", "Personal")]))


def test_current_branch_follows_leaf_to_root() -> None:
    chat = branching_chat()
    tree = MessageTree.from_chat(chat)
    assert tree.current_path(chat) == [uid(1), uid(2), uid(5), uid(7)]
    assert tree.leaves() == [uid(4), uid(6), uid(7), uid(9)]
    assert tree.children[ROOT] == [uid(1), uid(8)]
    assert tree.siblings(uid(6)) == [uid(6), uid(7)]


def test_leaf_fallbacks() -> None:
    chat = branching_chat()
    for leaf in (None, ROOT, uid(12345)):  # missing, sentinel, not in the array
        chat["current_leaf_message_uuid"] = leaf
        tree = MessageTree.from_chat(chat)
        assert tree.current_path(chat) == [uid(8), uid(9)]  # the last message is the leaf
    assert MessageTree.from_chat({"chat_messages": []}).current_path({}) == []


def test_unknown_or_later_parent_makes_a_root() -> None:
    chat = branching_chat()
    chat["chat_messages"][2]["parent_message_uuid"] = uid(777)  # not in the array
    chat["chat_messages"][1]["parent_message_uuid"] = uid(4)  # a later message: no cycle
    tree = MessageTree.from_chat(chat)
    assert tree.children[ROOT] == [uid(1), uid(2), uid(3), uid(8)]


def test_inferred_parents_make_edits_siblings() -> None:
    tree = MessageTree.from_chat(legacy_export_chat())
    assert tree.children[ROOT] == [uid(1), uid(2)]
    assert tree.parent[uid(3)] == uid(2)


def test_walk_all_marks_forks_and_the_current_branch() -> None:
    chat = branching_chat()
    tree = MessageTree.from_chat(chat)
    steps = list(walk_all(tree, tree.current_path(chat)))
    forks = [s[1] for s in steps if s[0] == "fork"]
    branches = [s[1] for s in steps if s[0] == "branch"]
    assert forks == [Fork(1, 2, "edit"), Fork(2, 2, "edit"), Fork(3, 2, "retry")]
    assert [b.label for b in branches if isinstance(b, Branch) and b.current] == [
        "1.1",
        "2.2",
        "3.2",
    ]
    messages = [s[1] for s in steps if s[0] == "message"]
    assert sorted(messages) == sorted(tree.order)  # every message exactly once


def test_a_long_chat_does_not_exhaust_the_stack() -> None:
    messages = [
        {
            "uuid": uid(n),
            "parent_message_uuid": uid(n - 1) if n > 1 else ROOT,
            "sender": "human",
            "text": f"m{n}",
        }
        for n in range(1, 5001)
    ]
    text = render_chat({"name": "long", "chat_messages": messages}, "all")
    assert text.count("## Human") == 5000


def test_close_fences() -> None:
    assert close_fences("a\n```py\nx") == "a\n```py\nx\n```"
    assert close_fences("```\nx\n```") == "```\nx\n```"
    assert close_fences("~~~~\n```\nx") == "~~~~\n```\nx\n~~~~"
    assert close_fences("inline ```code``` only") == "inline ```code``` only"
