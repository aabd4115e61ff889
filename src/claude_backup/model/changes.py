"""What changed in the archive's files, and the commits that record it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FileChange:
    """A path whose working-tree content differs from HEAD (sha None = absent on that side)."""

    path: str
    old_sha: bytes | None
    new_sha: bytes | None


@dataclass(frozen=True)
class CommitStep:
    """One commit to make: which paths take which blob (None removes the path)."""

    entries: Sequence[tuple[str, bytes | None]]
    message: str
