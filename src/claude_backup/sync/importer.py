"""Import Claude.ai's official data export (claude-api.md §5) into the archive, as one commit.

Both layouts are read: the older single zip (`conversations.json`, `projects.json`,
`users.json`, `memories.json`) and the newer split one (`conversations-000.zip`,
`light_metadata-000.zip`, `projects-000.zip` with `projects/<uuid>.json`, ...), given as the
zips themselves, a zip or folder holding them, or an unpacked folder.

Exports carry no organization, so an account's imported chats go to a folder of their own,
`<email>-<account uuid>/Imported export-<account uuid>/chats/`, in the same layout as synced
chats. A chat already in the archive from the API is never touched (that copy is richer); an
earlier import of the same chat is updated when the export has a newer version. Imported chat
files hold the export's JSON as it is. They lack `current_leaf_message_uuid`, so when a later
sync lists the same chat it sees a difference, fetches the API's copy into the organization's
folder and removes the imported one.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_backup.archive.files import archive_error, move, remove_empty_parents
from claude_backup.archive.repository import Archive
from claude_backup.errors import UsageError
from claude_backup.model.canonical import json_bytes
from claude_backup.model.changes import CommitStep
from claude_backup.model.layout import (
    ARTIFACTS,
    CHAT_FILES,
    MARKER,
    MEMORY_FILES,
    ORG_FILE,
    account_dir,
    chat_path,
)
from claude_backup.model.messages import message
from claude_backup.model.naming import entry_name, folder_name, is_uuid, safe_relative, uuid_of
from claude_backup.model.timestamps import api_time
from claude_backup.read.source import DiskSnapshot
from claude_backup.sync.commits import plan_commits
from claude_backup.sync.extras.artifacts import artifact_ids, reconstruct
from claude_backup.sync.extras.paths import chat_folder, files_under, find_folders, place_folder
from claude_backup.text import one_line

IMPORTED_ORG = "Imported export"
PROJECTS = "projects"
MEMORY_FILE = "memory.json"
MAX_NESTING = 2
_PROJECT_RE = re.compile(r"(^|/)projects/[^/]+\.json$")
_MEMORY_RE = re.compile(r"(^|/)memories/[^/]+\.json$")


@dataclass
class ExportData:
    users: list[dict[str, Any]] = field(default_factory=list)
    conversations: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    memories: list[dict[str, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # which kinds of file were found


@dataclass
class ImportReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # already in the archive from the API
    skipped: list[str] = field(default_factory=list)
    artifacts: int = 0  # artifacts of imported chats written or changed
    commit: str | None = None

    @property
    def chats(self) -> int:
        """Chats of the export that the archive holds after the import."""
        return self.new + self.updated + self.unchanged + self.kept


def read_export(paths: Sequence[Path]) -> ExportData:
    data = ExportData()
    for path in paths:
        for name, raw in _entries(path):
            _collect(data, name, raw, path)
    if "conversations" not in data.seen:
        shown = ", ".join(str(p) for p in paths)
        raise UsageError(
            f"no conversations.json in {shown}: is this Claude.ai's data export "
            "(Settings → Privacy → Export data)?"
        )
    return data


def _entries(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of the JSON files in a zip, a folder or a single file; nested zips too."""
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            if file.is_file():
                yield from _file_entries(file.relative_to(path).as_posix(), file)
        return
    if not path.is_file():
        raise UsageError(f"{path} does not exist")
    yield from _file_entries(path.name, path)


def _file_entries(name: str, file: Path) -> Iterator[tuple[str, bytes]]:
    if zipfile.is_zipfile(file):
        try:
            with zipfile.ZipFile(file) as archive:
                yield from _zip_entries(archive, 0)
        except (zipfile.BadZipFile, OSError) as exc:
            raise UsageError(f"{file} is not a readable zip file: {exc}") from exc
    elif name.endswith(".json"):
        yield name, _read(file)


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from exc


def _zip_entries(archive: zipfile.ZipFile, depth: int) -> Iterator[tuple[str, bytes]]:
    for info in archive.infolist():
        if info.is_dir():
            continue
        if info.filename.endswith(".zip") and depth < MAX_NESTING:
            with zipfile.ZipFile(io.BytesIO(archive.read(info))) as inner:
                yield from _zip_entries(inner, depth + 1)
        elif info.filename.endswith(".json"):
            yield info.filename, archive.read(info)


def _collect(data: ExportData, name: str, raw: bytes, source: Path) -> None:
    base = name.rsplit("/", 1)[-1]
    kind = (
        base[: -len(".json")]
        if base in ("users.json", "conversations.json", "projects.json", "memories.json")
        else "project"
        if _PROJECT_RE.search(name)
        else "memory"
        if _MEMORY_RE.search(name)
        else None
    )
    if kind is None:
        return
    data.seen.add(kind)
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise UsageError(f"{name} in {source} is not valid JSON: {exc}") from exc
    listed = _unwrap(value, kind, name, source)
    objects = [v for v in listed if isinstance(v, dict)]
    target = {
        "users": data.users,
        "conversations": data.conversations,
        "projects": data.projects,
        "project": data.projects,
        "memories": data.memories,
        "memory": data.memories,
    }[kind]
    target.extend(objects)


def _unwrap(value: Any, kind: str, name: str, source: Path) -> list[Any]:
    """The items of an export file. Claude.ai writes a list (a single object for the split
    layout's per-item files); other tools wrap the list as `{"conversations": [...]}`, which is
    read when what it holds are Claude.ai chats, and refused otherwise."""
    if isinstance(value, list):
        return value
    if kind != "conversations" or not isinstance(value, dict) or "chat_messages" in value:
        return [value]
    wrapped = [v for v in value.values() if isinstance(v, list)]
    chats = [v for items in wrapped for v in items if isinstance(v, dict) and "uuid" in v]
    if len(wrapped) == 1 and chats and all("chat_messages" in c for c in chats):
        return wrapped[0]
    keys = ", ".join(sorted(str(k) for k in value)[:5]) or "nothing"
    raise UsageError(
        f"{name} in {source} is not Claude.ai's list of chats (it is an object holding "
        f"{keys}): import Claude.ai's own export (Settings → Privacy → Export data)"
    )


class Importer:
    """Writes an export's conversations into the archive's layout, then commits them."""

    def __init__(
        self, archive: Archive, export: ExportData, report: ImportReport, owner: str | None
    ) -> None:
        self.archive = archive
        self.root = archive.root
        self.export = export
        self.report = report
        self.users = users_of(export)
        self.default = owner  # the export's account, when its items do not say whose they are
        self.prefixes: set[str] = set()  # folders whose every change is the import's
        self.written: set[str] = set()
        self.folders: dict[str, str] = {}  # account uuid -> "<account dir>/<imported org dir>"
        self.described: set[str] = set()  # folders whose organization.json is written

    def run(self, source: str) -> None:
        existing = {f.uuid: f for f in DiskSnapshot(self.root).chat_files()}
        for chat in self.export.conversations:
            self._chat(chat, existing)
        for project in self.export.projects:
            self._project(project)
        for memory in self.export.memories:
            owner = self._owner(memory.get("account_uuid"))
            if owner is not None:
                self._write(f"{self._folder(owner)}/{MEMORY_FILE}", memory)
                self._memory_files(memory, self._folder(owner))
        self._commit(source)

    def _memory_files(self, memory: dict[str, Any], folder: str) -> None:
        """The per-file ("melange") memory the web API does not serve: each of the export's
        `memory_files` as a file under `memory-files/`, at its own (made safe) path."""
        files = memory.get("memory_files")
        for item in files if isinstance(files, list) else []:
            content = item.get("content") if isinstance(item, dict) else None
            path = item.get("path") if isinstance(item, dict) else None
            parts = safe_relative(path.lstrip("/")) if isinstance(path, str) else None
            if not isinstance(content, str) or parts is None:
                self.report.skipped.append(f"a memory file with no usable path ({path!r})")
                continue
            rel = f"{folder}/{MEMORY_FILES}/{'/'.join(parts)}"
            self.archive.write_file(self.root / rel, content.encode("utf-8", "replace"))
            self.written.add(rel)

    def _owner(self, uuid: object) -> str | None:
        """The account an item belongs to: its own uuid if given, else the export's account."""
        if is_uuid(uuid):
            assert isinstance(uuid, str)
            return uuid.lower()
        return self.default

    def _folder(self, account_uuid: str) -> str:
        if account_uuid not in self.folders:
            account = _existing(self.root, account_uuid) or account_dir(
                self.users.get(account_uuid, {"uuid": account_uuid})
            )
            org = _existing(self.root / account, account_uuid) or folder_name(
                IMPORTED_ORG, account_uuid
            )
            self.folders[account_uuid] = f"{account}/{org}"
        return self.folders[account_uuid]

    def _chat(self, chat: dict[str, Any], existing: Mapping[str, Any]) -> None:
        uuid = chat.get("uuid")
        if not is_uuid(uuid):
            self.report.skipped.append(f"a conversation without a valid uuid ({uuid!r})")
            return
        assert isinstance(uuid, str)
        uuid = uuid.lower()
        account = chat.get("account")
        owner = self._owner(account.get("uuid") if isinstance(account, dict) else None)
        if owner is None:
            self.report.skipped.append(f"chat {uuid}: the export does not say whose it is")
            return
        target = chat_path(self._folder(owner), chat.get("name"), uuid)
        stored = existing.get(uuid)
        if stored is not None and stored.location.org_uuid != owner:
            self.report.kept += 1  # backed up from the API: richer than the export
            return
        if stored is not None:
            old = _load(self.root / stored.path)
            if not _newer(chat, old):
                self.report.unchanged += 1
                self._artifacts(self._folder(owner), uuid, old)
                return
            if stored.path != target:
                move(self.root, stored.path, None)
                self.written.add(stored.path)
            self.report.updated += 1
        else:
            self.report.new += 1
        self._write(target, chat)
        self._artifacts(self._folder(owner), uuid, chat)

    def _artifacts(self, org_path: str, uuid: str, chat: Mapping[str, Any]) -> None:
        """The chat's artifact files, rebuilt as a sync rebuilds them (extras/artifacts.py),
        in the chat's folder beside `chats/`; files of an earlier import that are no longer
        made are removed, and a folder named after an old title is renamed."""
        files = reconstruct(chat)
        old = find_folders(self.root / org_path / CHAT_FILES).get(uuid)
        folder = chat_folder(org_path, chat.get("name"), uuid)
        if old is not None:
            place_folder(self.root, f"{org_path}/{CHAT_FILES}/{old}", folder)
            self.prefixes.add(f"{org_path}/{CHAT_FILES}/{old}/")
        self.prefixes.add(f"{folder}/")
        owners = artifact_ids(files)
        changed = set()
        for rel, data in files.items():
            if self.archive.write_file(self.root / folder / rel, data) is not None:
                changed.add(owners.get(rel))
        stale = files_under(self.root, f"{folder}/{ARTIFACTS}") - {f"{folder}/{r}" for r in files}
        for path in sorted(stale):
            move(self.root, path, None)
        self.report.artifacts += len(changed - {None})  # artifacts written or changed
        remove_empty_parents(self.root, self.root / folder)

    def _project(self, project: dict[str, Any]) -> None:
        uuid = project.get("uuid")
        creator = project.get("creator")
        made_by = creator.get("uuid") if isinstance(creator, dict) else None
        # A project's creator may be another member of a shared organization: the project
        # then belongs to the export's account, not to a folder of someone not in it.
        known = isinstance(made_by, str) and made_by.lower() in self.users
        owner = made_by.lower() if known and isinstance(made_by, str) else self.default
        if not is_uuid(uuid) or owner is None:
            self.report.skipped.append(f"project {one_line(project.get('name'))!r}: no owner")
            return
        assert isinstance(uuid, str)
        name = entry_name(project.get("name"), uuid.lower(), suffix=".json")
        self._write(f"{self._folder(owner)}/{PROJECTS}/{name}", project)

    def _write(self, rel: str, value: Any) -> None:
        folder = "/".join(rel.split("/")[:2])
        if folder not in self.described:
            self.described.add(folder)
            org: dict[str, Any] = {
                "uuid": uuid_of(folder),
                "name": IMPORTED_ORG,
                "capabilities": [],
                "source": "claude.ai data export",
            }
            self._write(f"{folder}/{ORG_FILE}", org)
        self.archive.write_file(self.root / rel, json_bytes(value))
        self.written.add(rel)

    def _commit(self, source: str) -> None:
        try:
            mine = self.written | {MARKER}  # a new archive's marker goes in the first commit
            prefixes = tuple(self.prefixes)
            changes = [
                c for c in self.archive.changes() if c.path in mine or c.path.startswith(prefixes)
            ]
            if not changes:
                return
            steps, summary = plan_commits(changes, self.archive.read_blob)
            head, _, rest = message(summary, "Import").partition("\n\n")
            note = f"From Claude.ai's data export {one_line(source, 200)}."
            last = CommitStep(steps[-1].entries, f"{head}\n\n{note}\n{rest}")
            commit = self.archive.commit([*steps[:-1], last], author=self._author())
        except OSError as exc:
            raise archive_error(exc, self.root / ".git") from exc
        self.report.commit = commit.decode()

    def _author(self) -> str:
        users = [self.users[u] for u in self.folders if u in self.users]
        if len(users) != 1:
            return "claude-backup import <claude-backup@localhost>"
        email = one_line(users[0].get("email_address"), 200).replace("<", "").replace(">", "")
        name = one_line(users[0].get("full_name") or email, 200).replace("<", "").replace(">", "")
        return f"{name or 'claude.ai user'} <{email or 'unknown'}>"


def _existing(parent: Path, uuid: str) -> str | None:
    """The name of a folder in `parent` ending in `uuid` (it may have been named otherwise)."""
    try:
        with os.scandir(parent) as entries:
            for entry in entries:
                if entry.is_dir() and entry.name != ".git" and uuid_of(entry.name) == uuid:
                    return entry.name
    except OSError:
        return None
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _newer(chat: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Whether the export's chat should replace an earlier import of it: it differs, and it
    is newer (or as new with more messages)."""
    if json_bytes(chat) == json_bytes(old):
        return False
    new_time, old_time = api_time(chat.get("updated_at")), api_time(old.get("updated_at"))
    if new_time is None or old_time is None or new_time != old_time:
        return new_time is None or old_time is None or new_time > old_time
    return len(chat.get("chat_messages") or []) > len(old.get("chat_messages") or [])


def users_of(export: ExportData) -> dict[str, dict[str, Any]]:
    return {u["uuid"].lower(): u for u in export.users if is_uuid(u.get("uuid"))}


def archive_accounts(root: Path) -> dict[str, str]:
    """account uuid -> folder name, for the account folders of an archive (none if new)."""
    found: dict[str, str] = {}
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                uuid = uuid_of(entry.name)
                if uuid is not None and entry.is_dir() and entry.name != ".git":
                    found[uuid] = entry.name
    except OSError:
        pass
    return found


def export_account(root: Path, export: ExportData, account: str | None) -> str | None:
    """The uuid of the account the export is from, for items that do not say: `account` (an
    email or uuid, looked up in users.json and the archive), else the export's only user,
    else the one account its chats name, else the archive's only account."""
    users = users_of(export)
    folders = archive_accounts(root)
    if account is not None:
        wanted = account.strip().lower()
        for uuid, user in users.items():
            if wanted in (uuid, str(user.get("email_address") or "").lower()):
                return uuid
        for uuid, name in folders.items():
            if wanted == uuid or name.lower() == f"{wanted}-{uuid}":
                return uuid
        if is_uuid(wanted):
            return wanted
        known = sorted(
            {str(u.get("email_address")) for u in users.values() if u.get("email_address")}
            | {name[: -len(uuid) - 1] for uuid, name in folders.items()}
        )
        raise UsageError(
            f"--account {account}: no such account in the export's users.json or the archive"
            + (f" (known: {', '.join(known)})" if known else "; give the account's uuid")
        )
    if len(users) == 1:
        return next(iter(users))
    named = {
        str(c["account"]["uuid"]).lower()
        for c in export.conversations
        if isinstance(c.get("account"), dict) and is_uuid(c["account"].get("uuid"))
    }
    if len(named) == 1:
        return named.pop()
    if len(folders) == 1 and not users:
        return next(iter(folders))
    return None


def _nothing_to_import(export: ExportData, owner: str | None, root: Path) -> str | None:
    """Why nothing in the export can be imported, or None if something can. Checked before
    the archive is opened, so a failed import leaves no archive and no commit behind."""
    chats = [c for c in export.conversations if is_uuid(c.get("uuid"))]
    if not chats and not export.projects and not export.memories:
        found = len(export.conversations)
        return "the export holds no chats, projects or memory to import" + (
            f" ({found} items without a chat uuid)" if found else ""
        )
    if owner is not None:
        return None

    def says(item: Mapping[str, Any], key: str) -> bool:
        value = item.get(key)
        return isinstance(value, dict) and is_uuid(value.get("uuid"))

    if any(says(c, "account") for c in chats):
        return None
    accounts = len(archive_accounts(root))
    where = f"the archive has {accounts} accounts" if accounts else "the archive has no account"
    return (
        f"none of the export's {len(chats)} chats says whose it is (no `account` in them, "
        f"no single user in users.json, and {where}): name the account with "
        "--account EMAIL or --account UUID"
    )


def import_export(root: Path, paths: Sequence[Path], account: str | None = None) -> ImportReport:
    export = read_export(paths)
    owner = export_account(root, export, account)
    reason = _nothing_to_import(export, owner, root)
    if reason is not None:
        raise UsageError(f"nothing imported: {reason}")
    archive = Archive.open(root)
    report = ImportReport()
    with archive.lock():
        Importer(archive, export, report, owner).run(", ".join(p.name for p in paths))
    if not report.chats and report.commit is None and report.skipped:
        raise UsageError(
            f"nothing imported: all {len(report.skipped)} items were skipped "
            f"({report.skipped[0]}{', …' if len(report.skipped) > 1 else ''})"
        )
    return report
