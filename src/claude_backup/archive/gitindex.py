"""The git index file (`.git/index`), read and written in its plain form, version 2.

Change detection reads the index on every sync to skip files whose stat is unchanged, and every
commit rewrites it so that `git status` stays clean. dulwich builds a full object per entry for
both, which costs more than the rest of a no-change sync (docs/performance.md); this keeps each
entry as the bytes git stores and unpacks only what change detection compares. It reads
versions 2 and 3 without extended entries (what git and dulwich write by default); anything
else (version 4's compressed paths, a conflict, sparse checkout flags, a damaged file) reads as
None, and the archive rebuilds the index from HEAD.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import time
from pathlib import Path
from typing import NamedTuple

_HEADER = struct.Struct(">4sII")
_FLAGS = struct.Struct(">H")
_FIXED = struct.Struct(">10I20s")  # ctime s/ns, mtime s/ns, dev, ino, mode, uid, gid, size, sha
_STATS = struct.Struct(">8xII4xII8xI20s")  # mtime s/ns, ino, mode, size, sha
_EXTENDED = 0x4000
_STAGE = 0x3000
_NAME_MASK = 0x0FFF
_TRAILER = 20  # SHA-1 of everything before it
_U32 = 0xFFFFFFFF
STALE_LOCK_SECONDS = 600  # an index.lock this old is left from a killed process


class IndexStat(NamedTuple):
    sha: bytes  # hex, as dulwich spells object ids
    size: int
    mtime_ns: int
    ino: int  # the low 32 bits, as git stores it
    mode: int  # 0o100644, 0o100755, 0o120000 (a symlink) or 0o160000 (a nested repository)


class IndexFile:
    """Entries by path (bytes as git stores them): each its stat and sha, the 60 bytes before
    its flags (written from the path) and its path."""

    def __init__(self, entries: dict[bytes, bytes] | None = None) -> None:
        self.entries: dict[bytes, bytes] = entries if entries is not None else {}

    @classmethod
    def read(cls, path: Path) -> IndexFile | None:
        """The index at `path`; an empty index if there is none yet; None if unreadable here."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls()
        except OSError:
            return None
        return cls.parse(data)

    @classmethod
    def parse(cls, data: bytes) -> IndexFile | None:
        if len(data) < _HEADER.size + _TRAILER:
            return None
        if hashlib.sha1(data[:-_TRAILER]).digest() != data[-_TRAILER:]:
            return None
        signature, version, count = _HEADER.unpack_from(data)
        if signature != b"DIRC" or version not in (2, 3):
            return None
        entries: dict[bytes, bytes] = {}
        pos = _HEADER.size
        end = len(data) - _TRAILER
        fixed = _FIXED.size
        for _ in range(count):
            if pos + fixed + 2 > end:
                return None
            (flags,) = _FLAGS.unpack_from(data, pos + fixed)
            if flags & (_STAGE | _EXTENDED):
                return None  # a conflict, or flags a plain version 2 index cannot hold
            start = pos + fixed + 2
            length = flags & _NAME_MASK
            stop = data.find(b"\0", start) if length == _NAME_MASK else start + length
            if stop < 0 or stop > end:
                return None
            entries[data[start:stop]] = data[pos : pos + fixed]
            pos += (stop - pos + 8) & ~7  # the path's NUL and padding to a multiple of 8
        return cls(entries)

    def stats(self) -> dict[str, IndexStat]:
        """What change detection compares, by path (str, surrogateescape)."""
        unpack = _STATS.unpack
        found: dict[str, IndexStat] = {}
        for name, raw in self.entries.items():
            mtime_s, mtime_ns, ino, mode, size, sha = unpack(raw)
            rel = name.decode("utf-8", "surrogateescape")
            found[rel] = IndexStat(
                sha.hex().encode("ascii"), size, mtime_s * 10**9 + mtime_ns, ino, mode
            )
        return found

    def set(self, rel: str, sha: bytes, mode: int, st: os.stat_result | None) -> None:
        """Record `rel` as blob `sha` (hex), with the file's stat, or with none (st None: the
        file is hashed when next compared)."""
        if st is None:
            stat = (0,) * 9
        else:
            stat = (
                st.st_ctime_ns // 10**9,
                st.st_ctime_ns % 10**9,
                st.st_mtime_ns // 10**9,
                st.st_mtime_ns % 10**9,
                st.st_dev,
                st.st_ino,
                mode,
                st.st_uid,
                st.st_gid,
            )
        values = [v & _U32 for v in stat]
        values[6] = mode
        size = st.st_size & _U32 if st is not None else 0
        self.entries[_key(rel)] = _FIXED.pack(*values, size, bytes.fromhex(sha.decode()))

    def remove(self, rel: str) -> None:
        self.entries.pop(_key(rel), None)

    def write(self, path: Path) -> bool:
        """Replace the index at `path` as git does (through `index.lock`). False, writing
        nothing, while a git command holds the lock."""
        lock = path.with_name(path.name + ".lock")
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - lock.stat().st_mtime > STALE_LOCK_SECONDS:
                    lock.unlink()
                    return self.write(path)
            return False
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(self.serialize())
            os.replace(lock, path)
        except BaseException:
            with contextlib.suppress(OSError):
                lock.unlink()
            raise
        return True

    def serialize(self) -> bytes:
        parts = [_HEADER.pack(b"DIRC", 2, len(self.entries))]
        for name in sorted(self.entries):
            raw = self.entries[name]
            flags = min(len(name), _NAME_MASK)
            entry = raw + _FLAGS.pack(flags) + name
            parts.append(entry + b"\0" * (8 - len(entry) % 8))
        body = b"".join(parts)
        return body + hashlib.sha1(body).digest()


def _key(rel: str) -> bytes:
    return rel.encode("utf-8", "surrogateescape")
