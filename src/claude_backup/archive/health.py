"""`status --check`: did the last sync succeed recently enough? For monitors and scripts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from claude_backup.archive.runlog import last_run
from claude_backup.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> timedelta:
    """`90m`, `26h`, `2d`, `1d12h`, `3600s`; a bare number is seconds."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    elif value and _PART.sub("", value) == "":
        seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(value))
    else:
        raise UsageError(f"not a duration: {text!r} (like 90m, 26h, 2d)")
    if seconds <= 0:
        raise UsageError(f"a duration must be positive, not {text!r}")
    return timedelta(seconds=seconds)


def check_health(archive: Path, max_age: str, now: datetime | None = None) -> tuple[bool, str]:
    """(healthy, one line saying why)."""
    limit = parse_duration(max_age)
    moment = now or datetime.now(timezone.utc)
    last = last_run(archive)
    if last is None:
        return False, f"CRITICAL: no sync recorded in {archive}"
    try:
        finished = datetime.fromisoformat(str(last.get("finished_at")))
    except ValueError:
        return False, f"CRITICAL: unreadable last-sync record in {archive}"
    ago = moment - finished
    when = f"{_human(ago)} ago"
    result = last.get("result")
    if result != "ok":
        message = str(last.get("message") or f"{result}, exit {last.get('exit_code')}")
        return False, f"CRITICAL: last sync {when} failed (exit {last.get('exit_code')}): {message}"
    if ago > limit:
        return False, f"CRITICAL: last sync {when}, older than {max_age}"
    return True, f"OK: last sync {when} succeeded"


def _human(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"
