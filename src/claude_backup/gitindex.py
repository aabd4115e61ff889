"""A fast, read-only view of a git index file: path -> (blob sha, size, mtime, inode).

Change detection reads the index on every sync to skip files whose stat is unchanged, and
dulwich's reader builds a full object per entry (0.34 s for the 44,000 files of a 10,000-chat
archive). This reads only the fields needed, from index versions 2 and 3 (what git and dulwich
write by default); anything else (version 4's compressed paths, a conflict, a damaged file)
returns None and the caller uses dulwich instead. Writing stays with dulwich.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import NamedTuple

_HEADER = struct.Struct(">4sII")
_ENTRY = struct.Struct(">4x4xII4xI4x4x4xI20sH")  # skip ctime, dev, mode, uid, gid
_FIXED = 62  # bytes of an entry before its path (version 2)
_EXTENDED = 0x4000
_STAGE = 0x3000
_NAME_MASK = 0x0FFF
_TRAILER = 20  # SHA-1 of everything before it


class IndexStat(NamedTuple):
    sha: bytes  # hex, as dulwich spells object ids
    size: int
    mtime_ns: int
    ino: int  # the low 32 bits, as git stores it


def read_index_stats(path: Path) -> dict[str, IndexStat] | None:
    """Every entry of the index at `path` by path (str, surrogateescape), or None when the
    file is missing, damaged, or in a form this reader leaves to dulwich."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return parse_index(data)


def parse_index(data: bytes) -> dict[str, IndexStat] | None:
    if len(data) < _HEADER.size + _TRAILER:
        return None
    if hashlib.sha1(data[:-_TRAILER]).digest() != data[-_TRAILER:]:
        return None
    signature, version, count = _HEADER.unpack_from(data)
    if signature != b"DIRC" or version not in (2, 3):
        return None
    entries: dict[str, IndexStat] = {}
    pos = _HEADER.size
    end = len(data) - _TRAILER
    unpack = _ENTRY.unpack_from
    for _ in range(count):
        if pos + _FIXED > end:
            return None
        mtime_s, mtime_ns, ino, size, sha, flags = unpack(data, pos)
        if flags & _STAGE:
            return None  # a merge conflict: not a plain list of files
        start = pos + _FIXED + (2 if flags & _EXTENDED else 0)
        length = flags & _NAME_MASK
        stop = data.find(b"\0", start) if length == _NAME_MASK else start + length
        if stop < 0 or stop > end:
            return None
        name = data[start:stop].decode("utf-8", "surrogateescape")
        entries[name] = IndexStat(
            sha.hex().encode("ascii"), size, mtime_s * 1_000_000_000 + mtime_ns, ino
        )
        pos += (stop - pos + 8) & ~7  # the path's NUL and padding to a multiple of 8
    return entries
