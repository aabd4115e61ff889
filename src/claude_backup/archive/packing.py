"""Git packs written one object at a time, and small packs merged with big trees as deltas.

Why not dulwich's own writers: `add_objects` and `repack` take every object of the pack at once,
and a first sync may hold a gigabyte of chats. A `PackWriter` compresses each object as it
comes, writes it to a temporary file in the pack folder and keeps only its offset; the count
in the header and the trailing checksum are fixed up at the end, as `git fast-import` does.

A sync that changes a few chats still rewrites the tree of the folder holding every chat (most
of a megabyte for 10,000 chats). `merge_small_packs` merges the packs of recent syncs into one,
where each big tree is a delta of a similar one (`tree_delta`): git's own `gc` does the same.

Every pack is self-contained (a delta's base is in the same pack), and a pack appears only once
complete: the data is written under a temporary name, synced, renamed to `pack-<sha>.pack`,
then its index is renamed into place (readers ignore a pack without an index). An interrupted
write leaves a temporary file, which `remove_leftovers` deletes on the next write.

Living beside git's own maintenance (`git gc`, `git repack -a -d`, `git maintenance`), which
may run at any moment, even during a sync: a repack deletes every pack it found when it started,
keeping only the objects some ref names, and never a pack with a `.keep` file. So a sync's new
pack appears with a `.keep` (`finish(keep=True)`), which goes only once the branch names its
objects (`release_keep`): in between, its objects are reachable from nothing. Loose objects are
deleted only once a kept pack of ours holds them. A pack or a multi-pack-index that git removed
under us only ends a merge early; our merge removes the multi-pack-index before the packs it
names, since git's fsck fails for good on an index that names a missing pack. Packs are
read with ordinary reads, not dulwich's memory mapping: mapped pages we touch count as our
memory, and a first sync reads back every chat it wrote (to describe it in the commit).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from dulwich.object_format import DEFAULT_OBJECT_FORMAT, ObjectFormat
from dulwich.object_store import DiskObjectStore
from dulwich.objects import Blob, ObjectID, ShaFile, Tree
from dulwich.pack import (
    OFS_DELTA,
    REF_DELTA,
    Pack,
    PackFileDisappeared,
    apply_delta,
    pack_object_header,
    write_pack_index,
)

from claude_backup.archive.files import archive_error
from claude_backup.errors import ArchiveError

PACK_FILE_MODE = 0o444
KEEP_NOTE = b"claude-backup: written by a sync, kept until the branch names its objects\n"
PACK_TEMP_PREFIX = "tmp_pack_claude-backup_"  # git's own `gc` also removes old tmp_pack_* files
ORPHAN_AGE_SECONDS = 3600  # a .pack without .idx this old is not one being written right now
# Packs smaller than a tier's size are merged once there are PACKS_BEFORE_MERGING of them: a
# sync of a few changes writes a pack of about 1 MB, merged ones grow into the next tier.
MERGE_TIERS_BYTES = (4 << 20, 32 << 20, 256 << 20)
PACKS_BEFORE_MERGING = 8
BIG_TREE_BYTES = 4096  # smaller trees are not worth a delta
DELTA_WINDOW = 4  # each big tree is compared with this many trees of nearby size
MAX_DELTA_DEPTH = 50  # git's default: longer chains make old versions slow to read
SHA_BYTES = 20
# Packs left as they are: kept ones (ours until the branch moves, git's receive-pack's, the
# user's), git's cruft packs (unreachable objects with the times git prunes them by), a partial
# clone's promisor packs.
NOT_MERGED_SUFFIXES = (".keep", ".mtimes", ".promisor")
COPY_CHUNK = 1 << 20  # big blobs are hashed, compressed and copied a MiB at a time


class PackWriter:
    """A new pack, written an object at a time; what it holds can be read before it is done."""

    def __init__(
        self, pack_dir: str | os.PathLike[str], object_format: ObjectFormat = DEFAULT_OBJECT_FORMAT
    ) -> None:
        self.pack_dir = pack_dir = os.fspath(pack_dir)
        self.object_format = object_format
        try:
            fd, self._temp = tempfile.mkstemp(dir=pack_dir, prefix=PACK_TEMP_PREFIX)
        except OSError as exc:
            raise archive_error(exc, Path(pack_dir)) from exc
        self._file = os.fdopen(fd, "w+b")
        self._file.write(b"PACK" + struct.pack(">II", 2, 0))  # the count is set by `finish`
        self._offset = 12
        # hex sha -> (offset, length of the entry, crc32 of the entry)
        self._entries: dict[bytes, tuple[int, int, int]] = {}

    def __contains__(self, sha: bytes) -> bool:
        return sha in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, obj: ShaFile) -> None:
        """Append a whole object (nothing if the pack already has it)."""
        if obj.id in self._entries:
            return
        raw = obj.as_raw_string()
        self.add_compressed(obj.id, obj.type_num, len(raw), zlib.compress(raw))

    def add_compressed(self, sha: bytes, type_num: int, size: int, compressed: bytes) -> None:
        """Append a whole object already compressed (by a caller that compressed it without
        holding up others: see `StreamingStore.add_blob`)."""
        if sha in self._entries:
            return
        header = pack_object_header(type_num, None, size, self.object_format)
        self._append(sha, bytes(header) + compressed)

    def add_compressed_file(self, sha: bytes, type_num: int, size: int, compressed: str) -> None:
        """Append a whole object whose compressed data is in a file, copied a chunk at a time
        (a blob bigger than memory)."""
        if sha in self._entries:
            return
        header = bytes(pack_object_header(type_num, None, size, self.object_format))
        offset, crc = self._offset, zlib.crc32(header)
        self._file.write(header)
        length = len(header)
        with open(compressed, "rb") as source:
            while chunk := source.read(COPY_CHUNK):
                self._file.write(chunk)
                crc = zlib.crc32(chunk, crc)
                length += len(chunk)
        self._entries[sha] = (offset, length, crc)
        self._offset += length

    def add_delta(self, sha: bytes, base: bytes, delta: bytes) -> None:
        """Append object `sha` as a delta of `base`, which this pack must already hold."""
        if sha in self._entries:
            return
        distance = self._offset - self._entries[base][0]
        header = pack_object_header(OFS_DELTA, distance, len(delta), self.object_format)
        self._append(sha, bytes(header) + zlib.compress(delta))

    def copy_entry(self, sha: bytes, entry: bytes) -> None:
        """Append a whole object's entry exactly as another pack stores it (header and
        compressed data), which saves decompressing and compressing it again."""
        assert entry_header(entry)[0] not in (OFS_DELTA, REF_DELTA), "a delta needs its base"
        if sha not in self._entries:
            self._append(sha, entry)

    def _append(self, sha: bytes, entry: bytes) -> None:
        try:
            self._file.write(entry)
        except OSError as exc:  # the disk is full
            raise archive_error(exc, Path(self._temp)) from exc
        self._entries[sha] = (self._offset, len(entry), zlib.crc32(entry))
        self._offset += len(entry)

    def get_raw(self, sha: bytes) -> tuple[int, bytes]:
        """(type number, content) of an object this pack holds."""
        offset, length, _ = self._entries[sha]
        self._file.flush()
        end = self._file.tell()
        self._file.seek(offset)
        entry = self._file.read(length)
        self._file.seek(end)
        type_num, _, pos = entry_header(entry)
        if type_num != OFS_DELTA:
            return type_num, zlib.decompress(entry[pos:])
        distance = entry[pos] & 0x7F
        while entry[pos] & 0x80:
            pos += 1
            distance = ((distance + 1) << 7) | (entry[pos] & 0x7F)
        base_sha = next(s for s, e in self._entries.items() if e[0] == offset - distance)
        base_type, base = self.get_raw(base_sha)
        return base_type, b"".join(apply_delta(base, zlib.decompress(entry[pos + 1 :])))

    def get(self, sha: bytes) -> ShaFile:
        type_num, raw = self.get_raw(sha)
        return ShaFile.from_raw_string(type_num, raw, sha=ObjectID(sha))

    def finish(self, *, keep: bool = False) -> str | None:
        """Make the pack visible to git and dulwich; its path without extension (None if it
        holds nothing: then no file is left). With `keep`, the pack is visible only with a
        `.keep` file, so that no `git repack` deletes it until `release_keep`."""
        if not self._entries:
            self.abort()
            return None
        try:
            return self._finish(keep)
        except OSError as exc:
            self.abort()
            raise archive_error(exc, Path(self.pack_dir)) from exc

    def _finish(self, keep: bool) -> str:
        handle = self._file
        handle.flush()
        os.pwrite(handle.fileno(), struct.pack(">I", len(self._entries)), 8)
        digest = hashlib.sha1()
        handle.seek(0)
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
        checksum = digest.digest()
        handle.write(checksum)
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        base = os.path.join(self.pack_dir, f"pack-{checksum.hex()}")
        index = sorted(
            (bytes.fromhex(sha.decode("ascii")), offset, crc)
            for sha, (offset, _, crc) in self._entries.items()
        )
        fd, index_temp = tempfile.mkstemp(dir=self.pack_dir, prefix=PACK_TEMP_PREFIX)
        try:
            if keep:  # before the pack or its index has its name: git never sees it unkept
                _write_keep(base)
            with os.fdopen(fd, "wb") as out:
                write_pack_index(out, index, checksum)
                out.flush()
                os.fsync(out.fileno())
            for path in (self._temp, index_temp):
                os.chmod(path, PACK_FILE_MODE)
            os.replace(self._temp, base + ".pack")
            os.replace(index_temp, base + ".idx")  # last: the pack counts from here on
        except BaseException:
            for path in (self._temp, index_temp, *([base + ".keep"] if keep else [])):
                with contextlib.suppress(OSError):
                    os.unlink(path)
            raise
        _fsync_dir(self.pack_dir)
        self._entries.clear()
        return base

    def abort(self) -> None:
        """Drop the pack being written."""
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(OSError):
            os.unlink(self._temp)
        self._entries.clear()


class StreamingStore:
    """An object store whose new objects go into one pack being written, until `flush`.

    A commit's trees and the commit itself go into the pack too (`add_built`), and trees are
    read back with `__getitem__`. Objects of the pending pack are read back from its file with
    ordinary reads: dulwich maps a pack into memory, which would count a whole new pack as
    ours.

    Every object added goes into the pending pack even if some other pack has it already: that
    pack may hold it unreachable (a killed sync's), and a concurrent `git repack -a -d` would
    then drop it before our branch names it. Only the sync's own pack is kept (`.keep`) until
    then, so a commit's new objects must all be in it. Callers add only what is new to HEAD."""

    def __init__(self, store: DiskObjectStore) -> None:
        self.store = store
        self._writer: PackWriter | None = None
        self._kept: list[str] = []  # packs flushed with a .keep not yet released
        self._lock = threading.Lock()  # `add_blob` is called from worker threads

    def _has(self, sha: bytes) -> bool:
        return self._writer is not None and sha in self._writer

    def __getitem__(self, sha: bytes) -> ShaFile:
        with self._lock:
            if self._writer is not None and sha in self._writer:
                return self._writer.get(sha)
            return self.store[ObjectID(sha)]

    def read_raw(self, sha: bytes) -> bytes:
        with self._lock:
            if self._writer is not None and sha in self._writer:
                return self._writer.get_raw(sha)[1]
            return self.store[ObjectID(sha)].as_raw_string()

    def add_object(self, obj: ShaFile) -> None:
        """Add an object unless the pending pack has it already."""
        with self._lock:
            if not self._has(obj.id):
                self._pending().add(obj)

    def add_built(self, obj: ShaFile) -> None:
        """Add an object just built from changes (a tree, a commit)."""
        self.add_object(obj)

    def add_blob(self, data: bytes) -> bytes:
        """Add `data` as a blob; returns its sha. Safe from any thread: hashing and compressing
        (which release the GIL) run outside the lock, so a sync stores each chat as it arrives,
        in a worker thread, instead of compressing everything at its end."""
        blob = Blob.from_string(data)
        sha = blob.id
        with self._lock:
            if self._has(sha):
                return sha
        compressed = zlib.compress(blob.as_raw_string())
        with self._lock:
            self._pending().add_compressed(sha, Blob.type_num, len(data), compressed)
        return sha

    def add_blob_file(self, path: str | os.PathLike[str], unless: bytes | None = None) -> bytes:
        """Add a file's content as a blob, in constant memory: hashed, then compressed into a
        temporary file beside the pack, a chunk at a time. Returns its sha; nothing is stored
        when it is `unless` (HEAD's blob of that file) or in the pending pack already."""
        size = os.path.getsize(path)
        digest = hashlib.sha1(b"blob %d\0" % size)
        with open(path, "rb") as source:
            while chunk := source.read(COPY_CHUNK):
                digest.update(chunk)
        sha = digest.hexdigest().encode("ascii")
        with self._lock:
            if sha == unless or self._has(sha):
                return sha
        with self._lock:
            self._pending()  # first: a new pack's writer removes temporary files it finds
        fd, temp = tempfile.mkstemp(dir=self.store.pack_dir, prefix=PACK_TEMP_PREFIX)
        try:
            packer = zlib.compressobj()
            with os.fdopen(fd, "wb") as out, open(path, "rb") as source:
                while chunk := source.read(COPY_CHUNK):
                    out.write(packer.compress(chunk))
                out.write(packer.flush())
            with self._lock:
                self._pending().add_compressed_file(sha, Blob.type_num, size, temp)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        return sha

    def _pending(self) -> PackWriter:
        if self._writer is None:
            remove_leftovers(self.store.pack_dir)
            self._writer = PackWriter(self.store.pack_dir, self.store.object_format)
        return self._writer

    def flush(self) -> None:
        """Finish the pending pack: from here on its objects are in the store, and durable. The
        pack keeps a `.keep` until `release` (call it once a ref names the objects)."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            base = writer.finish(keep=True)
            if base is not None:
                self._kept.append(base)

    def release(self) -> None:
        """Let git's maintenance repack the flushed packs again."""
        kept, self._kept = self._kept, []
        for base in kept:
            release_keep(base)


def entry_header(entry: bytes) -> tuple[int, int, int]:
    """(type number, size of the content, length of the header) of a pack entry."""
    type_num, size, shift, pos = (entry[0] >> 4) & 7, entry[0] & 15, 4, 1
    while entry[pos - 1] & 0x80:
        size |= (entry[pos] & 0x7F) << shift
        shift, pos = shift + 7, pos + 1
    return type_num, size, pos


def _fsync_dir(path: str) -> None:
    """Make the renames durable (where a folder can be opened: not on Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_keep(base: str) -> None:
    with open(base + ".keep", "wb") as handle:
        handle.write(KEEP_NOTE)


def release_keep(base: str) -> None:
    """Remove the `.keep` file of ours that `PackWriter.finish(keep=True)` wrote."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(base + ".keep")


def remove_stale_keeps(pack_dir: str | os.PathLike[str]) -> None:
    """Remove the `.keep` files a killed sync left (call it holding the archive's lock, when no
    sync of ours is writing): such a pack's objects are garbage or named by the branch, and a
    pack kept for ever would never be merged nor repacked. Others' `.keep` files stay."""
    try:
        names = os.listdir(pack_dir)
    except FileNotFoundError:
        return
    for name in names:
        if not name.endswith(".keep"):
            continue
        path = os.path.join(os.fspath(pack_dir), name)
        with contextlib.suppress(OSError):
            with open(path, "rb") as handle:
                ours = handle.read(len(KEEP_NOTE) + 1) == KEEP_NOTE
            if ours:
                os.unlink(path)


def remove_leftovers(pack_dir: str | os.PathLike[str]) -> None:
    """Delete what interrupted writes left: our temporary files, and packs without an index
    (renamed into place just before the kill) once they are old enough not to be in progress."""
    try:
        names = set(os.listdir(pack_dir))
    except FileNotFoundError:
        return
    now = time.time()
    for name in names:
        path = os.path.join(os.fspath(pack_dir), name)
        orphan = name.endswith(".pack") and name.removesuffix(".pack") + ".idx" not in names
        with contextlib.suppress(OSError):
            if name.startswith(PACK_TEMP_PREFIX) or (
                orphan and now - os.stat(path).st_mtime > ORPHAN_AGE_SECONDS
            ):
                os.unlink(path)


def pack_loose_objects(store: DiskObjectStore) -> int:
    """Move every loose object into one new pack, streamed; returns how many were moved.

    Each loose object read goes into the new pack, even one some pack holds too: that pack may
    be one a concurrent `git gc` is deleting right now (it loosens what it drops, and deletes
    what it packed). A loose object is deleted only once our pack holds it and is kept, and one
    that vanished meanwhile (packed by git) is left to git."""
    loose = list(store._iter_loose_objects())
    if not loose:
        return 0
    remove_leftovers(store.pack_dir)
    writer = PackWriter(store.pack_dir, store.object_format)
    moved: list[ObjectID] = []
    try:
        for sha in loose:
            obj = store._get_loose_object(sha)
            if obj is not None:
                writer.add(obj)
                moved.append(sha)
    except BaseException:
        writer.abort()
        raise
    base = writer.finish(keep=True)
    if base is None:
        return 0
    try:
        for sha in moved:  # only once the pack holding them is in place
            with contextlib.suppress(FileNotFoundError):
                store.delete_loose_object(sha)
    finally:
        release_keep(base)
    return len(moved)


def merge_small_packs(store: DiskObjectStore) -> bool:
    """Merge small packs into one, at most once per call: the packs under the smallest size
    of MERGE_TIERS_BYTES that has PACKS_BEFORE_MERGING of them (NOT_MERGED_SUFFIXES excepted).

    Two passes, so memory stays bounded whatever the packs hold: every object but the big
    trees is copied as it is stored; then the big trees, ordered by size so the versions of
    one folder are neighbours, each stored as a delta of one of the few before it."""
    store._update_pack_cache()  # forget packs that went away (git gc) before listing them
    sizes: dict[str, int] = {}
    for pack in store.packs:
        if not any(os.path.exists(pack._basename + s) for s in NOT_MERGED_SUFFIXES):
            with contextlib.suppress(OSError):  # gone: a concurrent `git gc` repacked it
                sizes[pack._basename] = os.path.getsize(pack._basename + ".pack")
    candidates = [p for p in store.packs if p._basename in sizes]
    for limit in MERGE_TIERS_BYTES:
        small = [p for p in candidates if sizes[p._basename] < limit]
        if len(small) >= PACKS_BEFORE_MERGING:
            return _merge(store, small)
    return False


def _merge(store: DiskObjectStore, packs: list[Pack]) -> bool:
    """Write the packs' objects into one new pack, then delete them; False if one of them went
    away meanwhile (a concurrent `git gc` or `git repack`, which does the same job)."""
    remove_leftovers(store.pack_dir)
    writer = PackWriter(store.pack_dir, store.object_format)
    try:
        big: dict[bytes, tuple[int, Pack]] = {}  # hex sha -> (size, pack holding it)
        for pack in packs:
            _copy_objects(writer, pack, big)
        order = sorted(big, key=lambda sha: (-big[sha][0], sha))
        trees = ((sha, big[sha][1].get_raw(ObjectID(sha))[1]) for sha in order)
        _write_trees_as_deltas(writer, trees)
    except (FileNotFoundError, PackFileDisappeared):
        writer.abort()
        store._update_pack_cache()
        return False
    except BaseException:
        writer.abort()
        raise
    writer.finish()
    remove_multi_pack_index(store)  # it names the packs about to go
    for pack in packs:
        _delete_pack(store, pack)
    remove_multi_pack_index(store)  # in case `git multi-pack-index write` listed them meanwhile
    return True


def _copy_objects(writer: PackWriter, pack: Pack, big: dict[bytes, tuple[int, Pack]]) -> None:
    """Copy a pack's objects that `writer` lacks, with ordinary reads (not dulwich's mapping,
    which would count the whole pack as our memory), except big trees: those are noted in
    `big` for the second pass. A delta (git's own gc makes them) is stored whole."""
    path = os.fspath(pack.data.path)
    entries = sorted((offset, sha, crc) for sha, offset, crc in pack.index.iterentries())
    ends = [offset for offset, _, _ in entries[1:]] + [os.path.getsize(path) - SHA_BYTES]
    with open(path, "rb") as handle:
        for (offset, raw_sha, crc), end in zip(entries, ends, strict=True):
            sha = raw_sha.hex().encode("ascii")
            if sha in writer or sha in big:
                continue
            handle.seek(offset)
            entry = handle.read(end - offset)
            if crc is not None and zlib.crc32(entry) != crc:
                raise ArchiveError(f"object {sha.decode()} of {path} is damaged; see git fsck")
            type_num, size, _ = entry_header(entry)
            whole = type_num not in (OFS_DELTA, REF_DELTA)
            if not whole:
                type_num, raw = pack.get_raw(ObjectID(sha))
                size = len(raw)
            if type_num == Tree.type_num and size >= BIG_TREE_BYTES:
                big[sha] = (size, pack)
            elif whole:
                writer.copy_entry(sha, entry)
            else:
                writer.add(ShaFile.from_raw_string(type_num, raw, sha=ObjectID(sha)))


def _write_trees_as_deltas(writer: PackWriter, trees: Iterator[tuple[bytes, bytes]]) -> None:
    """Write trees (hex sha, content), each as a delta of a recent one where that is less than
    half its size. Holds DELTA_WINDOW trees at a time."""
    window: list[tuple[bytes, bytes, int]] = []  # (sha, content, delta depth), newest first
    for sha, raw in trees:
        best: tuple[bytes, bytes, int] | None = None  # (base sha, delta, depth)
        for base_sha, base, depth in window:
            if depth >= MAX_DELTA_DEPTH:
                continue
            delta = tree_delta(base, raw)
            if len(delta) * 2 < len(raw) and (best is None or len(delta) < len(best[1])):
                best = (base_sha, delta, depth + 1)
        if best is None:
            writer.add(ShaFile.from_raw_string(Tree.type_num, raw, sha=ObjectID(sha)))
        else:
            writer.add_delta(sha, best[0], best[1])
        window = [(sha, raw, best[2] if best else 0), *window][:DELTA_WINDOW]


def remove_multi_pack_index(store: DiskObjectStore) -> None:
    """Remove the multi-pack-index (`git multi-pack-index write`, `git maintenance`) and what
    goes with it. Git reads the packs without it (it is only a faster lookup) and its next
    maintenance writes a new one, but one that names a missing pack fails `git fsck` for good."""
    pack_dir = os.fspath(store.pack_dir)
    try:
        names = os.listdir(pack_dir)
    except FileNotFoundError:
        return
    for name in sorted(names, key=lambda n: n != "multi-pack-index"):  # the index first
        path = os.path.join(pack_dir, name)
        if name == "multi-pack-index.d":
            with contextlib.suppress(OSError):
                shutil.rmtree(path)
        elif name.startswith("multi-pack-index"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    midx, store._midx = store._midx, None  # dulwich's cached copy
    if midx is not None:
        midx.close()


def _delete_pack(store: DiskObjectStore, pack: Pack) -> None:
    """Remove a pack whose objects are all in another one: its index first, so that git and
    dulwich stop using it before its data goes."""
    base = pack._basename
    for suffix in (".idx", ".pack", ".rev", ".bitmap", ".mtimes"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(base + suffix)
    store._update_pack_cache()


# -- git's delta format -------------------------------------------------------------------------


def tree_delta(base: bytes, target: bytes) -> bytes:
    """A git delta turning raw tree `base` into raw tree `target`, in linear time.

    Trees are lists of `<mode> <name>\\0<20-byte sha>` entries: each entry of the target found
    whole in the base is copied from there (a run of them in one instruction), the others are
    inserted. A general byte delta of two large trees is much slower, and no smaller."""
    offsets = {entry: start for start, entry in _tree_entries(base)}
    out = bytearray(_varint(len(base)) + _varint(len(target)))
    copy_start, copy_len = 0, 0
    literal = bytearray()
    for _, entry in _tree_entries(target):
        start = offsets.get(entry)
        if start is not None and copy_len and start == copy_start + copy_len:
            copy_len += len(entry)
        elif start is not None:
            _insert(out, literal)
            _copy(out, copy_start, copy_len)
            copy_start, copy_len = start, len(entry)
        else:
            _copy(out, copy_start, copy_len)
            copy_len = 0
            literal += entry
    _insert(out, literal)
    _copy(out, copy_start, copy_len)
    return bytes(out)


def _tree_entries(raw: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of each entry of a raw tree."""
    start = 0
    while start < len(raw):
        end = raw.index(b"\0", start) + 1 + SHA_BYTES
        yield start, raw[start:end]
        start = end


def _varint(size: int) -> bytes:
    out = bytearray()
    while True:
        byte, size = size & 0x7F, size >> 7
        out.append(byte | (0x80 if size else 0))
        if not size:
            return bytes(out)


def _copy(out: bytearray, start: int, length: int) -> None:
    """Copy instructions for `length` bytes of the base from `start` (nothing if length 0)."""
    while length > 0:
        chunk = min(length, 0xFFFF)
        op, args = 0x80, bytearray()
        for i, value in enumerate(_le_bytes(start, 4) + _le_bytes(chunk, 2)):
            if value:
                op |= 1 << i
                args.append(value)
        out.append(op)
        out += args
        start, length = start + chunk, length - chunk


def _le_bytes(value: int, count: int) -> list[int]:
    return [(value >> (8 * i)) & 0xFF for i in range(count)]


def _insert(out: bytearray, literal: bytearray) -> None:
    """Insert instructions for `literal` (at most 127 bytes each), then clear it."""
    for i in range(0, len(literal), 127):
        piece = literal[i : i + 127]
        out.append(len(piece))
        out += piece
    literal.clear()
