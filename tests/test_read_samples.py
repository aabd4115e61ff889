"""Hand-made chats for the read-side tests (no tests here): branches, every content block
type, attachments, files, artifacts, and a 2024-style export message. Deterministic, so golden
files can hold their Markdown."""

from __future__ import annotations

from typing import Any

ROOT = "00000000-0000-4000-8000-000000000000"


def uid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def ts(minute: int) -> str:
    return f"2026-03-01T10:{minute:02d}:00.000000Z"


def msg(
    n: int, parent: int | None, sender: str, *blocks: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "uuid": uid(n),
        "parent_message_uuid": uid(parent) if parent is not None else ROOT,
        "sender": sender,
        "index": n,
        "text": "",
        "content": list(blocks),
        "created_at": ts(n),
        "updated_at": ts(n),
        "attachments": extra.get("attachments", []),
        "files": extra.get("files", []),
        "files_v2": extra.get("files_v2", []),
        "sync_sources": [],
    }


def text(value: str, citations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "text", "text": value, "citations": citations or []}


def chat(
    name: str, messages: list[dict[str, Any]], leaf: int | None, **extra: Any
) -> dict[str, Any]:
    return {
        "uuid": uid(999),
        "name": name,
        "summary": extra.get("summary", ""),
        "model": "claude-sonnet-4-5-20250929",
        "created_at": ts(0),
        "updated_at": ts(59),
        "current_leaf_message_uuid": uid(leaf) if leaf is not None else None,
        "chat_messages": messages,
        "is_starred": extra.get("is_starred", False),
        "project_uuid": extra.get("project_uuid"),
    }


def branching_chat() -> dict[str, Any]:
    """h1 -> a2 -> h3 -> a4; h3 edited as h5 -> a6, a6 retried as a7 (current), and the
    first prompt edited as h8 -> a9: forks at the root, after a2 and after h5."""
    return chat(
        "Trip planning",
        [
            msg(1, None, "human", text("Plan a trip to Lisbon.")),
            msg(2, 1, "assistant", text("Sure: three days?")),
            msg(3, 2, "human", text("Yes, three days.")),
            msg(4, 3, "assistant", text("Day 1: Alfama.")),
            msg(5, 2, "human", text("No, five days.")),
            msg(6, 5, "assistant", text("Day 1 of 5: Belém.")),
            msg(7, 5, "assistant", text("Five days, starting in Sintra.")),
            msg(8, None, "human", text("Plan a trip to Porto.")),
            msg(9, 8, "assistant", text("Porto it is.")),
        ],
        leaf=7,
        summary="Planning a **Lisbon** trip.",
    )


def blocks_chat() -> dict[str, Any]:
    """One linear chat using every content block type, attachments, files and artifacts."""
    citation = {
        "uuid": uid(500),
        "start_index": 0,
        "end_index": 5,
        "details": {"type": "web_search_citation", "url": "https://example.com/a"},
    }
    top_level_citation = {"url": "https://example.org/b", "title": "Example B"}
    human = msg(
        1,
        None,
        "human",
        text("Here is my data, and a picture."),
        {"type": "injected_prompt_block", "text": "Remember the user's timezone."},
        {"type": "voice_note", "title": "Morning idea", "text": "Also check the weather."},
        attachments=[
            {
                "id": uid(600),
                "file_name": "data.csv",
                "file_size": 2048,
                "file_type": "text/csv",
                "extracted_content": "a,b\n1,2\n",
            },
            {
                "id": uid(601),
                "file_name": "",
                "file_size": 12,
                "file_type": "txt",
                "extracted_content": "pasted text",
            },
        ],
        files_v2=[
            {"file_kind": "image", "file_uuid": uid(700), "file_name": "photo.png"},
            {
                "file_kind": "document",
                "file_uuid": uid(701),
                "file_name": "report.pdf",
                "size_bytes": 3_500_000,
            },
            {
                "file_kind": "blob",
                "file_uuid": uid(702),
                "file_name": "out.bin",
                "path": "/mnt/user-data/outputs/out.bin",
            },
        ],
    )
    assistant = msg(
        2,
        1,
        "assistant",
        {
            "type": "thinking",
            "thinking": "The user wants a *summary*.",
            "summaries": [{"summary": "Reading the data"}],
            "cut_off": False,
        },
        {"type": "thinking", "thinking": "", "thinking_hidden": True, "summaries": []},
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "web_search",
            "input": {"query": "lisbon"},
            "message": "Searching the web",
        },
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "name": "web_search",
            "is_error": False,
            "content": [
                {
                    "type": "knowledge",
                    "title": "Lisbon guide",
                    "url": "https://example.com/a",
                    "text": "Lisbon is hilly.",
                    "metadata": {"site_name": "Example"},
                },
                {"type": "image", "file_uuid": uid(703)},
                {
                    "type": "local_resource",
                    "file_path": "/mnt/user-data/outputs/plot.png",
                    "name": "plot.png",
                    "mime_type": "image/png",
                },
                {"type": "mystery", "value": 1},
            ],
        },
        {
            "type": "tool_use",
            "id": "toolu_2",
            "name": "bash_tool",
            "input": {"command": "ls"},
            "display_content": {
                "type": "code_block",
                "code": "ls -la",
                "language": "bash",
                "filename": "run.sh",
            },
        },
        {
            "type": "tool_result",
            "tool_use_id": "toolu_2",
            "name": "bash_tool",
            "is_error": True,
            "content": [{"type": "text", "text": "permission denied"}],
        },
        {
            "type": "tool_use",
            "id": "toolu_3",
            "name": "artifacts",
            "input": {
                "id": "plan",
                "type": "application/vnd.ant.code",
                "language": "python",
                "title": "Plan script",
                "command": "create",
                "content": 'print("```")\nprint(1)\n',
            },
        },
        {
            "type": "tool_result",
            "tool_use_id": "toolu_3",
            "name": "artifacts",
            "is_error": False,
            "content": [{"type": "text", "text": "OK"}],
        },
        {
            "type": "tool_use",
            "id": "toolu_4",
            "name": "artifacts",
            "input": {
                "id": "plan",
                "command": "update",
                "old_str": "print(1)",
                "new_str": "print(2)",
            },
        },
        {
            "type": "tool_use",
            "id": "toolu_5",
            "name": "artifacts",
            "input": {
                "id": "page",
                "type": "text/html",
                "title": "Page",
                "command": "create",
                "content": "<h1>Hi</h1>",
            },
        },
        {"type": "token_budget"},
        {"type": "hologram", "beam": "blue"},
        text("Lisbon has **seven hills**.", [citation, top_level_citation]),
        text("An open fence:\n```python\nx = 1"),
    )
    return chat(
        "Every block <type>", [human, assistant], leaf=2, is_starred=True, project_uuid=uid(800)
    )


def legacy_export_chat() -> dict[str, Any]:
    """A 2024 export: no parents, no leaf, text only with inline tags; an edited prompt shows
    as two consecutive human messages."""

    def legacy(n: int, sender: str, value: str) -> dict[str, Any]:
        return {
            "uuid": uid(n),
            "sender": sender,
            "text": value,
            "created_at": ts(n),
            "updated_at": ts(n),
            "attachments": [],
            "files": [{"file_name": "notes.md"}],
        }

    return {
        "uuid": uid(998),
        "name": "",
        "summary": "",
        "created_at": ts(0),
        "updated_at": ts(30),
        "account": {"uuid": uid(1000)},
        "chat_messages": [
            legacy(1, "human", "Write a haiku"),
            legacy(2, "human", "Write a haiku about the sea"),
            legacy(
                3,
                "assistant",
                "<antThinking>A short poem fits.</antThinking>Here it is:\n\n"
                '<antArtifact identifier="haiku" type="text/markdown" title="Sea haiku">'
                "waves fold into foam</antArtifact>\n\nEnjoy.",
            ),
        ],
    }
