"""Which archive a command works on, decided the same way for every command:

1. the path given on the command line (`-a/--archive`, or the positional ARCHIVE);
2. else $CLAUDE_BACKUP_ARCHIVE;
3. else the archive that contains the current directory (like git finds its repository);
4. else the `archive` setting of the config file;
5. else the archive used last (remembered beside the config file by `sync` and by any command
   given an archive), if it still is one;
6. else the default archive in the user data folder.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from claude_backup.model.layout import ACCOUNT_FILE, MARKER
from claude_backup.model.naming import uuid_of

ENV_VAR = "CLAUDE_BACKUP_ARCHIVE"
LAST_USED_FILE = "last-archive"

GIVEN = "given"
FROM_ENV = f"${ENV_VAR}"
ENCLOSING = "the archive you are in"
CONFIGURED = "the config file"
LAST_USED = "the archive used last"
DEFAULT = "the default"


@dataclass(frozen=True)
class Located:
    path: Path
    source: str  # one of the constants above

    @property
    def implicit(self) -> bool:
        """Not named by the user here and now: worth telling which archive was used."""
        return self.source in (CONFIGURED, LAST_USED, DEFAULT)


def default_archive() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("claude-backup", appauthor=False))


def is_archive(folder: Path) -> bool:
    return (folder / MARKER).is_file() and (folder / ".git").exists()


def enclosing_archive(start: Path) -> Path | None:
    """The nearest git repository at or above `start`, if it is an archive: one with the marker,
    or one whose top folder holds only account folders (an archive that lost its marker)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder if is_archive(folder) or _looks_like_archive(folder) else None
    return None


def _looks_like_archive(folder: Path) -> bool:
    try:
        entries = [e for e in os.scandir(folder) if not e.name.startswith(".")]
    except OSError:
        return False
    return bool(entries) and all(
        e.is_dir() and uuid_of(e.name) and (Path(e.path) / ACCOUNT_FILE).is_file() for e in entries
    )


def locate(
    explicit: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    configured: Path | None = None,
    last: Path | None = None,
) -> Located:
    env = os.environ if environ is None else environ
    if explicit is not None:
        return Located(explicit.expanduser(), GIVEN)
    if env.get(ENV_VAR):
        return Located(Path(env[ENV_VAR]).expanduser(), FROM_ENV)
    found = enclosing_archive((cwd or Path.cwd()).absolute())
    if found is not None:
        return Located(found, ENCLOSING)
    if configured is not None:
        return Located(configured.expanduser(), CONFIGURED)
    if last is not None and is_archive(last):
        return Located(last, LAST_USED)
    return Located(default_archive(), DEFAULT)


def find_archive(
    explicit: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    configured: Path | None = None,
) -> Path:
    return locate(explicit, environ=environ, cwd=cwd, configured=configured).path


def locate_archive(explicit: Path | None, environ: Mapping[str, str] | None = None) -> Located:
    """`locate` with the config file's setting and the remembered archive: what commands use.
    An archive named on the command line needs neither (nor a readable config file)."""
    from claude_backup.config import load

    if explicit is not None:
        return locate(explicit)
    env = os.environ if environ is None else environ
    configured = load({}, env)["archive"].value
    return locate(explicit, environ=env, configured=configured, last=last_used(env))


def last_used_path(environ: Mapping[str, str] | None = None) -> Path:
    from claude_backup.config import config_path

    return config_path(environ).parent / LAST_USED_FILE


def last_used(environ: Mapping[str, str] | None = None) -> Path | None:
    try:
        text = last_used_path(environ).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return Path(text) if text else None


def remember(archive: Path, environ: Mapping[str, str] | None = None) -> None:
    """Best effort: the archive a command used, for the next command run elsewhere."""
    if not is_archive(archive):
        return
    target = last_used_path(environ)
    value = str(archive.expanduser().absolute())
    if last_used(environ) == Path(value):
        return
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{os.getpid()}")
        temp.write_text(value + "\n", encoding="utf-8")
        os.replace(temp, target)
