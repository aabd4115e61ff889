"""Crash-safe file writes inside the archive: temp file, rename, one flush before a commit;
private permissions."""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import stat
import threading
from pathlib import Path

from claude_backup.errors import ArchiveError, OutsideArchive, UnstorableItem
from claude_backup.model.layout import TEMP_PREFIX

_TEMP_NUMBERS = itertools.count()  # two threads writing one path never share a temp file

DIR_MODE = 0o700
FILE_MODE = 0o600


def git_dir(root: Path) -> Path:
    """The git folder of the archive at `root`: `root/.git`, or, where `.git` is a file (a `git
    worktree add`, a submodule), the folder its `gitdir:` line names."""
    dot_git = root / ".git"
    try:
        if dot_git.is_file():
            line = dot_git.read_text(encoding="utf-8").strip()
            if line.startswith("gitdir:"):
                target = Path(line.removeprefix("gitdir:").strip())
                return target if target.is_absolute() else root / target
    except (OSError, UnicodeDecodeError):
        pass
    return dot_git


# An item that cannot be stored (its name or path is impossible on this file system, or one
# of its folders is a file): reported, the rest of the sync goes on. Any other failure (a full
# disk, a read-only or unwritable archive) stops the sync.
ITEM_ERRNOS = frozenset(
    {errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.EINVAL, errno.EILSEQ}
)


def relative_parts(rel: str) -> list[str]:
    """The components of a relative path inside the archive; ValueError for anything that
    could lead elsewhere: absolute, a drive, `..`, `.`, an empty component, a backslash or a
    NUL (everything read back from the archive, `index.json` included, is untrusted)."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\0" in rel:
        raise ValueError(f"not a relative path: {rel!r}")
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts) or ":" in parts[0]:
        raise ValueError(f"not a path inside the archive: {rel!r}")
    return parts


def is_relative_inside(rel: object) -> bool:
    try:
        relative_parts(rel)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def inside_archive(root: Path, path: Path | str) -> Path:
    """`path` (relative to `root`, or absolute below it) as a path every writer may use: the
    one place that keeps writes inside the archive. Refuses a path leading out of it
    (`UnstorableItem`), and a path through a symbolic link (`OutsideArchive`): a folder the
    user moved elsewhere and linked back would receive files the commit never sees."""
    full = Path(path)
    if full.is_absolute():
        try:
            rel = full.relative_to(root).as_posix()
        except ValueError:
            raise UnstorableItem(f"refusing to write {full}: it is not inside {root}") from None
    else:
        rel = path if isinstance(path, str) else full.as_posix()  # as given: "a//b" is refused
    try:
        parts = relative_parts(rel)
    except ValueError as exc:
        raise UnstorableItem(f"refusing to write {rel!r} in {root}: {exc}") from None
    folder = root
    for part in parts[:-1]:
        folder = folder / part
        try:
            st = os.lstat(folder)
        except FileNotFoundError:
            break  # created by the writer: below it nothing exists yet
        except OSError as exc:
            raise archive_error(exc, folder) from exc
        if stat.S_ISLNK(st.st_mode):
            raise OutsideArchive(symlink_message(root, folder))
    return root.joinpath(*parts)


def symlink_message(root: Path, link: Path) -> str:
    try:
        where = os.readlink(link)
    except OSError:
        where = "?"
    return (
        f"{link.relative_to(root)} in the archive is a symbolic link (to {where}); "
        "claude-backup writes only inside the archive folder and would not commit what lies "
        "behind it. Move that folder back into the archive (or link the whole archive "
        "folder instead) and sync again; nothing was changed"
    )


def make_dirs(path: Path) -> None:
    """`path` and any missing parent, each created 0700 (`mkdir(parents=True)` would give the
    parents the default mode: `files/`, `projects/` readable by others)."""
    missing: list[Path] = []
    folder = path
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    try:
        for each in reversed(missing):
            each.mkdir(mode=DIR_MODE, exist_ok=True)
        if not path.is_dir():
            path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)  # raises the right error
    except OSError as exc:
        raise archive_error(exc, path) from exc


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly that. Returns whether it wrote.

    The bytes go to a temp file in the same folder, then are renamed over the target, so a run
    killed at any point leaves either the old file or the new one, never a torn one. There is
    no fsync per file (it costs more than the rest of the write; docs/performance.md):
    `flush_to_disk` makes everything durable once, before a commit names it. A power loss
    before that may leave a new file empty or cut short; the next sync reads it as unreadable
    and fetches that chat again.
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise archive_error(exc, path) from exc
    temp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{next(_TEMP_NUMBERS)}-{path.name}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        try:
            fd = os.open(temp, flags, FILE_MODE)
        except FileNotFoundError:  # a new folder (creating it first every time costs a syscall)
            make_dirs(path.parent)
            fd = os.open(temp, flags, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(exc, OSError):
            raise archive_error(exc, path) from exc
        raise
    return True


def start_flush_to_disk() -> threading.Thread:
    """Start `flush_to_disk` in the background: what was written so far goes to disk while the
    caller goes on (a later `flush_to_disk` then has little left to wait for)."""
    thread = threading.Thread(target=flush_to_disk, name="flush", daemon=True)
    thread.start()
    return thread


def flush_to_disk() -> None:
    """Make every write so far durable: one flush for a whole sync instead of an fsync per
    file. (Where the platform has no `sync`, durability is the operating system's.)"""
    flush = getattr(os, "sync", None)
    if flush is not None:
        flush()


def move(root: Path, old: str, new: str | None) -> None:
    """Rename `old` to `new` (both relative to root), or delete it when `new` is None."""
    source = inside_archive(root, old)
    try:
        if new is None:
            source.unlink(missing_ok=True)
        else:
            target = inside_archive(root, new)
            make_dirs(target.parent)
            os.replace(source, target)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise archive_error(exc, source) from exc
    remove_empty_parents(root, source.parent)


def remove_empty_parents(root: Path, folder: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def archive_error(exc: OSError, path: Path) -> ArchiveError:
    """Our one-line error for a failed file operation (disk full, permissions, ...);
    `UnstorableItem` when only this item is impossible (`ITEM_ERRNOS`)."""
    if exc.errno in ITEM_ERRNOS:
        return UnstorableItem(f"cannot store {path}: {exc.strerror or exc}")
    if exc.errno == errno.ENOSPC:
        return ArchiveError(
            f"the disk is full while writing {path}; free some space and sync again"
        )
    if exc.errno == errno.EROFS:
        return ArchiveError(f"cannot write {path}: the file system is read-only")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ArchiveError(f"cannot write {path}: permission denied")
    return ArchiveError(f"cannot write {path}: {exc.strerror or exc}")
