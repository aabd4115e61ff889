"""What `claude-backup status` reports about an archive. Reads only; no network."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from claude_backup.archive.remote import list_remotes, redact
from claude_backup.archive.repository import Archive
from claude_backup.archive.runlog import last_pushes, last_run, running_sync
from claude_backup.model.layout import CHATS, DELETED, ORG_FILE
from claude_backup.model.naming import uuid_of


@dataclass
class OrgCount:
    account: str
    organization: str
    chats: int
    deleted: int


@dataclass
class ArchiveStatus:
    path: str
    last_sync: dict[str, Any] | None
    last_commit: dict[str, Any] | None
    running: dict[str, Any] | None = None
    organizations: list[OrgCount] = field(default_factory=list)
    files_bytes: int = 0
    git_bytes: int = 0
    remotes: list[dict[str, Any]] = field(default_factory=list)


def archive_status(archive: Archive) -> ArchiveStatus:
    root = archive.root
    commit = archive.last_commit()
    status = ArchiveStatus(
        path=str(root),
        last_sync=last_run(root),
        last_commit=None
        if commit is None
        else {
            "time": _iso(commit[0]),
            "message": commit[1],
            "sha": _hex(archive.head()),
        },
    )
    status.running = running_sync(root)
    status.organizations = count_chats(root)
    status.files_bytes = _size(root, skip_git=True)
    status.git_bytes = _size(root / ".git", skip_git=False)
    head = archive.head()
    pushes = last_pushes(root)
    for name, url in sorted(list_remotes(archive.repo).items()):
        state = remote_state(archive, name, head, pushes.get(name))
        status.remotes.append({"name": name, "url": redact(url), "state": state})
    return status


def remote_state(
    archive: Archive, name: str, head: bytes | None, push: dict[str, Any] | None
) -> str:
    """Where the remote stands, as far as this archive knows (no network): from the
    remote-tracking branch (set by our pushes and by `git fetch`) and the last push's outcome."""
    seen = archive.remote_head(name)
    failed = push.get("error") if isinstance(push, dict) else None
    if failed:
        return f"the last push failed ({push.get('at') if push else ''}): {failed}"
    if seen is None:
        return "never pushed from here"
    if seen == head:
        return "up to date"
    if head is None:
        return "the remote has commits; this archive has none"
    if archive.is_ancestor(seen, head):
        return "behind this archive: run `claude-backup push` to update it"
    if archive.is_ancestor(head, seen):
        return "ahead of this archive: it has commits pushed from elsewhere"
    return (
        "diverged: the remote has commits this archive lacks; push refuses to overwrite them "
        "(see `claude-backup push --help`)"
    )


def count_chats(root: Path) -> list[OrgCount]:
    counts: list[OrgCount] = []
    for account_dir in sorted(p for p in root.iterdir() if p.is_dir() and uuid_of(p.name)):
        for org_dir in sorted(p for p in account_dir.iterdir() if p.is_dir() and uuid_of(p.name)):
            counts.append(
                OrgCount(
                    account=account_dir.name[:-37] or account_dir.name,
                    organization=_org_name(org_dir),
                    chats=_count_json(org_dir / CHATS),
                    deleted=_count_json(org_dir / DELETED),
                )
            )
    return counts


def _org_name(org_dir: Path) -> str:
    try:
        name = json.loads((org_dir / ORG_FILE).read_bytes()).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and name else org_dir.name


def _count_json(folder: Path) -> int:
    try:
        return sum(
            1 for e in os.scandir(folder) if e.name.endswith(".json") and not e.name.startswith(".")
        )
    except OSError:
        return 0


def _size(folder: Path, *, skip_git: bool) -> int:
    total = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        if skip_git and ".git" in dirnames:
            dirnames.remove(".git")
        for name in filenames:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _hex(sha: bytes | None) -> str:
    return sha.decode() if sha else ""


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")
