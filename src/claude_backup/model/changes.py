"""What changed in the archive's files, and the commits that record it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FileChange:
    """A path whose working-tree content or mode differs from HEAD (sha None = absent on that
    side); `mode`: the git mode it has now (or had, when it is gone): 0o100644 a file,
    0o100755 an executable, 0o120000 a symlink, 0o160000 a nested repository's commit."""

    path: str
    old_sha: bytes | None
    new_sha: bytes | None
    mode: int = 0o100644


@dataclass(frozen=True)
class CommitStep:
    """One commit to make: which paths take which blob (None removes the path)."""

    entries: Sequence[tuple[str, bytes | None]]
    message: str
