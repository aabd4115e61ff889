"""`claude-backup verify`: the archive proves itself, as `restic check` does.

Offline (reads only): the git data is whole (`git fsck`, every object of the history present);
every file of the last commit is in the folder; every chat file parses and is the chat its
name says; every upload a chat uses is stored, with the size and hash recorded, or recorded
missing with the reason; every artifact index names files that exist; every skill listed as
yours has its files. Online, also against claude.ai: every chat listed there is stored with the
same `updated_at`, the listing's count equals `count_all`, every project and skill is stored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_backup.archive.check import check_repository, committed_files
from claude_backup.client import ClaudeClient
from claude_backup.errors import ApiError
from claude_backup.model.layout import (
    ARTIFACTS_INDEX,
    CHAT_FILES,
    CHAT_INDEX,
    CHATS,
    DELETED,
    FILES,
    PROJECTS,
    SKILLS,
    SKILLS_JSON,
    is_users_skill,
)
from claude_backup.model.naming import is_uuid, uuid_of
from claude_backup.sync.extras.memory import unavailable
from claude_backup.sync.extras.paths import find_folders
from claude_backup.sync.extras.skills import skill_folder_name

CHUNK = 1 << 20


@dataclass(frozen=True)
class Problem:
    check: str  # git, file, chat, upload, artifacts, skill, online
    item: str  # what is missing or wrong: a path, a chat, a project
    detail: str

    def line(self) -> str:
        return f"{self.check}: {self.item}: {self.detail}"


@dataclass
class Verified:
    problems: list[Problem] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        self.checked[what] = self.checked.get(what, 0) + n

    def add(self, check: str, item: str, detail: str) -> None:
        self.problems.append(Problem(check, item, detail))

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": not self.problems,
            "checked": self.checked,
            "problems": [p.__dict__ for p in self.problems],
        }


def verify_offline(root: Path, *, use_git: bool = True) -> Verified:
    result = Verified()
    for problem in check_repository(root, use_git=use_git):
        result.add("git", problem.item, problem.detail)
    result.count("git repositories")
    committed = committed_files(root)
    if committed is not None:
        result.count("committed files", len(committed))
        for path in sorted(committed):
            if not os.path.lexists(root / path):
                result.add("file", path, "in the last commit but not in the folder")
    for org in _org_folders(root):
        _check_chats(root, org, result)
        _check_uploads(root, org, result)
        _check_artifacts(root, org, result)
        _check_skills(root, org, result)
    return result


def _org_folders(root: Path) -> Iterator[Path]:
    for account in _dirs(root):
        if uuid_of(account.name) is None:
            continue
        for org in _dirs(account):
            if uuid_of(org.name) is not None:
                yield org


def _dirs(path: Path) -> list[Path]:
    try:
        return sorted(Path(e.path) for e in os.scandir(path) if e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def _rel(root: Path, path: Path) -> str:
    return str(path.relative_to(root)).replace(os.sep, "/")


def _load(path: Path) -> tuple[Any, str | None]:
    try:
        return json.loads(path.read_bytes()), None
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    except ValueError as exc:
        return None, f"not valid JSON ({exc})"


def _check_chats(root: Path, org: Path, result: Verified) -> None:
    for kind in (CHATS, DELETED):
        try:
            names = sorted(e.name for e in os.scandir(org / kind) if e.name.endswith(".json"))
        except OSError:
            continue
        for name in names:
            path = org / kind / name
            result.count("chat files")
            data, error = _load(path)
            if error is not None:
                result.add("chat", _rel(root, path), error)
            elif not isinstance(data, dict):
                result.add("chat", _rel(root, path), "not a JSON object")
            elif data.get("uuid") != uuid_of(name):
                result.add(
                    "chat",
                    _rel(root, path),
                    f"holds chat {data.get('uuid')!r}, not {uuid_of(name)}",
                )


def _check_uploads(root: Path, org: Path, result: Verified) -> None:
    """Each upload a chat's index names, and each upload record of the organization."""
    for folder in _dirs(org / CHAT_FILES):
        index, error = _load(folder / CHAT_INDEX)
        if error == "missing":
            continue
        if error is not None or not isinstance(index, dict):
            result.add("upload", _rel(root, folder / CHAT_INDEX), error or "not a JSON object")
            continue
        for entry in index.get("uploads") or []:
            if not isinstance(entry, Mapping):
                continue
            result.count("uploads used by chats")
            _check_upload_entry(root, org, folder, entry, result)
    for meta_path in sorted((org / FILES).glob("*.json")) if (org / FILES).is_dir() else []:
        if not is_uuid(meta_path.stem):
            continue
        result.count("upload records")
        meta, error = _load(meta_path)
        if error is not None or not isinstance(meta, dict):
            result.add("upload", _rel(root, meta_path), error or "not a JSON object")
            continue
        _check_stored_upload(root, org, meta_path, meta, result)


def _check_upload_entry(
    root: Path, org: Path, folder: Path, entry: Mapping[str, Any], result: Verified
) -> None:
    uuid = str(entry.get("file_uuid"))
    name = f"{entry.get('file_name') or uuid} (used by {folder.name})"
    if entry.get("missing"):
        meta, _ = _load(org / FILES / f"{uuid}.json")
        if not isinstance(meta, dict) or not meta.get("missing") or not meta.get("note"):
            result.add("upload", name, "marked missing, but no record of why")
        return
    target = entry.get("file")
    if not isinstance(target, str) or not (folder / target).is_file():
        result.add("upload", name, f"not stored (expected {target})")


def _check_stored_upload(
    root: Path, org: Path, meta_path: Path, meta: Mapping[str, Any], result: Verified
) -> None:
    name = f"{meta.get('file_name') or meta_path.stem} ({_rel(root, meta_path)})"
    if meta.get("missing"):
        if not meta.get("note"):
            result.add("upload", name, "recorded missing without a reason")
        return
    stored = meta.get("stored_as")
    path = org / FILES / stored if isinstance(stored, str) else None
    if path is None or not path.is_file():
        result.add("upload", name, f"its file {stored} is not there")
        return
    size, digest = meta.get("size"), meta.get("sha256")
    if isinstance(size, int) and path.stat().st_size != size:
        result.add("upload", name, f"{path.stat().st_size} bytes, recorded {size}")
    elif isinstance(digest, str) and _sha256(path) != digest:
        result.add("upload", name, "its content does not match the recorded sha256")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_artifacts(root: Path, org: Path, result: Verified) -> None:
    for folder in _dirs(org / CHAT_FILES):
        path = folder / ARTIFACTS_INDEX
        index, error = _load(path)
        if error == "missing":
            continue
        result.count("artifact indexes")
        artifacts = index.get("artifacts") if isinstance(index, dict) else None
        if error is not None or not isinstance(artifacts, list):
            result.add("artifacts", _rel(root, path), error or "no artifacts list")
            continue
        for artifact in artifacts:
            if not isinstance(artifact, Mapping):
                continue
            files = [artifact.get("file")]
            files += [v.get("file") for v in artifact.get("versions") or [] if isinstance(v, dict)]
            for name in files:
                if isinstance(name, str) and not (folder / name).is_file():
                    what = f"{_rel(root, folder)}/{name}"
                    result.add("artifacts", what, f"named by artifact {artifact.get('id')!r}")


def _check_skills(root: Path, org: Path, result: Verified) -> None:
    listing, error = _load(org / SKILLS / SKILLS_JSON)
    skills = listing.get("skills") if isinstance(listing, dict) else None
    if error is not None or not isinstance(skills, list):
        return
    taken: set[str] = set()
    mine = [s for s in skills if isinstance(s, dict) and is_users_skill(s) and s.get("id")]
    for skill in sorted(mine, key=lambda s: (str(s.get("name") or ""), str(s.get("id")))):
        result.count("skills")
        folder = org / SKILLS / skill_folder_name(skill.get("name"), taken)
        if not folder.is_dir() or not any(folder.rglob("*")):
            result.add("skill", _rel(root, folder), "listed as yours, but no files are stored")


# -- online -------------------------------------------------------------------------------------


async def verify_online(root: Path, client: ClaudeClient, result: Verified) -> None:
    """Compare the archive with what claude.ai lists for this session key's account."""
    account = await client.account()
    account_uuid = str(account.get("uuid"))
    account_dir = next((d for d in _dirs(root) if uuid_of(d.name) == account_uuid), None)
    if account_dir is None:
        result.add(
            "online",
            f"account {account.get('email_address') or account_uuid}",
            "not in the archive",
        )
        return
    for org in _chat_orgs(account):
        org_uuid = str(org["uuid"])
        folder = next((d for d in _dirs(account_dir) if uuid_of(d.name) == org_uuid), None)
        label = f"organization {org.get('name') or org_uuid}"
        if folder is None:
            result.add("online", label, "not in the archive")
            continue
        await _online_chats(client, org_uuid, folder, label, result)
        await _online_projects(client, org_uuid, folder, label, result)
        await _online_skills(client, org_uuid, folder, label, result)


def _chat_orgs(account: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = []
    for membership in account.get("memberships") or []:
        org = membership.get("organization") if isinstance(membership, Mapping) else None
        ok = isinstance(org, Mapping) and is_uuid(org.get("uuid"))
        if ok and isinstance(org, Mapping) and "chat" in (org.get("capabilities") or []):
            found.append(org)
    return found


async def _online_chats(
    client: ClaudeClient, org_uuid: str, folder: Path, label: str, result: Verified
) -> None:
    listed = await client.list_chats(org_uuid)
    stored: dict[str, Path] = {}
    try:
        for entry in os.scandir(folder / CHATS):
            uuid = uuid_of(entry.name)
            if uuid is not None:
                stored[uuid] = Path(entry.path)
    except OSError:
        pass
    for item in listed:
        uuid = str(item.get("uuid"))
        result.count("chats listed on claude.ai")
        name = f"chat {uuid} ({item.get('name') or 'untitled'})"
        path = stored.get(uuid)
        if path is None:
            result.add("online", name, "on claude.ai but not in the archive")
            continue
        data, error = _load(path)
        have = data.get("updated_at") if isinstance(data, dict) else error
        if have != item.get("updated_at"):
            result.add(
                "online",
                name,
                f"claude.ai has updated_at {item.get('updated_at')}, the archive {have}",
            )
    try:
        count = await client.count_chats(org_uuid)
    except ApiError as exc:
        if not unavailable(exc):
            raise
        return
    if count is not None and count != len(listed):
        result.add(
            "online", label, f"count_all says {count} chats, the listing shows {len(listed)}"
        )


async def _optional(client: ClaudeClient, path: str) -> Any:
    try:
        return await client.get_json(path, gone_on_404=True)
    except ApiError as exc:
        if unavailable(exc):
            return None
        raise


async def _online_projects(
    client: ClaudeClient, org_uuid: str, folder: Path, label: str, result: Verified
) -> None:
    projects = await _optional(client, f"/organizations/{org_uuid}/projects")
    stored = find_folders(folder / PROJECTS)
    for project in projects if isinstance(projects, list) else []:
        if not isinstance(project, Mapping) or not is_uuid(project.get("uuid")):
            continue
        result.count("projects listed on claude.ai")
        if str(project["uuid"]) not in stored:
            name = f"project {project.get('name') or project['uuid']} ({label})"
            result.add("online", name, "on claude.ai but not in the archive")


async def _online_skills(
    client: ClaudeClient, org_uuid: str, folder: Path, label: str, result: Verified
) -> None:
    listing = await _optional(client, f"/organizations/{org_uuid}/skills/list-skills")
    skills = listing.get("skills") if isinstance(listing, Mapping) else None
    taken: set[str] = set()
    mine = [s for s in skills or [] if isinstance(s, Mapping) and is_users_skill(s) and s.get("id")]
    for skill in sorted(mine, key=lambda s: (str(s.get("name") or ""), str(s.get("id")))):
        result.count("skills listed on claude.ai")
        target = folder / SKILLS / skill_folder_name(skill.get("name"), taken)
        if not target.is_dir() or not any(target.rglob("*")):
            name = f"skill {skill.get('name') or skill.get('id')} ({label})"
            result.add("online", name, "on claude.ai but not in the archive")
