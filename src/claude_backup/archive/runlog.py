"""The outcome of the last sync, kept in .git/claude-backup/last-sync.json for `status`.

Never committed: a sync that changed nothing, or failed, makes no commit, yet `status` should
still say when it ran and how it ended.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from claude_backup.archive.files import git_dir, write_atomic
from claude_backup.errors import ClaudeBackupError, Interrupted
from claude_backup.keyage import KeyAge
from claude_backup.model.canonical import json_bytes

RUNLOG = Path("claude-backup") / "last-sync.json"  # in the archive's git folder


@dataclass(frozen=True)
class AccountRun:
    """One account's part of a finished sync, as the record keeps it."""

    account: str
    commit: str | None
    fetched: int
    failures: int


def record_run(
    archive: Path,
    started: float,
    *,
    accounts: Sequence[AccountRun] | None = None,
    error: BaseException | None = None,
    key_ages: Sequence[KeyAge] = (),
) -> str | None:
    """Write the record; returns why it could not be written (None: written). The caller says
    so: after a sync that committed, the backup stands whatever happens to this record."""
    if not git_dir(archive).is_dir():
        return None
    entry: dict[str, Any] = {
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 3),
    }
    if error is not None:
        code = (
            error.exit_code
            if isinstance(error, ClaudeBackupError)
            else (Interrupted.exit_code if isinstance(error, KeyboardInterrupt) else 1)
        )
        entry.update(result="error", exit_code=code, message=str(error)[:500])
    elif accounts is not None:
        failed = any(a.failures for a in accounts)
        entry.update(
            result="partial" if failed else "ok",
            exit_code=3 if failed else 0,
            accounts=[asdict(a) for a in accounts],
        )
    if key_ages:
        entry["keys"] = [age.as_json() for age in key_ages]
    try:
        write_atomic(git_dir(archive) / RUNLOG, json_bytes(entry))
    except (OSError, ClaudeBackupError) as exc:
        return str(exc)
    return None


def last_run(archive: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((git_dir(archive) / RUNLOG).read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
