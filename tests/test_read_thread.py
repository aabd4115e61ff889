"""The thread of an export chat (no parent links) rebuilt from timestamps and senders: a
linear chat in any array order reads back as that linear thread; forks only where two versions
of one turn show."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from claude_backup.read.html import ChatEntry, chat_page
from claude_backup.read.markdown import render_chat
from claude_backup.read.tree import ROOT, MessageTree, walk_all

START = datetime(2024, 6, 1, 9, 0, tzinfo=timezone.utc)


def uid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def stamp(offset: float) -> str:
    return (START + timedelta(seconds=offset)).isoformat().replace("+00:00", "Z")


def message(n: int, sender: str, at: float, **extra: Any) -> dict[str, Any]:
    return {
        "uuid": uid(n),
        "sender": sender,
        "text": f"message {n}",
        "content": [{"type": "text", "text": f"message {n}"}],
        "created_at": stamp(at),
        "updated_at": stamp(at),
        "attachments": [],
        "files": [],
        **extra,
    }


def linear_chat(gaps: list[tuple[float, float]]) -> list[dict[str, Any]]:
    """Prompt/reply pairs: each reply at its prompt's moment or later (`gap[0]`, often 0 as in
    real exports), the next prompt strictly later (`gap[1]` > 0)."""
    messages: list[dict[str, Any]] = []
    at = 0.0
    for pair, (reply_gap, next_gap) in enumerate(gaps):
        messages.append(message(2 * pair + 1, "human", at))
        at += reply_gap
        messages.append(message(2 * pair + 2, "assistant", at))
        at += next_gap
    return messages


def thread_of(messages: list[dict[str, Any]]) -> list[str]:
    chat = {"uuid": uid(999), "name": "t", "chat_messages": messages}
    tree = MessageTree.from_chat(chat)
    assert len(tree.leaves()) == 1, "a linear chat got a fork"
    return [str(tree.messages[k]["uuid"]) for k in tree.current_path(chat)]


gaps = st.lists(
    st.tuples(
        st.one_of(st.just(0.0), st.floats(min_value=0.001, max_value=600)),
        st.floats(min_value=0.001, max_value=86_400),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(gaps=gaps, seed=st.integers(0, 2**32 - 1), drop_last_reply=st.booleans())
def test_a_shuffled_linear_chat_reads_back_as_the_same_thread(
    gaps: list[tuple[float, float]], seed: int, drop_last_reply: bool
) -> None:
    messages = linear_chat(gaps)
    if drop_last_reply:
        messages.pop()  # the reply never came
    expected = [m["uuid"] for m in messages]
    shuffled = list(messages)
    random.Random(seed).shuffle(shuffled)
    assert thread_of(shuffled) == expected


def test_shared_timestamps_pair_each_prompt_with_its_own_reply() -> None:
    """The real-data case: reply and prompt share `created_at`, the array is reversed."""
    messages = linear_chat([(0.0, 60.0)] * 6)
    tree = MessageTree.from_chat({"chat_messages": messages[::-1]})
    path = tree.current_path({})
    assert [tree.messages[k]["sender"] for k in path] == ["human", "assistant"] * 6
    times = [tree.messages[k]["created_at"] for k in path]
    assert times == sorted(times)
    rendered = render_chat({"chat_messages": messages[::-1]}, "all")
    assert "Fork" not in rendered and "1 branch." in rendered


def test_a_retry_forks_where_two_replies_follow_one_prompt() -> None:
    messages = [
        message(1, "human", 0),
        message(2, "assistant", 0),
        message(3, "assistant", 30),  # retried
        message(4, "human", 60),
        message(5, "assistant", 60),
    ]
    random.Random(3).shuffle(messages)
    tree = MessageTree.from_chat({"chat_messages": messages})
    assert tree.children[uid(1)] == [uid(2), uid(3)]
    assert tree.parent[uid(4)] == uid(3)  # the thread goes on from the latest version
    forks = [s for s in walk_all(tree, tree.current_path({})) if s[0] == "fork"]
    assert len(forks) == 1 and forks[0][1].kind == "retry"  # type: ignore[union-attr]


def test_an_unanswered_prompt_then_another_is_an_edit() -> None:
    messages = [message(1, "human", 0), message(2, "human", 20), message(3, "assistant", 20)]
    tree = MessageTree.from_chat({"chat_messages": messages[::-1]})
    assert tree.children[ROOT] == [uid(1), uid(2)]
    assert tree.parent[uid(3)] == uid(2)


def test_index_shows_an_edit_that_alternation_cannot() -> None:
    """With `index` (depth) on every message, an answered edit forks at its own level."""
    messages = [
        message(1, "human", 0, index=0),
        message(2, "assistant", 0, index=1),
        message(3, "human", 10, index=2),
        message(4, "assistant", 10, index=3),
        message(5, "human", 20, index=2),  # the prompt of message 3, edited
        message(6, "assistant", 20, index=3),
    ]
    tree = MessageTree.from_chat({"chat_messages": messages[::-1]})
    assert tree.children[uid(2)] == [uid(3), uid(5)]
    assert tree.current_path({}) == [uid(1), uid(2), uid(5), uid(6)]


def test_without_timestamps_the_file_order_is_the_evidence() -> None:
    messages = [message(n, s, 0) for n, s in ((1, "human"), (2, "assistant"), (3, "human"))]
    for m in messages:
        m["created_at"] = None
    tree = MessageTree.from_chat({"chat_messages": messages})
    assert tree.current_path({}) == [uid(1), uid(2), uid(3)]


def test_html_and_markdown_of_a_shuffled_linear_chat_have_no_branches() -> None:
    messages = linear_chat([(0.0, 60.0)] * 5)
    random.Random(7).shuffle(messages)
    chat = {"uuid": uid(999), "name": "t", "chat_messages": messages}
    page = chat_page(ChatEntry(chat, uid(999), "Imported export", "", False, "t.json"))
    assert 'id="branch"' not in page and "Version 1 of" not in page
    assert "Thread rebuilt from the messages" in page
    markdown = render_chat(chat, "all")
    assert "- Thread: rebuilt from the messages" in markdown
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert [h.split(" · ")[0] for h in headings] == ["## Human", "## Claude"] * 5
    assert render_chat(chat, "current").count("## ") == 10


def test_many_messages_at_one_moment_keep_the_files_order() -> None:
    """Coarse timestamps: nothing but the file's order tells them apart."""
    messages = [message(n, "human" if n % 2 else "assistant", 0) for n in range(1, 7)]
    tree = MessageTree.from_chat({"chat_messages": messages})
    assert len(tree.leaves()) == 1
    assert tree.current_path({}) == [uid(n) for n in range(1, 7)]
