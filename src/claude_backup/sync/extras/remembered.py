"""What the extras remember between syncs, outside the archive's tree (in
`.git/claude-backup/extras.json`): hints that save requests, never data. Lost, they cost one
fuller sync."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from claude_backup.archive.files import git_dir, write_atomic
from claude_backup.errors import ArchiveError

STATE_FILE = "extras.json"


class ExtrasState:
    """What the extras remember between syncs, outside the tree: when each organization's
    projects were last read in full, and a `count_all` gap a second listing could not close."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path  # None: remembered for this run only (tests)
        try:
            raw = json.loads(path.read_bytes()) if path is not None else {}
        except (OSError, ValueError):
            raw = {}
        self.data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        self.dirty = False

    @classmethod
    def of_archive(cls, root: Path) -> ExtrasState:
        return cls(git_dir(root) / "claude-backup" / STATE_FILE)

    def _table(self, name: str) -> dict[str, Any]:
        return _dict_at(self.data, name)

    def last_full_pass(self, org_uuid: str) -> float:
        value = self._table("projects_full_pass").get(org_uuid)
        return float(value) if isinstance(value, (int, float)) else 0.0

    def full_pass_done(self, org_uuid: str, when: float | None = None) -> None:
        self._table("projects_full_pass")[org_uuid] = time.time() if when is None else when
        self.dirty = True

    def known_gap(self, org_uuid: str) -> int:
        value = self._table("count_gap").get(org_uuid)
        return value if isinstance(value, int) else 0

    def set_gap(self, org_uuid: str, gap: int) -> None:
        if self.known_gap(org_uuid) != gap:
            self._table("count_gap")[org_uuid] = gap
            self.dirty = True

    def skills_done(self, org_uuid: str) -> dict[str, str]:
        """skill folder name -> the list entry (id@updated_at) its files came from."""
        return _dict_at(self._table("skills"), org_uuid)

    def sessions_done(self, org_uuid: str) -> dict[str, str]:
        """Claude Code session id -> its `updated_at` when its events were last read."""
        return _dict_at(self._table("code_sessions"), org_uuid)

    def save(self) -> None:
        if not self.dirty or self.path is None:
            return
        try:
            write_atomic(self.path, json.dumps(self.data, indent=1, sort_keys=True).encode())
        except (OSError, ArchiveError):
            return  # only a hint for the next sync: never fail a sync over it
        self.dirty = False


def _dict_at(container: dict[str, Any], key: str) -> dict[str, Any]:
    """`container[key]`, made an empty dict when it is missing or not one (a damaged file)."""
    value = container.get(key)
    if not isinstance(value, dict):
        value = container[key] = {}
    return value
