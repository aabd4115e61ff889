"""Chat files of an archive, from its working tree (`DiskSnapshot`) or any git revision
(`history.RevisionSnapshot`), and finding one chat by uuid, uuid prefix or title."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from claude_backup.errors import ArchiveError, UsageError
from claude_backup.model import jsonvalue
from claude_backup.model.layout import (
    MARKER,
    ORG_FILE,
    ChatFile,
    find_chat_files,
)
from claude_backup.model.naming import is_uuid, uuid_of
from claude_backup.read.markdown import chat_title

_PREFIX_RE = re.compile(r"[0-9a-fA-F-]{4,36}")


class NoMatch(UsageError):
    """No chat answers to the name given."""


class Snapshot(Protocol):
    """The archive's files at one point: the working tree, or a commit."""

    label: str

    def chat_files(self) -> list[ChatFile]: ...

    def read(self, path: str) -> bytes | None: ...


def require_archive(root: Path) -> Path:
    """`root`, if it holds an archive; reading never creates one."""
    if not ((root / MARKER).is_file() and (root / ".git").exists()):
        raise ArchiveError(
            f"no claude-backup archive at {root}; run `claude-backup sync` first, "
            "or point --archive (or CLAUDE_BACKUP_ARCHIVE) at your archive"
        )
    return root


class DiskSnapshot:
    label = "working tree"

    def __init__(self, root: Path) -> None:
        self.root = root

    def chat_files(self) -> list[ChatFile]:
        def folders(rel: str) -> list[str]:
            found = [e.name for e in _scan(self.root / rel, dirs=True)]
            return found if rel else [name for name in found if name != ".git"]

        def names(rel: str) -> list[str]:
            return [e.name for e in _scan(self.root / rel, dirs=False)]

        return find_chat_files(folders, names)

    def read(self, path: str) -> bytes | None:
        try:
            return (self.root / path).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise ArchiveError(f"cannot read {self.root / path}: {exc.strerror or exc}") from exc


def _scan(folder: Path, *, dirs: bool) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return [e for e in entries if e.is_dir(follow_symlinks=False) == dirs]
    except OSError:
        return []


def parse_chat(data: bytes | None, path: str) -> dict[str, Any]:
    if data is None:
        raise ArchiveError(f"{path} is missing from the archive")
    try:
        value = jsonvalue.loads(data)
    except ValueError as exc:
        raise ArchiveError(f"{path} is not valid JSON ({exc}); the archive may be damaged") from exc
    if not isinstance(value, dict):
        raise ArchiveError(f"{path} does not hold a chat (a JSON object)")
    return value


def load_chat(snapshot: Snapshot, chat: ChatFile) -> dict[str, Any]:
    return parse_chat(snapshot.read(chat.path), chat.path)


def org_name(snapshot: Snapshot, chat: ChatFile, cache: dict[str, str] | None = None) -> str:
    """The organization's name from its organization.json, else from its folder name."""
    folder = chat.path.rsplit("/", 2)[0]
    if cache is not None and folder in cache:
        return cache[folder]
    name: object = ""
    data = snapshot.read(f"{folder}/{ORG_FILE}")
    if data is not None:
        try:
            value = json.loads(data)
            name = value.get("name") if isinstance(value, dict) else ""
        except ValueError:
            pass
    if not isinstance(name, str) or not name:
        base = folder.rsplit("/", 1)[-1]
        uuid = uuid_of(base)
        name = base[: -len(uuid) - 1] if uuid else base
    if cache is not None:
        cache[folder] = name
    return name


def find_chat(snapshot: Snapshot, query: str) -> ChatFile:
    """The one chat `query` names: a uuid, a uuid prefix, or (part of) a title."""
    query = query.strip()
    if not query:
        raise UsageError("name a chat: a uuid, the start of one, or words of its title")
    files = snapshot.chat_files()
    if is_uuid(query):
        matches = [f for f in files if f.uuid == query.lower()]
        return _one(matches, query, snapshot, {})
    titles: dict[str, str] = {}
    if _PREFIX_RE.fullmatch(query):
        matches = [f for f in files if f.uuid.startswith(query.lower())]
        if matches:
            return _one(matches, query, snapshot, titles)
    needle = " ".join(query.casefold().split())
    words = needle.split(" ")
    matches = []
    exact = []
    for file in _candidates(snapshot, files, words):
        title = chat_title(load_chat(snapshot, file))
        titles[file.path] = title
        folded = title.casefold()
        if needle in folded or all(word in folded for word in words):
            matches.append(file)
            if " ".join(folded.split()) == needle:
                exact.append(file)
    return _one(exact if len(exact) == 1 else matches, query, snapshot, titles)


def _candidates(
    snapshot: Snapshot, files: Iterable[ChatFile], words: list[str]
) -> Iterable[ChatFile]:
    """Files that may hold every word: a cheap test of the raw bytes before parsing."""
    literal = all(not any(c in word for c in '"\\') and word.isprintable() for word in words)
    for file in files:
        data = snapshot.read(file.path)
        if data is None:
            continue
        if not literal or b"\\u" in data:
            yield file
            continue
        folded = data.decode("utf-8", "replace").casefold()
        if all(word in folded for word in words):
            yield file


def _one(
    matches: list[ChatFile], query: str, snapshot: Snapshot, titles: dict[str, str]
) -> ChatFile:
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NoMatch(
            f"no chat matches {query!r} in the {snapshot.label} (titles and uuids); to look "
            f"in the messages too: claude-backup search {query}"
        )
    shown = ", ".join(f"{m.uuid} {_title(snapshot, m, titles)!r}" for m in matches[:5])
    more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
    raise UsageError(f"{query!r} matches {len(matches)} chats: {shown}{more}; give a uuid")


def _title(snapshot: Snapshot, chat: ChatFile, titles: dict[str, str]) -> str:
    if chat.path not in titles:
        titles[chat.path] = chat_title(load_chat(snapshot, chat))
    return titles[chat.path]
