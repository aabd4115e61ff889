"""What the archive already holds: every stored chat of an account, read from the files.

The state is derived from the chat files themselves (never from mtimes or side files), so a
fresh `git clone` of an archive syncs incrementally. Parsing thousands of large JSON files on
every run would be slow, so what each file says is cached under .git/, keyed by the file's
size, mtime and inode: a changed file is simply parsed again.

The folders are the user's too. A file in `chats/` or `deleted/` is a chat only if it is a
JSON object whose `uuid` is the one its name ends with; anything else there (notes named after
a chat, a file that is not JSON) is the user's, and the sync never moves or deletes it. Of
several copies of one chat, only those named as the sync names the chat they hold (left by an
interrupted rename) are extra copies to remove; a copy under a name of the user's is theirs.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_backup.archive.files import write_atomic
from claude_backup.model import jsonvalue
from claude_backup.model.layout import CHATS, DELETED, TEMP_PREFIX
from claude_backup.model.naming import chat_file_name, uuid_of
from claude_backup.model.records import ChatRecord, StoredChat

CACHE_VERSION = 2


def _stat_key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino]


@dataclass
class StateCache:
    """path -> (stat key, record) for chat files (record None: a file there that is not a
    chat), saved in .git/claude-backup/chats.json."""

    path: Path
    entries: dict[str, tuple[list[int], ChatRecord | None]] = field(default_factory=dict)
    dirty: bool = False  # only a changed cache is written back
    # account folder -> the chat files its latest scan found (and those written since)
    live: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> StateCache:
        cache = cls(path)
        try:
            raw = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return cache
        if not isinstance(raw, dict) or raw.get("version") != CACHE_VERSION:
            return cache
        for rel, (key, rec) in raw.get("files", {}).items():
            cache.entries[rel] = (key, ChatRecord(*rec) if rec is not None else None)
        return cache

    def record(self, rel: str, st: os.stat_result, record: ChatRecord | None) -> None:
        self.live.setdefault(rel.split("/", 1)[0], set()).add(rel)
        entry = (_stat_key(st), record)
        if self.entries.get(rel) != entry:
            self.entries[rel] = entry
            self.dirty = True

    def rename_prefix(self, old: str, new: str) -> None:
        """Follow a folder rename, so its files need not be parsed again."""
        for rel in [rel for rel in self.entries if rel.startswith(old)]:
            self.entries[new + rel[len(old) :]] = self.entries.pop(rel)
            self.dirty = True

    def lookup(self, rel: str, st: os.stat_result) -> tuple[bool, ChatRecord | None]:
        """(known, record): known False when the file must be read again."""
        hit = self.entries.get(rel)
        if hit is None or hit[0] != _stat_key(st):
            return False, None
        return True, hit[1]

    def save(self) -> None:
        """Write the entries of files that still exist, if any entry changed since loading. A
        file exists if the latest scan of its account found it (or it was written since);
        entries of accounts not scanned in this run are kept as they are."""
        if not self.dirty:
            return
        files = {
            rel: [key, [rec.uuid, rec.name, rec.updated_at, rec.leaf] if rec else None]
            for rel, (key, rec) in self.entries.items()
            if rel in self.live.get(rel.split("/", 1)[0], (rel,))
        }
        data = json.dumps({"version": CACHE_VERSION, "files": files}, separators=(",", ":"))
        with contextlib.suppress(Exception):  # only a cache: never fail a sync over it
            write_atomic(self.path, data.encode("ascii"))


@dataclass
class AccountState:
    chats: dict[str, StoredChat]
    strays: list[str]  # extra copies of a chat (left by an interrupted rename): to remove


def scan_account(root: Path, account_uuid: str, cache: StateCache) -> AccountState:
    """Every chat file under the account's folder(s), by chat uuid."""
    found: dict[str, list[StoredChat]] = {}
    for account_dir in _subdirs(root):
        if uuid_of(account_dir.name) != account_uuid:
            continue
        live = cache.live[account_dir.name] = set()
        for org_dir in _subdirs(account_dir):
            org_uuid = uuid_of(org_dir.name)
            if org_uuid is None:
                continue
            for kind in (CHATS, DELETED):
                for entry in _files(org_dir / kind):
                    # what layout.parse_chat_path accepts, without re-reading the folders' uuids
                    name = entry.name
                    usable = name.endswith(".json") and not name.startswith(TEMP_PREFIX)
                    chat_uuid = uuid_of(name) if usable else None
                    if chat_uuid is None:
                        continue
                    rel = f"{account_dir.name}/{org_dir.name}/{kind}/{entry.name}"
                    live.add(rel)
                    record = _read_record(entry, rel, chat_uuid, cache)
                    if record is None:
                        continue  # the user's file: not ours to move or delete
                    chat = StoredChat(record, rel, org_uuid, kind == DELETED)
                    found.setdefault(chat_uuid, []).append(chat)
    chats: dict[str, StoredChat] = {}
    strays: list[str] = []
    for uuid, copies in found.items():
        if len(copies) > 1:
            copies.sort(key=_preference, reverse=True)
        chats[uuid] = copies[0]
        strays.extend(copy.path for copy in copies[1:] if _named_by_us(copy))
    return AccountState(chats, strays)


def _named_by_us(chat: StoredChat) -> bool:
    """Is the file named as the sync names the chat it holds?"""
    return chat.path.rsplit("/", 1)[-1] == chat_file_name(chat.record.name, chat.record.uuid)


def _preference(chat: StoredChat) -> tuple[bool, str, bool]:
    return (_named_by_us(chat), chat.record.updated_at or "", not chat.deleted)


def _read_record(
    entry: os.DirEntry[str], rel: str, uuid: str, cache: StateCache
) -> ChatRecord | None:
    """What a chat file says; None if the file is not a chat of ours. A chat file left cut
    short (a power loss) reads as not a chat: the chat is fetched again into its file."""
    st = entry.stat(follow_symlinks=False)
    known, cached = cache.lookup(rel, st)
    if known:
        return cached
    try:
        data: Any = jsonvalue.loads(Path(entry.path).read_bytes())
    except (OSError, ValueError):
        data = None
    record = None
    if isinstance(data, dict) and data.get("uuid") == uuid:
        record = ChatRecord.from_json(data)
    cache.record(rel, st, record)
    return record


def _subdirs(folder: Path) -> list[Path]:
    try:
        return [
            Path(e.path)
            for e in os.scandir(folder)
            if e.is_dir(follow_symlinks=False) and e.name != ".git"
        ]
    except OSError:
        return []


def _files(folder: Path) -> list[os.DirEntry[str]]:
    try:
        return [e for e in os.scandir(folder) if e.is_file(follow_symlinks=False)]
    except OSError:
        return []
