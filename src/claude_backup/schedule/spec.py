"""What a scheduled job is: which command, how often, at what time, with which environment."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from claude_backup.errors import UsageError
from claude_backup.keys import KEY_PREFIX, SECRET_ENV_VARS

NAME = "claude-backup"
DEFAULT_AT = "03:17"
EVERY_CHOICES = "daily, hourly, or every N hours (2h, 3h, 4h, 6h, 8h, 12h)"
#: Settings a job inherits from the environment it was installed from (never the key).
CARRIED_PREFIXES = ("CLAUDE_BACKUP_",)
CARRIED_NAMES = ("PYTHON_KEYRING_BACKEND", "XDG_CONFIG_HOME", "XDG_DATA_HOME")


@dataclass(frozen=True)
class Timing:
    """Runs at `minute` past each of `hours` (local time), every day."""

    every: str
    hours: tuple[int, ...]
    minute: int

    @property
    def interval_hours(self) -> int:
        return 24 // len(self.hours)

    def describe(self) -> str:
        at = f"{self.hours[0]:02d}:{self.minute:02d}"
        if len(self.hours) == 1:
            return f"daily at {at}"
        if len(self.hours) == 24:
            return f"hourly at :{self.minute:02d}"
        return f"every {self.interval_hours} hours from {at}"


def parse_timing(every: str, at: str | None) -> Timing:
    """`--every` and `--at` checked and combined. Intervals divide the day evenly, so every
    scheduler runs the job at the same times."""
    text = (at or DEFAULT_AT).strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise UsageError(f"--at takes a time of day like 03:15, not {text!r}")
    hour, minute = int(match[1]), int(match[2])
    word = every.strip().lower()
    hours_match = re.fullmatch(r"(\d+)\s*h", word)
    if word == "daily":
        interval = 24
    elif word == "hourly":
        interval = 1
    elif hours_match and int(hours_match[1]) in (1, 2, 3, 4, 6, 8, 12, 24):
        interval = int(hours_match[1])
    else:
        raise UsageError(f"--every takes {EVERY_CHOICES}, not {every!r}")
    hours = tuple(sorted((hour + k * interval) % 24 for k in range(24 // interval)))
    return Timing(word, hours, minute)


@dataclass(frozen=True)
class JobSpec:
    """One job: the argv to run and the environment to run it with."""

    argv: tuple[str, ...]
    timing: Timing
    archive: Path
    environment: Mapping[str, str] = field(default_factory=dict)
    log: Path | None = None  # where launchd writes the job's output

    def __post_init__(self) -> None:
        for text in (*self.argv, *self.environment.values()):
            if KEY_PREFIX in text:
                raise UsageError("a scheduled job never holds a session key: use `key set`")


def installed_command() -> list[str]:
    """The claude-backup of this installation, by absolute path: the script beside this
    Python (a venv's or pipx's bin folder), else this Python running the package."""
    folder = Path(sys.executable).parent
    script = folder / ("claude-backup.exe" if os.name == "nt" else "claude-backup")
    if script.is_file():
        return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "claude_backup"]


def carried_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings in the installing environment that the job must see too."""
    carried = {
        name: value
        for name, value in environ.items()
        if (name.startswith(CARRIED_PREFIXES) or name in CARRIED_NAMES)
        and name not in SECRET_ENV_VARS  # the key, the git token: never in a job's files
        and name != "CLAUDE_BACKUP_ARCHIVE"  # the job names its archive
        and KEY_PREFIX not in value
        and value
    }
    return dict(sorted(carried.items()))
