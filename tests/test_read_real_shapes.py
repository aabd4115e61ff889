"""What real chats carry, read as faithfully as our own: research reports and their sources,
several thinking summaries, tool calls without ids, rewrites without a type, unknown blocks
and fields; in `show`'s Markdown, the HTML pages and the artifact files."""

from __future__ import annotations

import json
from typing import Any

from claude_backup.fakeapi import FakeClaude
from claude_backup.fakeapi.realshapes import (
    RESEARCH_TOOL,
    add_react_rewrite_turns,
    add_research_turn,
    add_web_search_turn,
)
from claude_backup.read.html import ChatEntry, chat_page
from claude_backup.read.markdown import render_chat
from claude_backup.read.search import chat_units
from claude_backup.sync.extras.artifacts import reconstruct


def research_chat() -> tuple[dict[str, Any], str]:
    model = FakeClaude(seed=5)
    account = model.add_account("sk-ant-sid01-test", "ada@example.com")
    org = account.add_org("Personal")
    chat = model.add_chat(org, "Tidal gardens", turns=1)
    artifact_id = add_research_turn(model, chat.uuid)
    add_react_rewrite_turns(model, chat.uuid, "counter")
    add_web_search_turn(model, chat.uuid)
    return model.chat_detail(chat), artifact_id


def html_of(chat: dict[str, Any]) -> str:
    return chat_page(ChatEntry(chat, chat["uuid"], "Personal", "", False, "x.json"))


SOURCE_URLS = (
    "https://example.org/study/1",
    "https://example.org/study/2",
    "https://journal.example.net/review/1",
)


def test_research_sources_show_in_markdown_html_and_the_artifact_file() -> None:
    chat, artifact_id = research_chat()
    assert "/" in artifact_id and artifact_id.startswith("compass_artifact_wf-")
    markdown = render_chat(chat)
    page = html_of(chat)
    files = reconstruct(chat)
    index = json.loads(files["artifacts/index.json"])
    report = next(a for a in index["artifacts"] if a["id"] == artifact_id)
    assert report["file"].endswith(".md") and "/" not in report["file"][len("artifacts/") :]
    text = files[report["file"]].decode()
    assert text.startswith("# Tidal gardens")
    for url in SOURCE_URLS:
        assert url in markdown, url
        assert f'href="{url}"' in page, url
        assert url in text, url
    assert "Sources (2)" in markdown and "## Sources" in text
    assert "cited for: “Salt-tolerant plants grow”" in text
    assert files[report["versions"][0]["file"]] == files[report["file"]]
    words = " ".join(text for _, text in chat_units(chat))
    assert all(url in words for url in SOURCE_URLS)  # `search` finds a report by its sources


def test_the_tool_call_line_does_not_repeat_the_tool_name() -> None:
    markdown = render_chat(research_chat()[0])
    assert f"Tool call: {RESEARCH_TOOL}</summary>" in markdown
    assert f"{RESEARCH_TOOL} — {RESEARCH_TOOL}" not in markdown
    assert "Tool call: web_search — Searching the web" in markdown


def test_every_thinking_summary_and_truncation_show() -> None:
    chat = research_chat()[0]
    for rendered in (render_chat(chat), html_of(chat)):
        for summary in ("Planning the research", "Choosing sources", "Writing the brief"):
            assert summary in rendered
        assert "the thinking was truncated" in rendered


def test_rewrites_without_type_keep_the_artifacts_language_and_lineage() -> None:
    chat = research_chat()[0]
    markdown = render_chat(chat)
    rewrite = markdown.index("Artifact: Counter (rewrite, application/vnd.ant.react)")
    assert markdown[rewrite:].split("\n\n")[1].startswith("```jsx\nexport default () => <p>1</p>")
    index = json.loads(reconstruct(chat)["artifacts/index.json"])
    counter = next(a for a in index["artifacts"] if a["id"] == "counter")
    assert counter["file"] == "artifacts/counter.jsx" and counter["title"] == "Counter"
    assert [(v["command"], v["based_on"], v["type"]) for v in counter["versions"]] == [
        ("create", None, "application/vnd.ant.react"),
        ("rewrite", 1, "application/vnd.ant.react"),
    ]


def test_an_artifact_call_without_id_pairs_with_its_failed_result() -> None:
    blocks = [
        {"type": "tool_use", "name": "artifacts", "input": {"id": "a", "content": "x"}},
        {"type": "tool_result", "name": "artifacts", "is_error": True, "content": []},
        {"type": "tool_use", "name": "artifacts", "input": {"id": "b", "content": "y"}},
        {"type": "tool_result", "name": "artifacts", "content": [{"type": "text", "text": "OK"}]},
    ]
    chat = {"chat_messages": [{"uuid": "m", "sender": "assistant", "content": blocks}]}
    index = json.loads(reconstruct(chat)["artifacts/index.json"])
    assert [a["id"] for a in index["artifacts"] if a["versions"]] == ["b"]


UNKNOWN_CHAT = {
    "uuid": "00000000-0000-4000-8000-000000000001",
    "name": "future",
    "chat_messages": [
        {
            "uuid": "00000000-0000-4000-8000-000000000002",
            "sender": "assistant",
            "created_at": "2026-02-01T10:00:00Z",
            "compaction_summary": {"text": "what came before, compacted"},
            "content": [
                {"type": "hologram", "payload": {"frames": ["first frame"]}},
                {"type": "text", "text": "Hello.", "tone": {"label": "cheerful"}},
            ],
        }
    ],
}


def test_unknown_blocks_and_fields_are_shown_collapsed_never_dropped() -> None:
    markdown = render_chat(UNKNOWN_CHAT)
    page = html_of(UNKNOWN_CHAT)
    for rendered in (markdown, page):
        assert "hologram block" in rendered and "first frame" in rendered
        assert "Other fields of the text block: tone" in rendered and "cheerful" in rendered
        assert "Other fields of the message: compaction_summary" in rendered
        assert "what came before, compacted" in rendered
    assert "<details>\n<summary>Other fields of the text block: tone</summary>" in markdown
    words = " ".join(text for _, text in chat_units(UNKNOWN_CHAT))
    assert "cheerful" in words and "first frame" in words
