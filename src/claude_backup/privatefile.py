"""Small files of our own outside the archive (a stored key, key ages, the schedule record):
written whole through a temp file, readable only by their owner from the first byte."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data`; the temp file is created 0600, so the bytes are never
    readable by others, not even for a moment. Raises OSError."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temp, FILE_MODE)  # an older temp file of that name kept its mode
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
