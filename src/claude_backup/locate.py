"""Which archive a command works on, decided the same way for every command:

1. the path given on the command line;
2. else $CLAUDE_BACKUP_ARCHIVE;
3. else the archive that contains the current directory (like git finds its repository);
4. else the `archive` setting of the config file;
5. else the default archive in the user data folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from claude_backup.model.layout import MARKER

ENV_VAR = "CLAUDE_BACKUP_ARCHIVE"


def default_archive() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("claude-backup", appauthor=False))


def enclosing_archive(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding an archive marker and a .git folder."""
    for folder in (start, *start.parents):
        if (folder / MARKER).is_file() and (folder / ".git").exists():
            return folder
    return None


def find_archive(
    explicit: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    configured: Path | None = None,
) -> Path:
    env = os.environ if environ is None else environ
    if explicit is not None:
        return explicit.expanduser()
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR]).expanduser()
    found = enclosing_archive((cwd or Path.cwd()).absolute())
    if found is not None:
        return found
    return configured.expanduser() if configured is not None else default_archive()
