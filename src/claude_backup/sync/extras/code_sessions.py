"""Claude Code on the web (and Cowork) sessions: their transcripts, which the service ends
silently after about a week. A session that leaves the listing stays in the archive.

    <org>/code-sessions/sessions.json                   `GET /v1/code/sessions` (every page,
                                                        `data` joined in order)
    <org>/code-sessions/<title>-<id>/session.json       the session as listed
    <org>/code-sessions/<title>-<id>/events.jsonl       every event as answered, one a line,
                                                        in `sequence_num` order
    <org>/code-sessions/<title>-<id>/transcript.md      the conversation, to read

These endpoints live beside `/api`, want `anthropic-version`, `anthropic-beta` and the
organization in `x-organization-uuid`. A session's events are read again only when its
`updated_at` moved since they were last read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from claude_backup.model.layout import CODE_LISTING, CODE_SESSIONS
from claude_backup.model.naming import clean_title
from claude_backup.sync.extras.context import ExtrasContext
from claude_backup.sync.extras.feature import fetch_feature, named, text, write_json, write_text
from claude_backup.sync.extras.paths import place_folder
from claude_backup.sync.tasks import pool

FEATURE = "Claude Code sessions"
FOLDER = CODE_SESSIONS
LISTING = CODE_LISTING
API_VERSION = "2023-06-01"
BETA = "ccr-byoc-2025-07-29"
EVENTS_PAGE = 100
MAX_PAGES = 10_000


def code_headers(org_uuid: str) -> dict[str, str]:
    return {
        "anthropic-version": API_VERSION,
        "anthropic-beta": BETA,
        "anthropic-client-feature": "ccr",
        "x-organization-uuid": org_uuid,
    }


async def sync_code_sessions(ctx: ExtrasContext, org_uuid: str, org_path: str) -> None:
    headers = code_headers(org_uuid)
    folder = f"{org_path}/{FOLDER}"
    sessions = await _listing(ctx, headers, folder)
    if sessions is None:
        return
    write_json(ctx, f"{folder}/{LISTING}", {"data": sessions})
    done = ctx.state.sessions_done(org_uuid)
    items = [s for s in sessions if isinstance(s, Mapping) and text(s.get("id"))]

    existing = _folders_by_id(ctx, folder)

    async def one(session: Mapping[str, Any]) -> None:
        sid = text(session.get("id"))
        target = f"{folder}/{named(session.get('title'), sid)}"
        suffix = "-" + clean_title(sid, 64)
        old = next((name for name in existing if name.endswith(suffix)), None)
        place_folder(ctx.root, f"{folder}/{old}" if old else None, target)  # a new title
        write_json(ctx, f"{target}/session.json", session)
        mark = text(session.get("updated_at")) or json.dumps(session, sort_keys=True)
        if done.get(sid) == mark and (ctx.root / target / "events.jsonl").exists():
            return
        events = await _events(ctx, sid, headers)
        if events is None:
            return
        events.sort(key=_order)
        lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
        ctx.write(ctx.root / target / "events.jsonl", lines.encode("utf-8", "replace"))
        write_text(ctx, f"{target}/transcript.md", transcript(session, events))
        done[sid] = mark
        ctx.state.dirty = True
        ctx.report.code_sessions += 1

    await pool(items, one, ctx.workers)


async def _listing(ctx: ExtrasContext, headers: dict[str, str], folder: str) -> list[Any] | None:
    """Every session listed, or None when not available, failed or of an unknown shape (then
    stored as it came)."""
    try:
        return await _pages(ctx, "/v1/code/sessions", headers, {}, "next_cursor", _id)
    except _OddPage as odd:
        write_json(ctx, f"{folder}/{LISTING}", odd.page)
        return None


async def _events(ctx: ExtrasContext, sid: str, headers: dict[str, str]) -> list[Any] | None:
    """Every event of a session, page after page (`resume_cursor`); None when it failed or the
    session is gone (then what we have stays)."""
    path = f"/v1/code/sessions/{sid}/events"
    limit = {"limit": str(EVENTS_PAGE)}
    try:
        return await _pages(ctx, path, headers, limit, "resume_cursor", _event_key)
    except _OddPage as odd:
        return [odd.page]


class _OddPage(Exception):
    """A page without a `data` list (reported): the caller keeps it as it came."""

    def __init__(self, page: Any) -> None:
        super().__init__("a page without a data list")
        self.page = page


async def _pages(
    ctx: ExtrasContext,
    path: str,
    headers: dict[str, str],
    params: dict[str, str],
    cursor_field: str,
    key: Callable[[Any], str],
) -> list[Any] | None:
    """The `data` of `path`, page after page (the next asked with the cursor the last named in
    `cursor_field`), until a page brings nothing new (by `key`) or no cursor; None when a page
    was not answered. A page of another shape raises _OddPage."""
    items: list[Any] = []
    seen: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        asked = {**params, "cursor": cursor} if cursor else {**params}
        answered, page = await fetch_feature(ctx, FEATURE, path, asked or None, headers=headers)
        if not answered:
            return None
        found = page.get("data") if isinstance(page, Mapping) else None
        if not isinstance(found, list):
            ctx.report.odd(FEATURE, f"{path} has no data list; stored as is")
            raise _OddPage(page)
        new = [item for item in found if key(item) not in seen]
        seen.update(key(item) for item in new)
        items += new
        cursor = text(page.get(cursor_field)) or None
        if not new or cursor is None:
            break
    return items


def _folders_by_id(ctx: ExtrasContext, folder: str) -> list[str]:
    """The session folders already stored (`<title>-<id>`)."""
    try:
        entries = sorted(os.scandir(ctx.root / folder), key=lambda e: e.name)
    except OSError:
        return []
    return [e.name for e in entries if e.is_dir(follow_symlinks=False)]


def _id(item: Any) -> str:
    return text(item.get("id")) if isinstance(item, Mapping) else repr(item)


def _event_key(event: Any) -> str:
    if isinstance(event, Mapping) and text(event.get("event_id")):
        return text(event.get("event_id"))
    return json.dumps(event, sort_keys=True)


def _order(event: Any) -> tuple[int, str]:
    if not isinstance(event, Mapping):
        return (0, "")
    number = event.get("sequence_num")
    return (number if isinstance(number, int) else 0, text(event.get("created_at")))


def transcript(session: Mapping[str, Any], events: list[Any]) -> str:
    """The session as a page: each message's text, tool calls named, other events listed."""
    title = text(session.get("title")).strip() or text(session.get("id"))
    lines = [f"# {title}", "", f"Session `{text(session.get('id'))}`", ""]
    for event in events:
        if not isinstance(event, Mapping):
            continue
        payload = event.get("payload")
        message = payload.get("message") if isinstance(payload, Mapping) else None
        when = text(event.get("created_at"))
        kind = text(event.get("event_type")) or "event"
        if isinstance(message, Mapping):
            role = text(message.get("role")) or kind
            lines += [f"## {role.capitalize()} · {when}", "", _content(message.get("content")), ""]
        else:
            lines += [f"_{kind} · {when}_", ""]
    return "\n".join(lines).rstrip() + "\n"


def _content(content: object) -> str:
    if isinstance(content, str):
        return content.strip()
    parts: list[str] = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(text(block.get("text")).strip())
        elif kind == "tool_use":
            args = json.dumps(block.get("input"), ensure_ascii=False)[:500]
            parts.append(f"**Tool call `{text(block.get('name'))}`**: `{args}`")
        elif kind == "tool_result":
            parts.append(f"**Tool result**: {_content(block.get('content'))[:2000]}")
    return "\n\n".join(p for p in parts if p)
