"""Turns in the shapes real API responses have and our generated ones did not, so every test
that uses the fake meets them (issue 16; noted from published internal-API chats, 2025-2026):

- Research: a `launch_extended_search_task` call (input `command`, the brief) whose result is
  a text block holding `{"task_id": "wf-…"}`, then the report as an `artifacts` call with id
  `compass_artifact_wf-<uuid>_text/markdown` (a `/` in it), `source`, and `md_citations`
  (`title`, `url`, `uuid`, `sources[]`, `metadata`, `start_index`/`end_index`,
  `origin_tool_name`); that call has no `id` and no timestamps;
- thinking with several `summaries` and `truncated`; text blocks without timestamps, and
  whitespace-only text blocks;
- tool_use keys `tool_identifier`, `is_mcp_app`, `hidden_in_chat`, `mcp_server_url`,
  `icon_name`; web-search results whose `metadata` has a `type` (`webpage_metadata`);
- artifact `rewrite`s carrying only `id`, `command`, `content`, `version_uuid` (no type, no
  title);
- message `input_mode`; chat `settings` with `thinking_mode`, `tool_search_mode`,
  `enabled_mcp_tools` (a dict), `effort_level`; `files[]` entries with `success`.

Those that cost no random draw are in every fake chat (model.py: settings, `input_mode`,
several thinking summaries and `truncated`, the MCP keys of every tool call, typed web-search
metadata, a whitespace-only text block after a search, `success`), so every test meets them;
the turns below add the rest where a test asks for them.
"""

from __future__ import annotations

from typing import Any

from claude_backup.fakeapi.model import (
    REAL_SETTINGS,
    FakeClaude,
    text_block,
    tool_result,
    tool_use,
)

JSON = dict[str, Any]
RESEARCH_TOOL = "launch_extended_search_task"


def real_settings() -> JSON:
    """A research chat's settings: the real keys every fake chat has, research turned on."""
    return {
        "enabled_web_search": True,
        **REAL_SETTINGS,
        "enabled_mcp_tools": {"web_fetch": True, "google_drive_search": False},
        "preview_feature_uses_artifacts": True,
        "enabled_artifacts_attachments": True,
    }


def bare_text(text: str) -> JSON:
    """A text block as research replies have it: no timestamps, no flags."""
    return {"type": "text", "text": text, "citations": []}


def thinking(summaries: list[str], text: str, *, truncated: bool = False) -> JSON:
    return {
        "type": "thinking",
        "thinking": text,
        "summaries": [{"summary": s} for s in summaries],
        "cut_off": False,
        "truncated": truncated,
        "start_timestamp": None,
        "stop_timestamp": None,
    }


def citation(model: FakeClaude, n: int, start: int, end: int) -> JSON:
    url = f"https://example.org/study/{n}"
    return {
        "uuid": model.new_uuid(),
        "title": f"Study {n}",
        "url": url,
        "start_index": start,
        "end_index": end,
        "origin_tool_name": "web_fetch",
        "metadata": {
            "type": "generic_metadata",
            "uuid": model.new_uuid(),
            "source": "example.org",
            "icon_url": "https://example.org/favicon.ico",
            "preview_title": f"Study {n}",
        },
        "sources": [
            {
                "uuid": model.new_uuid(),
                "title": f"Study {n}",
                "url": url,
                "source": "example.org",
                "icon_url": "https://example.org/favicon.ico",
                "subtitles": None,
                "content_body": None,
                "resource_type": None,
            },
            {
                "uuid": model.new_uuid(),
                "title": f"Review of study {n}",
                "url": f"https://journal.example.net/review/{n}",
                "source": "journal.example.net",
                "icon_url": None,
                "subtitles": None,
                "content_body": None,
                "resource_type": None,
            },
        ],
    }


REPORT = (
    "# Tidal gardens\n\n"
    "Salt-tolerant plants grow well above the high-water line.\n\n"
    "Kelp mulch adds potassium without adding weeds.\n"
)


def research_id(model: FakeClaude) -> tuple[str, str]:
    """(task id, artifact id) of one research run."""
    task = f"wf-{model.new_uuid()}"
    return task, f"compass_artifact_{task}_text/markdown"


def add_research_turn(model: FakeClaude, chat_uuid: str) -> str:
    """A finished Research reply; returns the report artifact's id."""
    with model.lock:
        chat = model.find_chat(chat_uuid)
        assert chat is not None
        ts = model.clock.tick()
        task, artifact_id = research_id(model)
        first = REPORT.index("Salt")
        second = REPORT.index("Kelp")
        launch = tool_use(
            "toolu_01" + "R" * 22,
            RESEARCH_TOOL,
            {"command": "Research how to garden near the sea: plants, soil, mulch."},
            ts,
            RESEARCH_TOOL,  # real calls repeat the tool's name as their message
        )
        launch.update(
            tool_identifier=RESEARCH_TOOL,
            is_mcp_app=False,
            hidden_in_chat=False,
            mcp_server_url=None,
            icon_name="globe",
        )
        launched = tool_result(
            launch["id"], RESEARCH_TOOL, [{"type": "text", "text": f'{{"task_id": "{task}"}}'}], ts
        )
        report = {
            "type": "tool_use",
            "name": "artifacts",
            "input": {
                "id": artifact_id,
                "type": "text/markdown",
                "title": "Tidal gardens",
                "source": "c",
                "command": "create",
                "content": REPORT,
                "md_citations": [
                    citation(model, 1, first, first + len("Salt-tolerant plants grow")),
                    citation(model, 2, second, second + 10),
                ],
                "version_uuid": model.new_uuid(),
            },
            "message": "artifacts",
            "integration_name": None,
            "display_content": None,
        }
        blocks = [
            thinking(
                ["Planning the research", "Choosing sources", "Writing the brief"],
                "The user wants a researched answer.",
                truncated=True,
            ),
            bare_text("I'll research this."),
            launch,
            launched,
            bare_text("  \n"),
            report,
            bare_text("Your report on tidal gardens is ready."),
        ]
        reply = model._assistant_turn(chat[1], blocks)
        reply.input_mode = "text"
        chat[1].settings = real_settings()
        return artifact_id


def add_react_rewrite_turns(model: FakeClaude, chat_uuid: str, artifact_id: str) -> None:
    """A React artifact made, then rewritten as real rewrites are: no type, no title."""
    model.add_artifact_turn(
        chat_uuid,
        [
            {
                "id": artifact_id,
                "type": "application/vnd.ant.react",
                "title": "Counter",
                "command": "create",
                "content": "export default () => <p>0</p>;\n",
                "version_uuid": model.new_uuid(),
            }
        ],
    )
    model.add_artifact_turn(
        chat_uuid,
        [
            {
                "id": artifact_id,
                "command": "rewrite",
                "content": "export default () => <p>1</p>;\n",
                "version_uuid": model.new_uuid(),
            }
        ],
    )


def add_web_search_turn(model: FakeClaude, chat_uuid: str) -> None:
    """A web search whose results' `metadata` has a `type`, with an MCP-style tool call."""
    with model.lock:
        found = model.find_chat(chat_uuid)
        assert found is not None
        ts = model.clock.tick()
        tid = "toolu_01" + "W" * 22
        use = tool_use(tid, "web_search", {"query": "sea kale"}, ts, "Searching the web")
        use.update(tool_identifier="web_search", is_mcp_app=False, hidden_in_chat=False)
        result = {
            "type": "knowledge",
            "title": "Sea kale",
            "url": "https://example.org/sea-kale",
            "text": "A coastal perennial.",
            "metadata": {
                "type": "webpage_metadata",
                "site_domain": "example.org",
                "site_name": "Example",
                "favicon_url": "https://example.org/favicon.ico",
            },
            "is_missing": False,
            "is_citable": True,
        }
        blocks = [use, tool_result(tid, "web_search", [result], ts), text_block("Sea kale.", ts)]
        model._assistant_turn(found[1], blocks)
