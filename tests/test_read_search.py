"""Search, pure parts: query parsing, the raw-bytes pre-test, matching and snippets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claude_backup.errors import UsageError
from claude_backup.model.canonical import json_bytes
from claude_backup.read.search import Query, chat_units, match, search, snippet
from claude_backup.read.source import DiskSnapshot
from test_read_samples import blocks_chat, branching_chat

ACCOUNT = "a@example.com-00000000-0000-4000-8000-00000000a000"
ORG = "Personal-00000000-0000-4000-8000-00000000b000"


def write_chat(root: Path, chat: dict[str, object], *, ascii_only: bool = False) -> None:
    path = root / ACCOUNT / ORG / "chats" / f"chat-{chat['uuid']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(chat, ensure_ascii=True).encode() if ascii_only else json_bytes(chat)
    path.write_bytes(data)


def test_query_terms_and_phrases() -> None:
    query = Query.parse('Lisbon "five  DAYS" trip')
    assert query.terms == ("lisbon", "five days", "trip")
    assert Query.parse('unbalanced "quote').terms == ("unbalanced", '"quote')
    with pytest.raises(UsageError):
        Query.parse("   ")


def test_every_term_must_occur_somewhere_in_the_chat() -> None:
    units = chat_units(branching_chat())
    assert match(Query.parse("porto alfama"), units) is not None  # in different branches
    assert match(Query.parse("porto zanzibar"), units) is None
    best = match(Query.parse("five days"), units)
    assert best is not None and best[1] == "No, five days."
    assert match(Query.parse('"five days"'), units) == best
    assert match(Query.parse('"days five"'), units) is None


def test_search_covers_every_kind_of_text() -> None:
    units = chat_units(blocks_chat())
    for words in (
        "timezone",
        "weather",
        "a,b",
        "photo.png",
        "summary",
        "lisbon",
        "ls -la",
        "permission denied",
        "print(2)",
        "seven hills",
        "hilly",
    ):
        assert match(Query.parse(f'"{words}"'), units) is not None, words
    assert match(Query.parse("00000000"), units) is None  # uuids are not words


def test_snippet_highlights_every_match() -> None:
    query = Query.parse("fox")
    text = "word " * 30 + "the quick brown Fox jumps over the lazy fox " + "tail " * 50
    shown, spans = snippet(query, text)
    assert shown.startswith("…") and shown.endswith("…")
    assert [shown[a:b] for a, b in spans] == ["Fox", "fox"]


def test_raw_pre_test_never_hides_a_match(tmp_path: Path) -> None:
    chat = branching_chat()
    chat["chat_messages"][0]["content"][0]["text"] = "Ünïcödé café in Lisboa"
    write_chat(tmp_path, chat)
    other = dict(chat, uuid="00000000-0000-4000-8000-000000000777")
    write_chat(tmp_path, other, ascii_only=True)  # written with \\u escapes
    snapshot = DiskSnapshot(tmp_path)
    for words in ("CAFÉ", "ünïcödé lisboa", "Trip PLANNING"):
        query = Query.parse(words)
        hits = search(snapshot, query)
        assert len(hits) == 2, words
        assert all(query.may_match(snapshot.read(h.path) or b"") for h in hits)
    assert search(snapshot, Query.parse("zanzibar")) == []
    assert not Query.parse("zanzibar").may_match(json_bytes(chat))
