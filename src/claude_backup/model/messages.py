"""Commit messages: what one sync changed, in words and in trailers. Pure.

The first line counts the changes; then one line per chat (`<what>  <uuid>  <title>`); then
trailers (`Chat-New: <uuid>`, ...) so `git log --grep` and scripts can ask when a chat changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from claude_backup.model import jsonvalue
from claude_backup.model.layout import (
    ACCOUNT_FILE,
    ARTIFACTS_INDEX,
    CATALOG,
    CHAT_FILES,
    CODE_SESSIONS,
    DELETED_PROJECTS,
    FILES,
    MEMORY_MD,
    MEMORY_SETTINGS,
    ORG_FILE,
    PROFILE,
    PROFILE_JSON,
    PROJECTS,
    SANDBOX,
    SKILLS,
    SKILLS_JSON,
    STYLES,
    STYLES_JSON,
    is_users_skill,
    parse_chat_path,
)
from claude_backup.model.naming import uuid_of
from claude_backup.model.records import ROOT_SENTINEL, ChatRecord
from claude_backup.text import one_line

KIND_ORDER = ("new", "updated", "branch", "renamed", "restored", "deleted", "pruned", "moved")
TRAILERS = {
    "new": "Chat-New",
    "updated": "Chat-Updated",
    "branch": "Chat-Branch",
    "renamed": "Chat-Renamed",
    "restored": "Chat-Restored",
    "deleted": "Chat-Deleted",
    "pruned": "Chat-Pruned",
}


@dataclass(frozen=True)
class NewChat:
    """What describing a new chat takes from its file: kept by the sync for each chat it
    writes, so a first sync of thousands of chats does not read them all back to say so."""

    name: object
    messages: int

    @classmethod
    def of(cls, chat: dict[str, Any]) -> NewChat:
        return cls(chat.get("name"), len(_messages(chat)))


@dataclass(frozen=True)
class Side:
    """One side of a changed file: its path and its bytes (None when absent).

    The bytes are given directly, or read on each use from a blob `sha` with `read`, so that
    describing a sync of thousands of files never holds all of them at once. `chat`: what a
    new chat's file says, when known without reading it.
    """

    path: str | None
    raw: bytes | None = None
    sha: bytes | None = None
    read: Callable[[bytes], bytes] | None = None
    chat: NewChat | None = None

    @property
    def data(self) -> bytes | None:
        if self.raw is None and self.sha is not None and self.read is not None:
            return self.read(self.sha)
        return self.raw


@dataclass(frozen=True)
class ChatChange:
    uuid: str
    kinds: tuple[str, ...]
    what: str
    title: str


def load_object(data: bytes | None) -> dict[str, Any]:
    """A stored JSON object, read to be described ({} if it is not one). orjson reads it,
    several times faster than the standard library, which reads what orjson refuses (NaN, say);
    an integer beyond 64 bits may come back as a float, which no description looks at."""
    if data is None:
        return {}
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            value = jsonvalue.loads(data)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _messages(chat: dict[str, Any]) -> list[dict[str, Any]]:
    items = chat.get("chat_messages")
    return [m for m in items if isinstance(m, dict)] if isinstance(items, list) else []


def describe_chat(uuid: str, old: Side, new: Side) -> ChatChange:
    """What happened to one chat between two versions of its file."""
    if old.path is None and new.chat is not None:
        title = one_line(new.chat.name) or "(untitled)"
        return ChatChange(uuid, ("new",), f"new ({new.chat.messages} messages)", title)
    old_data, new_data = old.data, new.data
    before, after = load_object(old_data), load_object(new_data)
    old_loc = parse_chat_path(old.path) if old.path else None
    new_loc = parse_chat_path(new.path) if new.path else None
    title = one_line(after.get("name") or before.get("name")) or "(untitled)"
    if old.path is None:
        count = len(_messages(after))
        return ChatChange(uuid, ("new",), f"new ({count} messages)", title)
    if new.path is None:
        return ChatChange(uuid, ("pruned",), "pruned (deleted on claude.ai)", title)
    if old_loc and new_loc and not old_loc.deleted and new_loc.deleted:
        return ChatChange(uuid, ("deleted",), "deleted", title)
    kinds: list[str] = []
    words: list[str] = []
    if old_loc and new_loc and old_loc.deleted and not new_loc.deleted:
        kinds.append("restored")
        words.append("restored")
    old_rec, new_rec = ChatRecord.from_json(before), ChatRecord.from_json(after)
    if old_data is not None and new_data is not None and old_rec.name != new_rec.name:
        kinds.append("renamed")
        words.append(f'renamed "{one_line(old_rec.name, 60)}" → "{one_line(new_rec.name, 60)}"')
    kinds_words = _message_changes(before, after, old_rec, new_rec)
    for kind, word in kinds_words:
        kinds.append(kind)
        words.append(word)
    if not kinds:
        same = old_data == new_data
        kinds.append("moved" if same else "updated")
        words.append("moved with its organization" if same else "updated")
    return ChatChange(uuid, tuple(kinds), ", ".join(words), title)


def _message_changes(
    before: dict[str, Any], after: dict[str, Any], old_rec: ChatRecord, new_rec: ChatRecord
) -> list[tuple[str, str]]:
    old_ids = {m.get("uuid") for m in _messages(before)}
    added = [m for m in _messages(after) if m.get("uuid") not in old_ids]
    if added:
        added_ids = {m.get("uuid") for m in added}
        tip = old_rec.leaf or ROOT_SENTINEL
        forks = [
            m
            for m in added
            if m.get("parent_message_uuid") not in added_ids
            and (m.get("parent_message_uuid") or ROOT_SENTINEL) != tip
        ]
        noun = "message" if len(added) == 1 else "messages"
        if forks:
            return [("branch", f"new branch (+{len(added)} {noun})")]
        return [("updated", f"{len(added)} {noun} added")]
    if old_rec.leaf != new_rec.leaf:
        return [("branch", "branch switched")]
    return []


@dataclass(frozen=True)
class Summary:
    chats: list[ChatChange]
    other: list[str]  # lines about organizations and accounts

    def counts(self) -> Counter[str]:
        return Counter(change.kinds[0] for change in self.chats)


def headline(summary: Summary, prefix: str) -> str:
    counts = summary.counts()
    parts = [f"{counts[kind]} {kind}" for kind in KIND_ORDER if counts[kind]]
    if not parts and summary.other:
        parts = [summary.other[0]]
    return f"{prefix}: {', '.join(parts) or 'archive files updated'}"


def message(summary: Summary, prefix: str = "Sync") -> str:
    lines = [headline(summary, prefix), ""]
    lines.extend(summary.other)
    listed = [c for c in summary.chats if c.kinds != ("moved",)]
    moved = len(summary.chats) - len(listed)
    lines.extend(f"{c.what}  {c.uuid}  {c.title}" for c in listed)
    if moved:
        lines.append(f"{moved} chats moved with their renamed organization")
    trailers = [
        f"{TRAILERS[kind]}: {c.uuid}" for c in listed for kind in c.kinds if kind in TRAILERS
    ]
    if trailers:
        lines.extend(["", *trailers])
    return "\n".join(lines).rstrip() + "\n"


def describe_files(
    changes: Iterable[tuple[Side, Side]],
) -> Summary:
    """Group file changes (old side, new side) into chat changes and other lines."""
    chats: dict[str, tuple[Side, Side]] = {}
    other: list[str] = []
    for old, new in changes:
        path = new.path or old.path or ""
        location = parse_chat_path(path)
        if location is None:
            other += [line for line in _describe_other(old, new) if line not in other]
            continue
        have_old, have_new = chats.get(location.chat_uuid, (Side(None, None), Side(None, None)))
        chats[location.chat_uuid] = (
            old if old.path is not None else have_old,
            new if new.path is not None else have_new,
        )
    described = [describe_chat(uuid, old, new) for uuid, (old, new) in chats.items()]
    described.sort(key=lambda c: (KIND_ORDER.index(c.kinds[0]), c.title, c.uuid))
    return Summary(described, other)


def _describe_other(old: Side, new: Side) -> list[str]:
    path = new.path or old.path or ""
    name = path.rsplit("/", 1)[-1]
    if name not in (ACCOUNT_FILE, ORG_FILE):
        return describe_extra_lines(old, new)
    line = _describe_account_or_org(old, new, name)
    return [line] if line else []


def _describe_account_or_org(old: Side, new: Side, name: str) -> str | None:
    noun = "account" if name == ACCOUNT_FILE else "organization"
    key = "email_address" if name == ACCOUNT_FILE else "name"
    before, after = load_object(old.data), load_object(new.data)
    if old.path is None:
        return f"{noun} added: {one_line(after.get(key))}"
    if new.path is None:
        return None
    if before.get(key) != after.get(key):
        return f'{noun} renamed "{one_line(before.get(key))}" → "{one_line(after.get(key))}"'
    return None


# Lines for the extras' files (uploads, chat files, projects, memory).


class FileSide(Protocol):
    @property
    def path(self) -> str | None: ...
    @property
    def data(self) -> bytes | None: ...


def _title(folder: str) -> str:
    """The readable part of a `<title>-<uuid>` folder name."""
    uuid = uuid_of(folder)
    return one_line(folder[: -len(uuid) - 1] if uuid else folder, 60)


def describe_extra_lines(old: FileSide, new: FileSide) -> list[str]:
    """The lines about a changed extras file (the account's smaller parts can say several)."""
    path = new.path or old.path or ""
    parts = path.split("/")
    if len(parts) == 3 and parts[1:] == [PROFILE, PROFILE_JSON]:
        return _profile_lines(old, new)
    if len(parts) == 3 and parts[2] == MEMORY_SETTINGS:
        return _memory_mode_lines(old, new)
    if len(parts) >= 4 and parts[2] in _LISTS and parts[3:] == [_LISTS[parts[2]]]:
        return _list_lines(parts[2], old, new)
    if len(parts) >= 5 and parts[2] == SKILLS and old.path and new.path:
        return [f"skill updated: {one_line(parts[3], 60)}"]
    if len(parts) == 5 and parts[2] == CODE_SESSIONS:
        return _code_lines(old, new, parts[3], parts[4])
    line = describe_extra(old, new)
    return [line] if line else []


def describe_extra(old: FileSide, new: FileSide) -> str | None:
    """One line about a changed extras file, or None when it is not worth a line."""
    path = new.path or old.path or ""
    parts = path.split("/")
    added, removed = old.path is None, new.path is None
    if len(parts) == 3 and parts[2] == MEMORY_MD:
        return None if removed else "memory updated"
    if len(parts) < 4:
        return None
    kind, rest = parts[2], parts[3:]
    if kind == FILES and len(rest) == 1 and rest[0].endswith(".json"):
        return _file_line(old, new)
    if kind == PROJECTS and len(rest) >= 2:
        return _project_line(old, new, rest)
    if kind == DELETED_PROJECTS and rest[1:] == ["project.json"] and added:
        return f"project deleted: {one_line(load_object(new.data).get('name'))}"
    if kind == CHAT_FILES and len(rest) >= 3 and not removed:
        title = _title(rest[0])
        if "/".join(rest[1:]) == ARTIFACTS_INDEX:
            return f"artifacts updated: {title}"
        if rest[1] == SANDBOX and added:
            return f"sandbox output added: {one_line(rest[-1], 60)} ({title})"
    return None


def _file_line(old: FileSide, new: FileSide) -> str | None:
    before, after = load_object(old.data), load_object(new.data)
    name = one_line(after.get("file_name") or before.get("file_name")) or "(unnamed)"
    if new.path is None:
        return None
    if after.get("missing") and not before.get("missing"):
        return f"file missing: {name}"
    if old.path is None or before.get("missing"):
        lossy = " (only a lossy preview)" if after.get("lossy") else ""
        return f"file added: {name}{lossy}"
    return None


def _project_line(old: FileSide, new: FileSide, rest: list[str]) -> str | None:
    title = _title(rest[0])
    name = "/".join(rest[1:])
    if new.path is None:
        if rest[1] != "docs":
            return None
        return f"project doc removed: {one_line(rest[-1], 60)} ({title})"
    if name == "project.json":
        before, after = load_object(old.data), load_object(new.data)
        if old.path is None:
            return f"project added: {one_line(after.get('name'))}"
        if before.get("name") != after.get("name"):
            return (
                f'project renamed "{one_line(before.get("name"))}" → '
                f'"{one_line(after.get("name"))}"'
            )
        return None
    if name == "instructions.md" and old.path is not None and old.data != new.data:
        return f"project instructions updated: {title}"
    if name == MEMORY_MD:
        return f"project memory updated: {title}"
    if rest[1] == "docs" and len(rest) == 3:
        verb = "added" if old.path is None else "changed" if old.data != new.data else None
        return f"project doc {verb}: {one_line(rest[2], 60)} ({title})" if verb else None
    return None


_LISTS = {
    STYLES: STYLES_JSON,
    SKILLS: SKILLS_JSON,
    CATALOG: "published_artifacts.json",
}


def _profile_lines(old: FileSide, new: FileSide) -> list[str]:
    if new.path is None:
        return []
    before, after = load_object(old.data), load_object(new.data)
    if old.path is None:
        return ["profile preferences added"]
    if before.get("conversation_preferences") != after.get("conversation_preferences"):
        return ["profile preferences changed"]
    return ["profile changed"] if before != after else []


def _memory_mode_lines(old: FileSide, new: FileSide) -> list[str]:
    if new.path is None:
        return []
    before, after = load_object(old.data), load_object(new.data)
    mode = one_line(after.get("memory_mode")) or "unknown"
    if old.path is None:
        return [f"memory mode: {mode}"]
    if before.get("memory_mode") != after.get("memory_mode"):
        return [f"memory mode changed: {one_line(before.get('memory_mode'))} → {mode}"]
    return []


def _items(kind: str, data: bytes | None) -> dict[str, dict[str, Any]]:
    """Name -> item of a stored list answer, the kinds history tells about."""
    try:
        value = jsonvalue.loads(data) if data else None
    except ValueError:
        value = None
    found: dict[str, dict[str, Any]] = {}
    if kind == STYLES:
        items = value.get("customStyles") if isinstance(value, dict) else None
    elif kind == SKILLS:
        items = value.get("skills") if isinstance(value, dict) else None
        items = (
            [i for i in items if isinstance(i, dict) and is_users_skill(i)]
            if isinstance(items, list)
            else None
        )
    else:
        items = value
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        key = item.get("published_artifact_uuid") if kind == CATALOG else item.get("name")
        if isinstance(key, str):
            found.setdefault(key, item)
    return found


def _list_lines(kind: str, old: FileSide, new: FileSide) -> list[str]:
    if new.path is None:
        return []
    before, after = _items(kind, old.data), _items(kind, new.data)
    lines = []
    if kind == CATALOG:
        for key, item in after.items():
            title = one_line(item.get("title") or item.get("artifact_identifier"), 60)
            was = before.get(key)
            if item.get("deleted") and (was is None or not was.get("deleted")):
                lines.append(f"artifact unpublished: {title}")
            elif not item.get("deleted") and (was is None or was.get("deleted")):
                lines.append(f"artifact published: {title}")
        lines += [
            f"artifact unpublished: {one_line(i.get('title') or i.get('artifact_identifier'), 60)}"
            for key, i in before.items()
            if key not in after and not i.get("deleted")
        ]
        return lines
    noun, changed = ("style", "changed") if kind == STYLES else ("skill", "updated")
    for name, item in sorted(after.items()):
        if name not in before:
            lines.append(f"{noun} added: {one_line(name, 60)}")
        elif before[name] != item:
            lines.append(f"{noun} {changed}: {one_line(name, 60)}")
    lines += [
        f"{noun} removed: {one_line(name, 60)}" for name in sorted(before) if name not in after
    ]
    return lines


def _code_lines(old: FileSide, new: FileSide, folder: str, name: str) -> list[str]:
    title = one_line(folder.rsplit("-", 1)[0], 60)
    if name == "session.json" and old.path is None and new.path is not None:
        return [f"Claude Code session added: {title}"]
    if name == "events.jsonl" and old.path is not None and new.path is not None:
        return [f"Claude Code session updated: {title}"]
    return []
