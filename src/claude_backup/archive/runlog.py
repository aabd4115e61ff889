"""The outcome of the last sync, kept in .git/claude-backup/last-sync.json for `status`.

Never committed: a sync that changed nothing, or failed, makes no commit, yet `status` should
still say when it ran and how it ended.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from claude_backup.archive.files import git_dir, write_atomic
from claude_backup.errors import ClaudeBackupError, Interrupted
from claude_backup.keyage import KeyAge
from claude_backup.model.canonical import json_bytes

RUNLOG = Path("claude-backup") / "last-sync.json"  # in the archive's git folder
PUSHLOG = Path("claude-backup") / "last-push.json"
RUNNING = Path("claude-backup") / "running.json"


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
        interrupted = isinstance(error, (KeyboardInterrupt, Interrupted))
        code = (
            error.exit_code
            if isinstance(error, ClaudeBackupError)
            else (Interrupted.exit_code if interrupted else 1)
        )
        message = str(error) or type(error).__name__
        if interrupted:
            result, message = "interrupted", "stopped by Ctrl-C or SIGTERM"
        else:
            result = "error"
        entry.update(result=result, exit_code=code, message=message[:500])
    if accounts is not None:
        if error is None:
            failed = any(a.failures for a in accounts)
            entry.update(result="partial" if failed else "ok", exit_code=3 if failed else 0)
        entry.update(accounts=[asdict(a) for a in accounts])
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


def record_push(archive: Path, remote: str, error: str | None) -> None:
    """The outcome of the last push to each remote: `status` tells a refused push from one not
    made yet. Best effort, like `record_run`."""
    pushes = last_pushes(archive)
    pushes[remote] = {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "error": error,
    }
    with contextlib.suppress(OSError, ClaudeBackupError):
        write_atomic(git_dir(archive) / PUSHLOG, json_bytes(pushes))


def last_pushes(archive: Path) -> dict[str, Any]:
    try:
        data = json.loads((git_dir(archive) / PUSHLOG).read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@contextmanager
def sync_running(archive: Path) -> Iterator[None]:
    """While a sync holds the archive: who and since when, for `status` (best effort)."""
    entry = {
        "pid": os.getpid(),
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    path = git_dir(archive) / RUNNING
    with contextlib.suppress(OSError, ClaudeBackupError):
        write_atomic(path, json_bytes(entry))
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def running_sync(archive: Path) -> dict[str, Any] | None:
    """The sync running on `archive` now, if any: a record left by a process that died (kill
    -9, a crash) is not one."""
    try:
        data = json.loads((git_dir(archive) / RUNNING).read_bytes())
        pid = int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        return None
    return data if isinstance(data, dict) else None


def _alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # no cheap check: the lock file says the rest
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
