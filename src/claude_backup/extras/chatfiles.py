"""Each chat's own folder beside `chats/`: its artifacts, links to its uploads, its sandbox.

A chat is looked at again only when its name, `updated_at` or leaf changed since it was last
done; that is remembered in `.git/claude-backup/extras-<account uuid>.json` (only a cache: a
fresh clone rebuilds the derived files from the chat JSON and gets the same bytes). What needs
the network (the sandbox) is keyed on `index.json` in the tree instead, so a clone does not
ask again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import move, remove_empty_parents, write_atomic
from ..plan import StoredChat
from ..render import json_bytes
from .artifacts import FOLDER as ARTIFACTS
from .artifacts import INDEX as ARTIFACTS_INDEX
from .artifacts import reconstruct
from .context import ExtrasContext, pool, read_json, text_of
from .paths import (
    CHAT_FILES,
    CHAT_INDEX,
    chat_folder,
    files_under,
    find_folders,
    org_path_of_chat,
    place_folder,
    remove_folder,
)
from .sandbox import fetch_sandbox, uses_sandbox
from .uploads import Wanted, file_refs, metadata, stored_path

CACHE_VERSION = 1


@dataclass
class ChatWork:
    """One changed chat between the local pass and the network pass."""

    stored: StoredChat
    org_path: str
    folder: str
    record: dict[str, Any]
    refs: list[Mapping[str, Any]]
    needs_sandbox: bool
    index: dict[str, Any] | None
    has_artifacts: bool
    failed: bool = False
    sandbox: dict[str, Any] | None = field(default=None)


@dataclass
class DoneCache:
    path: Path
    chats: dict[str, list[Any]]

    @classmethod
    def load(cls, root: Path, account_uuid: str) -> DoneCache:
        path = root / ".git" / "claude-backup" / f"extras-{account_uuid}.json"
        raw = read_json(path)
        chats = raw.get("chats") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or raw.get("version") != CACHE_VERSION:
            chats = None
        return cls(path, chats if isinstance(chats, dict) else {})

    def done(self, uuid: str, key: list[Any], files: bool) -> bool:
        have = self.chats.get(uuid)
        if not isinstance(have, list) or len(have) != 4 or have[:3] != key:
            return False
        return bool(have[3]) or not files

    def save(self, live: set[str]) -> None:
        chats = {uuid: key for uuid, key in self.chats.items() if uuid in live}
        data = json.dumps({"version": CACHE_VERSION, "chats": chats}, separators=(",", ":"))
        write_atomic(self.path, data.encode("utf-8"))  # compact: the C encoder, 10,000 chats


def _record(chat: StoredChat, uuid: str) -> dict[str, Any]:
    rec = chat.record
    return {"uuid": uuid, "name": rec.name, "updated_at": rec.updated_at, "leaf": rec.leaf}


class LocalPass:
    """The local pass over changed chats: place their folders, rebuild their artifacts, collect
    their uploads. The sync hands over each chat as it stores it (`chat`), so this work overlaps
    the requests for the next chats instead of leaving the connections idle after them;
    `complete` then does the chats not handed over (left by an interrupted run, say) and
    removes the folders of chats no longer stored."""

    def __init__(self, root: Path, account_uuid: str, files: bool) -> None:
        self.root = root
        self.files = files
        self.cache = DoneCache.load(root, account_uuid)
        self.artifacts = 0  # artifact files written
        self._folders: dict[str, dict[str, str]] = {}  # org path -> chat uuid -> folder name
        self._work: dict[str, ChatWork] = {}

    def chat(self, uuid: str, chat: StoredChat, data: Any = None) -> None:
        """Do one chat, unless it is done already (`data`: its JSON if at hand)."""
        record = _record(chat, uuid)
        key = [record["name"], record["updated_at"], record["leaf"]]
        if uuid in self._work or self.cache.done(uuid, key, self.files):
            return
        org_path = org_path_of_chat(chat.path)
        folder = chat_folder(org_path, chat.record.name, uuid)
        found = self._found(org_path)
        old = found.get(uuid)
        place_folder(self.root, f"{org_path}/{CHAT_FILES}/{old}" if old else None, folder)
        found[uuid] = folder.rsplit("/", 1)[-1]
        if data is None:
            data = read_json(self.root / chat.path)
        if not isinstance(data, dict):
            return  # unreadable: the sync fetches it again
        artifacts = reconstruct(data)
        self.artifacts += _write_artifacts(self.root, folder, artifacts)
        index = read_json(self.root / folder / CHAT_INDEX)
        sandbox_done = (index or {}).get("sandbox", {}) if isinstance(index, dict) else {}
        needs_sandbox = (
            self.files
            and uses_sandbox(data)
            and (not isinstance(sandbox_done, dict) or sandbox_done.get("fetched_for") != record)
        )
        self._work[uuid] = ChatWork(
            chat,
            org_path,
            folder,
            record,
            file_refs(data),
            needs_sandbox,
            index if isinstance(index, dict) else None,
            bool(artifacts),
        )

    def complete(self, chats: Mapping[str, StoredChat]) -> list[ChatWork]:
        """The chats not handed over, and the folders of chats gone; then all the work."""
        for chat in chats.values():
            self._found(org_path_of_chat(chat.path))
        for org_path, found in self._folders.items():
            for uuid, name in sorted(found.items()):
                if uuid not in chats:  # pruned: its folder goes too (history keeps it)
                    remove_folder(self.root, f"{org_path}/{CHAT_FILES}/{name}")
        for uuid, chat in sorted(chats.items()):
            self.chat(uuid, chat)
        return [self._work[uuid] for uuid in sorted(self._work) if uuid in chats]

    def _found(self, org_path: str) -> dict[str, str]:
        if org_path not in self._folders:
            self._folders[org_path] = find_folders(self.root / org_path / CHAT_FILES)
        return self._folders[org_path]


def _write_artifacts(root: Path, folder: str, files: Mapping[str, bytes]) -> int:
    """Make `<folder>/artifacts/` hold exactly `files`; returns how many artifact files changed."""
    changed = 0
    for rel, data in files.items():
        if write_atomic(root / folder / rel, data) and rel != ARTIFACTS_INDEX:
            changed += 1
    wanted = {f"{folder}/{rel}" for rel in files}
    for stale in sorted(files_under(root, f"{folder}/{ARTIFACTS}") - wanted):
        move(root, stale, None)
    return changed


def wanted_uploads(work: list[ChatWork]) -> list[Wanted]:
    return [
        Wanted(item.stored.org_uuid, item.org_path, ref, item.stored.record.uuid, True)
        for item in work
        for ref in item.refs
    ]


async def finish(ctx: ExtrasContext, work: list[ChatWork], cache: DoneCache) -> None:
    """The network pass (sandboxes), then each chat's index.json, then the cache."""

    async def sandbox(item: ChatWork) -> None:
        previous = item.index.get("sandbox") if item.index else None
        item.sandbox = await fetch_sandbox(
            ctx,
            item.stored.org_uuid,
            item.record["uuid"],
            item.folder,
            previous if isinstance(previous, Mapping) else None,
            item.record,
        )
        item.failed = item.sandbox is None

    await pool([w for w in work if w.needs_sandbox], sandbox, ctx.workers)
    for item in work:
        failures = len(ctx.failures)
        _write_index(ctx, item)
        uploads_ok = all(
            metadata(ctx.root, item.org_path, str(ref.get("file_uuid"))) is not None
            for ref in item.refs
        )
        if (
            not item.failed
            and len(ctx.failures) == failures
            and (uploads_ok or not ctx.settings.files)
        ):
            key = [item.record["name"], item.record["updated_at"], item.record["leaf"]]
            cache.chats[item.record["uuid"]] = [*key, ctx.settings.files]
    cache.save(set(ctx.chats))


def _write_index(ctx: ExtrasContext, item: ChatWork) -> None:
    index: dict[str, Any] = {"chat": item.record}
    if item.refs:
        index["uploads"] = [_upload_link(ctx.root, item, ref) for ref in item.refs]
    sandbox = item.sandbox or (item.index or {}).get("sandbox")
    if sandbox:
        index["sandbox"] = sandbox
    path = ctx.root / item.folder / CHAT_INDEX
    if len(index) > 1:
        write_atomic(path, json_bytes(index))
    elif not item.has_artifacts:
        move(ctx.root, f"{item.folder}/{CHAT_INDEX}", None)
    remove_empty_parents(ctx.root, ctx.root / item.folder)


def _upload_link(root: Path, item: ChatWork, ref: Mapping[str, Any]) -> dict[str, Any]:
    uuid = str(ref.get("file_uuid"))
    stored = stored_path(root, item.org_path, uuid)
    meta = metadata(root, item.org_path, uuid)
    link = os.path.relpath(stored, item.folder).replace(os.sep, "/") if stored else None
    return {
        "file_uuid": uuid,
        "file_name": text_of(ref.get("file_name")),
        "file_kind": ref.get("file_kind"),
        "file": link,
        "missing": bool(meta and meta.get("missing")),
    }
