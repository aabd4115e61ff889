"""What `schedule install` installed, kept beside the config file for `schedule status` and
`schedule remove`: which scheduler, which archive, when. Holds no key."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from claude_backup.config import config_path
from claude_backup.privatefile import write_private
from claude_backup.schedule.spec import JobSpec


def record_path() -> Path:
    return config_path().parent / "schedule.json"


def save(backend: str, job: JobSpec) -> None:
    data = {
        "backend": backend,
        "archive": str(job.archive),
        "every": job.timing.every,
        "when": job.timing.describe(),
        "argv": list(job.argv),
        "installed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    with contextlib.suppress(OSError):
        write_private(record_path(), json.dumps(data, indent=1).encode())


def load() -> dict[str, Any] | None:
    try:
        data = json.loads(record_path().read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def forget() -> None:
    with contextlib.suppress(FileNotFoundError):
        record_path().unlink()
