"""What git would record of the archive's working tree: the walk behind change detection.

The archive is the user's too: notes, a README, a `.gitignore`, symlinks, scripts, a git
repository of their own. The walk records each path as `git add -A` would: a regular file
with its executable bit (unless `core.fileMode` is false), a symlink as a symlink (never
followed, also to a folder), a nested repository as a gitlink to its checked-out commit (its
files and its `.git` never), and nothing that `.gitignore`, `.git/info/exclude` or
`core.excludesFile` ignores, unless it is tracked already or the sync wrote it: ignore rules
never hide a file of the backup. Sockets, pipes and devices are skipped, as git skips them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from dulwich.errors import NotGitRepository
from dulwich.ignore import IgnoreFilterManager
from dulwich.repo import Repo

from claude_backup.model.layout import TEMP_PREFIX

REGULAR = 0o100644
EXECUTABLE = 0o100755
SYMLINK = 0o120000
GITLINK = 0o160000
DOT_GIT = ".git"


class Found(NamedTuple):
    """A path of the working tree: its lstat and its kind (REGULAR for any regular file,
    SYMLINK or GITLINK)."""

    st: os.stat_result
    kind: int


@dataclass
class Walk:
    files: dict[str, Found] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)  # temp files of interrupted writes


def file_mode(
    st: os.stat_result, old_mode: int | None, trust_exec_bit: bool, has_symlinks: bool = True
) -> int:
    """The mode git records for a regular file: executable if its owner may run it. With
    `core.fileMode` false (file systems without an executable bit) the bit on disk means
    nothing: a tracked file keeps its mode, a new one is 100644. With `core.symlinks` false,
    a file where a link was is that link, written out."""
    if old_mode == SYMLINK and not has_symlinks:
        return SYMLINK
    if not trust_exec_bit:
        return old_mode if old_mode in (REGULAR, EXECUTABLE) else REGULAR
    return EXECUTABLE if st.st_mode & stat.S_IXUSR else REGULAR


def nested_head(path: str) -> bytes | None:
    """The commit a nested repository has checked out; None if it has none (nothing is
    recorded for it then, as `git add -A` records nothing for it)."""
    try:
        with Repo(path) as repo:
            return repo.head()
    except (NotGitRepository, KeyError, OSError, ValueError):
        return None


def _is_repository(path: str) -> bool:
    """Is the `.git` in this folder a repository (git's test: it opens as one)? A stray file
    or an empty folder named `.git` is not, and git walks the folder as any other."""
    try:
        with Repo(path):
            return True
    except (NotGitRepository, OSError, ValueError):
        return False


class WorkTree:
    """The archive's working tree as git sees it."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.root = repo.path
        self._ignore: IgnoreFilterManager | None = None
        config = repo.get_config()
        self.trust_exec_bit = config.get_boolean((b"core",), b"fileMode", True)
        # false where links cannot be made (Windows): git checks a link out as a plain file
        # holding its target, and that file stays a link in the index
        self.has_symlinks = config.get_boolean((b"core",), b"symlinks", True)

    def ignored(self, rel: str, is_dir: bool = False) -> bool:
        if self._ignore is None:
            self._ignore = IgnoreFilterManager.from_repo(self.repo)
        return bool(self._ignore.is_ignored(rel + "/" if is_dir else rel))

    def walk(self, tracked: Container[str], ours: Callable[[str, os.stat_result], bool]) -> Walk:
        """Every path git would record. `tracked`: paths in HEAD (never ignored); `ours`: is
        this untracked file one the sync wrote (never ignored either)? An unreadable folder
        raises: skipping it would read as deletions."""
        found = Walk()
        files = found.files
        pending = [(self.root, "")]
        while pending:
            folder, prefix = pending.pop()
            with os.scandir(folder) as scan:
                entries = list(scan)
            if prefix and any(e.name == DOT_GIT for e in entries) and _is_repository(folder):
                self._nested(folder, prefix[:-1], tracked, files)
                continue
            for entry in entries:
                name = entry.name
                if name == DOT_GIT:
                    continue
                rel = prefix + name
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, rel + "/"))
                    continue
                if name.startswith(TEMP_PREFIX):
                    found.leftovers.append(entry.path)
                    continue
                if entry.is_file(follow_symlinks=False):
                    kind = REGULAR
                elif entry.is_symlink():
                    kind = SYMLINK
                else:
                    continue  # a socket, a pipe, a device: git records none
                st = entry.stat(follow_symlinks=False)
                if rel in tracked or (kind == REGULAR and ours(rel, st)) or not self.ignored(rel):
                    files[rel] = Found(st, kind)
        return found

    def _nested(
        self, folder: str, rel: str, tracked: Container[str], files: dict[str, Found]
    ) -> None:
        """A folder holding `.git`: someone's repository. Neither its files nor its `.git` are
        ours to commit; its commit is recorded, as `git add -A` does."""
        if rel not in tracked and self.ignored(rel, is_dir=True):
            return
        if nested_head(folder) is not None:
            files[rel] = Found(os.lstat(folder), GITLINK)


def read_link(root: Path, rel: str) -> bytes:
    """A symlink's blob: its target, as bytes (git stores the link, never what it points to)."""
    return os.fsencode(os.readlink(root / rel))
