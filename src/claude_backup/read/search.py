"""Full-text search over chat titles and message text.

A chat matches when every term of the query (words, or "quoted phrases") occurs in it, case
insensitively, in its title, summary or any message of any branch. Speed on large archives
comes from testing each file's raw bytes for the query's words before parsing it: most files
are never parsed. The archive writes JSON with non-ASCII characters unescaped, so a word that
is in a chat is in its bytes; files with `\\u` escapes are always parsed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from claude_backup.errors import UsageError
from claude_backup.model.layout import ChatFile
from claude_backup.read.markdown import chat_title
from claude_backup.read.parts import text
from claude_backup.read.source import Snapshot, parse_chat
from claude_backup.read.tree import chat_messages

BEFORE = 60
AFTER = 140


@dataclass(frozen=True)
class Query:
    terms: tuple[str, ...]  # lower case
    pattern: re.Pattern[str]
    words: tuple[str, ...]  # for the raw-bytes test; empty: parse every file

    @classmethod
    def parse(cls, query: str) -> Query:
        try:
            terms = shlex.split(query)
        except ValueError:  # an unbalanced quote: take the words as they are
            terms = query.split()
        terms = [" ".join(t.split()).lower() for t in terms if t.strip()]
        if not terms:
            raise UsageError("give some words to search for")
        pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
        words = [w for t in terms for w in t.split()]
        literal = all(w.isprintable() and '"' not in w and "\\" not in w for w in words)
        return cls(tuple(terms), pattern, tuple(words) if literal else ())

    def may_match(self, data: bytes) -> bool:
        """A fast test of a file's raw JSON: False only if the chat cannot match."""
        if not self.words or b"\\u" in data:
            return True
        low = data.lower()  # ASCII only: non-ASCII words are looked for in decoded text
        text: str | None = None
        for word in self.words:
            if word.isascii():
                if word.encode() not in low:
                    return False
                continue
            if text is None:
                text = data.decode("utf-8", "replace").lower()
            if word not in text:
                return False
        return True


@dataclass(frozen=True)
class Hit:
    uuid: str
    title: str
    path: str
    updated_at: str
    snippet: str
    spans: tuple[tuple[int, int], ...]  # matches inside the snippet, to highlight
    where: str = ""  # empty for the current version; else which old version matched


Unit = tuple[str, str]  # (what: "title", "summary" or a message uuid, its text on one line)

# Keys whose values are identifiers, times or URLs of assets: never words of the chat.
SKIP_KEYS = frozenset(
    {
        "uuid",
        "id",
        "type",
        "tool_use_id",
        "start_timestamp",
        "stop_timestamp",
        "created_at",
        "updated_at",
        "signature",
        "file_uuid",
        "version_uuid",
        "favicon_url",
        "flags",
        "integration_icon_url",
        "icon_name",
        "approval_key",
        "approval_options",
        "file_kind",
        "thumbnail_url",
        "preview_url",
        "thumbnail_asset",
        "preview_asset",
        "document_asset",
        "citations",
        "is_error",
        "is_citable",
        "cut_off",
        "sender",
        "index",
        "stop_reason",
        "parent_message_uuid",
        "truncated",
        "file_size",
        "size_bytes",
        "file_type",
    }
)


def strings(value: object) -> Iterator[str]:
    """Every string in a JSON value, except under SKIP_KEYS (quicker than rendering it), in
    order; no recursion, so any depth will do."""
    pending: list[object] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(v for k, v in reversed(item.items()) if k not in SKIP_KEYS)
        elif isinstance(item, list):
            pending.extend(reversed(item))


def message_text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    body = content if isinstance(content, list) and content else message.get("text")
    pieces = [*strings(body), *strings(message.get("attachments"))]
    pieces += strings(message.get("files_v2") or message.get("files"))
    return " ".join(" ".join(pieces).split())


def chat_units(chat: Mapping[str, Any]) -> list[Unit]:
    summary = " ".join(text(chat.get("summary")).split())
    units: list[Unit] = [("title", chat_title(chat)), ("summary", summary)]
    for n, message in enumerate(chat_messages(chat)):
        units.append((text(message.get("uuid")) or f"#{n}", message_text(message)))
    return [u for u in units if u[1]]


def match(query: Query, units: Sequence[Unit]) -> Unit | None:
    """The unit to show as the snippet if the chat matches (the one with the most terms)."""
    lowered = [u[1].lower() for u in units]
    whole = "\n".join(lowered)
    if not all(term in whole for term in query.terms):
        return None
    counts = [sum(term in low for term in query.terms) for low in lowered]
    return units[counts.index(max(counts))]


def snippet(query: Query, value: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    first = query.pattern.search(value)
    start = max(0, first.start() - BEFORE) if first else 0
    end = min(len(value), (first.end() if first else 0) + AFTER)
    if start > 0:
        space = value.find(" ", start, first.start() if first else end)
        start = space + 1 if space != -1 else start
    cut = value[start:end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(value) else ""
    spans = tuple(
        (m.start() + len(prefix), m.end() + len(prefix)) for m in query.pattern.finditer(cut)
    )
    return prefix + cut + suffix, spans


def hit_for(query: Query, chat: Mapping[str, Any], file: ChatFile, where: str = "") -> Hit | None:
    unit = match(query, chat_units(chat))
    if unit is None:
        return None
    shown, spans = snippet(query, unit[1])
    return Hit(
        file.uuid, chat_title(chat), file.path, text(chat.get("updated_at")), shown, spans, where
    )


def search(snapshot: Snapshot, query: Query) -> list[Hit]:
    """Matching chats, most recently updated first."""
    hits: list[Hit] = []
    for file in snapshot.chat_files():
        data = snapshot.read(file.path)
        if data is None or not query.may_match(data):
            continue
        hit = hit_for(query, parse_chat(data, file.path), file)
        if hit is not None:
            hits.append(hit)
    hits.sort(key=lambda h: (h.updated_at, h.uuid), reverse=True)
    return hits


@dataclass(frozen=True)
class Version:
    """One past version of a chat file."""

    file: ChatFile
    data: bytes
    where: str


def search_versions(
    query: Query,
    versions: Iterable[Version],
    current: Callable[[str], Mapping[str, Any] | None],
) -> Iterator[Hit]:
    """Matches in past versions that the current tree no longer has: a message since edited
    away, a deleted chat, an old title. `current` gives a chat as it is now (None: gone)."""
    reported: set[tuple[str, str, str]] = set()
    now_units: dict[str, set[Unit]] = {}
    gone: set[str] = set()
    for version in versions:
        if not query.may_match(version.data):
            continue
        try:
            chat = parse_chat(version.data, version.file.path)
        except Exception:  # a damaged old version: nothing to find in it
            continue
        units = chat_units(chat)
        unit = match(query, units)
        if unit is None:
            continue
        uuid = version.file.uuid
        if uuid not in now_units:
            now = current(uuid)
            now_units[uuid] = set(chat_units(now)) if now is not None else set()
            if now is None:
                gone.add(uuid)
        if unit in now_units[uuid] or (uuid, *unit) in reported:
            continue
        reported.add((uuid, *unit))
        shown, spans = snippet(query, unit[1])
        note = ", chat no longer in the archive" if uuid in gone else ""
        yield Hit(
            uuid,
            chat_title(chat),
            version.file.path,
            text(chat.get("updated_at")),
            shown,
            spans,
            f"{version.where}{note}",
        )
