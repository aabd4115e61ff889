"""Each chat's own folder beside `chats/`: its artifacts, links to its uploads, its sandbox.

A chat is looked at again only when its name, `updated_at` or leaf changed since it was last
done, or its folder is no longer as it was left; that is remembered in
`.git/claude-backup/extras-<account uuid>.json` (only a cache: a fresh clone rebuilds the
derived files from the chat JSON and gets the same bytes). The folder is checked by the
names, sizes and times of its files, so whatever changed it since (`git reset --hard`, a
checkout, the user deleting a file) has the chat done again and its files restored. What
needs the network (the sandbox) is keyed on `index.json` in the tree instead, so a clone does
not ask again, and on the sandbox files it lists being there.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_backup.archive.files import git_dir, move, remove_empty_parents, write_atomic
from claude_backup.errors import ArchiveError
from claude_backup.model.canonical import json_bytes
from claude_backup.model.layout import ARTIFACTS, CHAT_FILES, CHAT_INDEX, SANDBOX
from claude_backup.model.records import StoredChat
from claude_backup.sync.extras.artifacts import artifact_ids, reconstruct
from claude_backup.sync.extras.context import ExtrasContext, read_json, reported
from claude_backup.sync.extras.paths import (
    chat_folder,
    files_under,
    find_folders,
    org_path_of_chat,
    place_folder,
    remove_folder,
)
from claude_backup.sync.extras.sandbox import fetch_sandbox, uses_sandbox
from claude_backup.sync.extras.uploads import Wanted, file_refs, link

CACHE_VERSION = 2


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
    done: bool = False  # its network pass left nothing to retry


@dataclass
class DoneCache:
    path: Path
    chats: dict[str, list[Any]]

    @classmethod
    def load(cls, root: Path, account_uuid: str) -> DoneCache:
        path = git_dir(root) / "claude-backup" / f"extras-{account_uuid}.json"
        raw = read_json(path)
        chats = raw.get("chats") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or raw.get("version") != CACHE_VERSION:
            chats = None
        return cls(path, chats if isinstance(chats, dict) else {})

    def done(self, uuid: str, key: list[Any], files: bool, root: Path, org_path: str) -> bool:
        """Was the chat done as it is now (same name, so the same folder: no need to name it
        again), and is its folder still as it was left then?"""
        have = self.chats.get(uuid)
        if not isinstance(have, list) or len(have) != 6 or have[:3] != key:
            return False
        folder = have[5]
        if not (isinstance(folder, str) and folder.startswith(f"{org_path}/{CHAT_FILES}/")):
            return False  # its organization's folder was renamed
        return (bool(have[3]) or not files) and have[4] == folder_print(root / folder)

    def save(self, live: set[str]) -> None:
        chats = {uuid: key for uuid, key in self.chats.items() if uuid in live}
        data = json.dumps({"version": CACHE_VERSION, "chats": chats}, separators=(",", ":"))
        with contextlib.suppress(OSError, ArchiveError):  # only a cache: never fail a sync over it
            write_atomic(self.path, data.encode("utf-8"))  # compact: the C encoder


def folder_print(folder: Path) -> str:
    """What a chat's folder holds, in short: each file's path, size and modification time (a
    file rewritten, added or removed changes it); "" for no folder."""
    found: list[str] = []
    pending = [(str(folder), "")]
    while pending:
        path, prefix = pending.pop()
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, f"{prefix}{entry.name}/"))
                    else:
                        st = entry.stat(follow_symlinks=False)
                        found.append(f"{prefix}{entry.name}\0{st.st_size}\0{st.st_mtime_ns}")
        except (FileNotFoundError, NotADirectoryError):
            continue
    if not found:
        return ""
    found.sort()
    return hashlib.blake2b(
        "\n".join(found).encode("utf-8", "surrogateescape"), digest_size=12
    ).hexdigest()


def _record(chat: StoredChat, uuid: str) -> dict[str, Any]:
    rec = chat.record
    return {"uuid": uuid, "name": rec.name, "updated_at": rec.updated_at, "leaf": rec.leaf}


class LocalPass:
    """The local pass over changed chats: place their folders, rebuild their artifacts, collect
    their uploads. The sync hands over each chat as it stores it (`chat`, from the thread that
    stores it), so this work overlaps the requests for the next chats instead of leaving the
    connections idle after them; `complete` then does the chats not handed over (left by an
    interrupted run, say) and removes the folders of chats no longer stored."""

    def __init__(
        self,
        root: Path,
        account_uuid: str,
        files: bool,
        write: Callable[[Path, bytes], bytes | None],
        failures: list[str],
    ) -> None:
        self.root = root
        self.failures = failures
        self.files = files
        self.write = write  # `Archive.write_file`
        self.account_uuid = account_uuid
        self.cache = DoneCache.load(root, account_uuid)
        self.artifacts = 0  # artifacts written or changed
        self._folders: dict[str, dict[str, str]] = {}  # org path -> chat uuid -> folder name
        self._work: dict[str, ChatWork] = {}
        self._lock = threading.Lock()  # for the three above: chats are handed over by threads

    def chat(self, uuid: str, chat: StoredChat, data: Any = None) -> ChatWork | None:
        """Do one chat, unless it is done already (`data`: its JSON if at hand). Returns the
        work left for its network pass, None if there is none (or its files cannot be stored:
        reported, and tried again next sync)."""
        with reported(self.failures, f"files of chat {uuid}"):
            return self._chat(uuid, chat, data)
        return None

    def _chat(self, uuid: str, chat: StoredChat, data: Any) -> ChatWork | None:
        record = _record(chat, uuid)
        key = [record["name"], record["updated_at"], record["leaf"]]
        org_path = org_path_of_chat(chat.path)
        if uuid in self._work or self.cache.done(uuid, key, self.files, self.root, org_path):
            return None
        folder = chat_folder(org_path, chat.record.name, uuid)
        with self._lock:
            if uuid in self._work:
                return None
            found = self._found(org_path)
            old = found.get(uuid)
            place_folder(self.root, f"{org_path}/{CHAT_FILES}/{old}" if old else None, folder)
            found[uuid] = folder.rsplit("/", 1)[-1]
        if data is None:
            data = read_json(self.root / chat.path)
        if not isinstance(data, dict):
            return None  # unreadable: the sync fetches it again
        artifacts = reconstruct(data)
        written = self._write_artifacts(folder, artifacts, fresh=old is None)
        index = read_json(self.root / folder / CHAT_INDEX)
        sandbox_done = (index or {}).get("sandbox", {}) if isinstance(index, dict) else {}
        needs_sandbox = (
            self.files
            and uses_sandbox(data)
            and (
                not isinstance(sandbox_done, dict)
                or sandbox_done.get("fetched_for") != record
                or _sandbox_file_lost(self.root / folder, sandbox_done)
            )
        )
        work = ChatWork(
            chat,
            org_path,
            folder,
            record,
            file_refs(data),
            needs_sandbox,
            index if isinstance(index, dict) else None,
            bool(artifacts),
        )
        with self._lock:
            self.artifacts += written
            self._work[uuid] = work
        return work

    def complete(self, chats: Mapping[str, StoredChat]) -> list[ChatWork]:
        """The chats not handed over, and the folders of chats gone; then all the work."""
        for chat in chats.values():
            self._found(org_path_of_chat(chat.path))
        for org_path in self._org_paths():  # also where no chat is left (an imported copy gone)
            self._found(org_path)
        for org_path, found in self._folders.items():
            for uuid, name in sorted(found.items()):
                stored = chats.get(uuid)
                # pruned, or now in another organization (an imported copy replaced by the
                # API's): what the sync put in its folder here goes too (history keeps it);
                # the user's files in it stay
                if stored is None or org_path_of_chat(stored.path) != org_path:
                    _remove_ours(self.root, f"{org_path}/{CHAT_FILES}/{name}")
                    del found[uuid]
        for uuid, chat in sorted(chats.items()):
            self.chat(uuid, chat)
        return [self._work[uuid] for uuid in sorted(self._work) if uuid in chats]

    def _org_paths(self) -> list[str]:
        """Every organization folder of this account (`chats` names those with chats only)."""
        account = find_folders(self.root).get(self.account_uuid)
        if account is None:
            return []
        return [f"{account}/{org}" for org in find_folders(self.root / account).values()]

    def _found(self, org_path: str) -> dict[str, str]:
        if org_path not in self._folders:
            self._folders[org_path] = find_folders(self.root / org_path / CHAT_FILES)
        return self._folders[org_path]

    def _write_artifacts(self, folder: str, files: Mapping[str, bytes], *, fresh: bool) -> int:
        """Make `<folder>/artifacts/` hold exactly `files`; returns how many artifacts changed
        (not files: an artifact is its current file and each of its versions). `fresh`: the
        folder was not there before this sync: nothing stale is in it."""
        owners = artifact_ids(files)
        changed: set[str] = set()
        for rel, data in files.items():
            if self.write(self.root / folder / rel, data) is not None and rel in owners:
                changed.add(owners[rel])
        if fresh:
            return len(changed)
        wanted = {f"{folder}/{rel}" for rel in files}
        for stale in sorted(files_under(self.root, f"{folder}/{ARTIFACTS}") - wanted):
            move(self.root, stale, None)
        return len(changed)


def _remove_ours(root: Path, folder: str) -> None:
    """Remove what the sync put in a chat's folder; files the user added there stay."""
    remove_folder(root, f"{folder}/{ARTIFACTS}")
    remove_folder(root, f"{folder}/{SANDBOX}")
    move(root, f"{folder}/{CHAT_INDEX}", None)
    remove_empty_parents(root, root / folder)


def _sandbox_file_lost(folder: Path, sandbox: Mapping[str, Any]) -> bool:
    """Is a sandbox file the index lists as stored gone from the folder?"""
    files = sandbox.get("files")
    for entry in files if isinstance(files, list) else []:
        if not isinstance(entry, Mapping) or entry.get("missing"):
            continue
        stored = entry.get("stored_as")
        if isinstance(stored, str) and stored and not (folder / stored).is_file():
            return True
    return False


def wanted_uploads(work: list[ChatWork]) -> list[Wanted]:
    return [
        Wanted(item.stored.org_uuid, item.org_path, ref, item.stored.record.uuid, True)
        for item in work
        for ref in item.refs
    ]


def needs_network(ctx: ExtrasContext, item: ChatWork) -> bool:
    """Whether a changed chat has uploads or a sandbox to fetch before its index is written."""
    return item.needs_sandbox or (ctx.settings.files and bool(item.refs))


def finish_locally(ctx: ExtrasContext, item: ChatWork) -> None:
    """Write the index of a chat with nothing to fetch (`needs_network` False), in the thread
    of its local pass: no task waits for it."""
    item.done = _write_index(ctx, item) or not ctx.settings.files


async def network_pass(ctx: ExtrasContext, item: ChatWork) -> None:
    """A changed chat's network pass once its uploads are stored: its sandbox, then its
    index.json. `item.done` then says whether nothing is left to retry."""
    if item.needs_sandbox:
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
    uploads_ok = await asyncio.to_thread(_write_index, ctx, item)
    item.done = not item.failed and (uploads_ok or not ctx.settings.files)


def remember_done(ctx: ExtrasContext, work: list[ChatWork], cache: DoneCache) -> None:
    """Note the chats whose extras are complete, so the next sync skips them."""
    for item in work:
        if item.done:
            key = [item.record["name"], item.record["updated_at"], item.record["leaf"]]
            left = folder_print(ctx.root / item.folder)
            cache.chats[item.record["uuid"]] = [*key, ctx.settings.files, left, item.folder]
    cache.save(set(ctx.chats))


def _write_index(ctx: ExtrasContext, item: ChatWork) -> bool:
    """Write the chat's index.json; whether every upload it uses is stored (or known gone)."""
    index: dict[str, Any] = {"chat": item.record}
    links = [link(ctx.root, item.org_path, item.folder, ref) for ref in item.refs]
    if links:
        index["uploads"] = [entry for entry, _ in links]
    sandbox = item.sandbox or (item.index or {}).get("sandbox")
    if sandbox:
        index["sandbox"] = sandbox
    path = ctx.root / item.folder / CHAT_INDEX
    if len(index) > 1:
        ctx.write(path, json_bytes(index))
    elif not item.has_artifacts:
        move(ctx.root, f"{item.folder}/{CHAT_INDEX}", None)
    remove_empty_parents(ctx.root, ctx.root / item.folder)
    return all(known for _, known in links)
