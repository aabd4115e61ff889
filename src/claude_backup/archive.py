"""The archive: a git repository with a checked-out tree. The only module that imports dulwich.

Verbs: `Archive.open` (create or validate), `lock`, `changes` (working tree vs HEAD), `commit`
(one or more commits, the branch moved once, compare-and-swap), `read_head_file`.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import stat
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import filelock
from dulwich.errors import NotGitRepository
from dulwich.file import GitFile
from dulwich.index import Index, index_entry_from_stat
from dulwich.object_store import DiskObjectStore, commit_tree_changes, iter_tree_contents
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree
from dulwich.pack import (
    Pack,
    UnpackedObject,
    full_unpacked_object,
    write_pack_data,
    write_pack_index,
)
from dulwich.refs import Ref
from dulwich.repo import Repo

from .errors import ArchiveError, ArchiveLocked
from .files import DIR_MODE, archive_error, make_dirs, write_atomic
from .layout import MARKER, TEMP_PREFIX
from .render import json_bytes
from .state import DirSnapshot, dir_key, file_key, snapshot_path

FILE_GIT_MODE = 0o100644
LOOSE_OBJECTS_BEFORE_PACKING = 1  # every sync leaves its objects packed
BLOBS_BEFORE_PACKING = 64  # fewer new blobs are stored loose, more go straight into a pack
PACK_FILE_MODE = 0o444
PACK_CACHE_BYTES = 8 * 1024 * 1024
SMALL_PACK_BYTES = 4 * 1024 * 1024  # a sync of a few changes writes a pack of about 1 MB
PACKS_BEFORE_MERGING = 8
DELTA_TREES_FROM_BYTES = 4096
DELTA_WINDOW = 4
MAX_DELTA_DEPTH = 20
HEAD = Ref(b"HEAD")
MARKER_CONTENT = {"archive": "claude-backup", "format": 1}


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


class Archive:
    def __init__(self, root: Path, repo: Repo) -> None:
        self.root = root
        self.repo = repo
        self._open_index: Index | None = None  # read once per sync: it is the size of the tree
        self._trees: dict[str, Tree | None] = {}  # HEAD's folders read by `changes`
        self._scanned: tuple[dict[str, list[int]], set[str]] | None = None
        self._fresh: dict[bytes, str] = {}  # blob sha -> the file `changes` stored it from
        if isinstance(repo.object_store, DiskObjectStore):
            # dulwich keeps up to 96 MiB of objects per pack it reads; a sync reads each once
            repo.object_store.delta_base_cache_limit = PACK_CACHE_BYTES

    @classmethod
    def open(cls, root: Path) -> Archive:
        """Open the archive at `root`, creating it if the folder is missing or empty.

        Refuses a folder with other content, and a git repository that is not an archive of ours:
        we would otherwise commit someone's files or rewrite their history.
        """
        root = root.expanduser().absolute()
        if root.exists() and not root.is_dir():
            raise ArchiveError(f"{root} is not a directory")
        make_dirs(root)
        if not (root / ".git").exists():
            if any(root.iterdir()):
                raise ArchiveError(
                    f"{root} is not empty and not a claude-backup archive; choose an empty folder"
                )
            return cls._create(root)
        try:
            repo = Repo(str(root))
        except (NotGitRepository, OSError) as exc:
            raise ArchiveError(f"{root} holds a broken git repository: {exc}") from exc
        archive = cls(root, repo)
        if not archive._is_ours():
            raise ArchiveError(
                f"{root} is a git repository but not a claude-backup archive "
                f"(no {MARKER}); choose another folder"
            )
        return archive

    @classmethod
    def _create(cls, root: Path) -> Archive:
        if not os.access(root, os.W_OK):
            raise ArchiveError(f"cannot write {root}: permission denied")
        try:
            repo = Repo.init(str(root))
            repo.refs.set_symbolic_ref(HEAD, Ref(b"refs/heads/main"))
        except OSError as exc:
            raise ArchiveError(f"cannot create a git repository in {root}: {exc}") from exc
        os.chmod(root / ".git", DIR_MODE)
        exclude = root / ".git" / "info" / "exclude"
        make_dirs(exclude.parent)
        with open(exclude, "a", encoding="utf-8") as handle:
            handle.write(f"{TEMP_PREFIX}*\n")  # an interrupted write's leftovers
        archive = cls(root, repo)
        write_atomic(root / MARKER, json_bytes(MARKER_CONTENT))
        return archive

    def _is_ours(self) -> bool:
        if (self.root / MARKER).is_file():
            return True
        head = self.head()
        if head is None:  # an empty repository: only ours if nothing else is in it yet
            return not any(p.name != ".git" for p in self.root.iterdir())
        return self.read_head_file(MARKER) is not None

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the archive for one sync; a second sync fails fast instead of interleaving."""
        lock = filelock.FileLock(str(self.root / ".git" / "claude-backup.lock"), timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise ArchiveLocked(
                f"another claude-backup sync is running on {self.root}; wait for it to finish"
            ) from None
        except OSError as exc:
            raise archive_error(exc, self.root / ".git") from exc
        try:
            yield
        finally:
            lock.release()

    # -- reading --------------------------------------------------------------------------------

    def _head_ref(self) -> Ref:
        refs, _ = self.repo.refs.follow(HEAD)
        return refs[-1]

    def head(self) -> ObjectID | None:
        _, sha = self.repo.refs.follow(HEAD)
        return sha

    def _head_tree(self) -> ObjectID | None:
        head = self.head()
        if head is None:
            return None
        commit = self.repo[head]
        assert isinstance(commit, Commit)
        return ObjectID(commit.tree)

    def head_files(self) -> dict[str, bytes]:
        """Every file in HEAD: path -> blob sha."""
        tree = self._head_tree()
        if tree is None:
            return {}
        return {
            entry.path.decode("utf-8", "surrogateescape"): entry.sha
            for entry in iter_tree_contents(self.repo.object_store, tree)
            if entry.path is not None and entry.sha is not None
        }

    def read_blob(self, sha: bytes) -> bytes:
        """A blob's content; one `changes` just stored is read back from its file, not from the
        pack (dulwich maps packs into memory, so reading a whole new pack would hold it all)."""
        path = self._fresh.get(sha)
        if path is not None:
            with contextlib.suppress(OSError, ArchiveError):
                return _read_blob(path, sha).as_raw_string()
        blob = self.repo[ObjectID(sha)]
        assert isinstance(blob, Blob)
        return blob.as_raw_string()

    def read_head_file(self, path: str) -> bytes | None:
        tree = self._head_tree()
        if tree is None:
            return None
        root = self.repo.object_store[tree]
        assert isinstance(root, Tree)
        try:
            _, sha = root.lookup_path(self.repo.object_store.__getitem__, path.encode())
        except KeyError:
            return None
        return self.read_blob(sha)

    def last_commit(self) -> tuple[int, str] | None:
        """(commit time, first line of the message) of HEAD."""
        head = self.head()
        if head is None:
            return None
        commit = self.repo[head]
        assert isinstance(commit, Commit)
        return commit.commit_time, commit.message.decode("utf-8", "replace").split("\n", 1)[0]

    def remote_head(self, remote: str) -> bytes | None:
        """Where this archive last saw `remote`'s copy of our branch (None: never)."""
        branch = self._head_ref().removeprefix(b"refs/heads/")
        try:
            return self.repo.refs[Ref(b"refs/remotes/" + remote.encode() + b"/" + branch)]
        except KeyError:
            return None

    def changes(self) -> list[FileChange]:
        """Working tree vs HEAD, file by file; new content is added to the object store.

        Work is proportional to what changed: folders whose stat matches the last snapshot
        (state.DirSnapshot) are not read, only files whose stat differs from the git index are
        hashed, and many new blobs go straight into one pack, a file at a time. The index is
        only a stat cache, so a stale one (a run killed between moving the branch and writing
        the index) cannot hide a change.
        """
        snapshot = DirSnapshot.load(self._snapshot_path(), self._head_hex(), self._index_key())
        scan = _TreeScan(self, snapshot.dirs)
        scan.visit("")
        stored = self._store_blobs([full for _, full, _ in scan.candidates])
        changes = [
            FileChange(rel, old, new)
            for (rel, _, old), new in zip(scan.candidates, stored, strict=True)
            if new != old
        ]
        changes.sort(key=lambda c: c.path)
        changes.extend(sorted(scan.removed, key=lambda c: c.path))
        self._scanned = (scan.dirs, {c.path for c in changes})
        head = self._head_hex()
        if not changes and head is not None and scan.dirs != snapshot.dirs:
            snapshot.save(head, self._index_key(), scan.dirs)
        return changes

    def _snapshot_path(self) -> Path:
        return snapshot_path(self.root)

    def _head_hex(self) -> str | None:
        head = self.head()
        return head.decode("ascii") if head is not None else None

    def _index_key(self) -> list[int] | None:
        return file_key(Path(self.repo.index_path()))

    def _index(self) -> Index:
        if self._open_index is None:
            self._open_index = self.repo.open_index()
        return self._open_index

    def _tree_at(self, rel: str) -> Tree | None:
        """HEAD's tree of a folder (None if HEAD has no such folder); read once per sync."""
        if rel not in self._trees:
            tree: Tree | None = None
            if rel == "":
                sha = self._head_tree()
                found = self.repo[sha] if sha is not None else None
                tree = found if isinstance(found, Tree) else None
            else:
                parent_rel, _, name = rel.rpartition("/")
                parent = self._tree_at(parent_rel)
                key = name.encode("utf-8", "surrogateescape")
                if parent is not None and key in parent:
                    mode, sha = parent[key]
                    found = self.repo[sha] if stat.S_ISDIR(mode) else None
                    tree = found if isinstance(found, Tree) else None
            self._trees[rel] = tree
        return self._trees[rel]

    def _files_under(self, rel: str, tree_sha: bytes) -> Iterator[FileChange]:
        """A folder that is gone: every file HEAD has in it, removed."""
        for entry in iter_tree_contents(self.repo.object_store, ObjectID(tree_sha)):
            if entry.path is not None and entry.sha is not None:
                yield FileChange(
                    f"{rel}/{entry.path.decode('utf-8', 'surrogateescape')}", entry.sha, None
                )

    def _store_blobs(self, paths: Sequence[str]) -> list[bytes]:
        """Add these files' contents to the object store; their blob shas, in order.

        Content the store already has is not written again. A few new blobs are stored loose;
        more are streamed into one new pack (one file in memory at a time), which is faster
        and leaves nothing for a later repack to load."""
        store = self.repo.object_store
        shas = [_hash_file(path) for path in paths]
        self._fresh = dict(zip(shas, paths, strict=True))
        new = {sha: path for sha, path in zip(shas, paths, strict=True)}
        new = {sha: path for sha, path in new.items() if ObjectID(sha) not in store}
        if len(new) < BLOBS_BEFORE_PACKING or not isinstance(store, DiskObjectStore):
            for sha, path in new.items():
                store.add_object(_read_blob(path, sha))
            return shas
        blobs = (full_unpacked_object(_read_blob(path, sha)) for sha, path in new.items())
        _write_pack(store, len(new), blobs)
        return shas

    # -- writing --------------------------------------------------------------------------------

    def commit(
        self, steps: Sequence[CommitStep], *, author: str, when: float | None = None
    ) -> bytes:
        """Make the commits in order, then move the branch once (so an interruption leaves HEAD
        at the previous sync), then bring the index up to date with the working tree."""
        old_head = self.head()
        parent = old_head
        tree: ObjectID | Tree = self._head_tree() or Tree()
        if isinstance(tree, Tree):
            self.repo.object_store.add_object(tree)
        now = int(when if when is not None else time.time())
        for step in steps:
            changes = [
                (
                    path.encode("utf-8"),
                    FILE_GIT_MODE if sha else None,
                    ObjectID(sha) if sha else None,
                )
                for path, sha in step.entries
            ]
            tree = commit_tree_changes(self.repo.object_store, tree, changes)
            parent = self._make_commit(tree, parent, step.message, author, now)
        assert parent is not None
        if not self.repo.refs.set_if_equals(self._head_ref(), old_head, parent):
            raise ArchiveError("the archive's branch moved during the sync; run sync again")
        self._trees.clear()
        self._update_index(steps)
        self._save_snapshot(steps, parent)
        self._pack_if_needed()
        return parent

    def _save_snapshot(self, steps: Sequence[CommitStep], head: ObjectID) -> None:
        """Remember the scanned folders as matching the new commit, if it holds every change
        the scan found (a commit of some of them leaves the rest for the next scan to find)."""
        scanned, self._scanned = self._scanned, None
        snapshot = DirSnapshot(self._snapshot_path())
        committed = {path for step in steps for path, _ in step.entries}
        if scanned is None or not scanned[1] <= committed:
            snapshot.forget()
            return
        snapshot.save(head.decode("ascii"), self._index_key(), scanned[0])

    def _make_commit(
        self, tree: ObjectID, parent: ObjectID | None, message: str, author: str, now: int
    ) -> ObjectID:
        commit = Commit()
        commit.tree = tree
        commit.parents = [parent] if parent else []
        commit.author = author.encode("utf-8")
        commit.committer = b"claude-backup <claude-backup@localhost>"
        commit.author_time = commit.commit_time = now
        commit.author_timezone = commit.commit_timezone = 0
        commit.encoding = b"UTF-8"
        commit.message = message.encode("utf-8")
        self.repo.object_store.add_object(commit)
        return commit.id

    def _update_index(self, steps: Sequence[CommitStep]) -> None:
        index = self._index()
        final: dict[str, bytes | None] = {}
        for step in steps:
            final.update(step.entries)
        for path, sha in final.items():
            key = path.encode("utf-8")
            if sha is None:
                if key in index:
                    del index[key]
                continue
            try:
                st = os.lstat(self.root / path)
            except FileNotFoundError:
                continue
            index[key] = index_entry_from_stat(st, ObjectID(sha), FILE_GIT_MODE)
        index.write()

    def _pack_if_needed(self) -> None:
        """Pack this sync's loose objects, then merge the small packs of recent syncs once there
        are enough of them. Big trees go in as deltas of each other: a sync rewrites the tree of
        every folder it touches, and a folder of 10,000 chats is a tree of most of a megabyte."""
        store = self.repo.object_store
        if not isinstance(store, DiskObjectStore):
            return
        if sum(1 for _ in store._iter_loose_objects()) >= LOOSE_OBJECTS_BEFORE_PACKING:
            self.pack()
        small = [p for p in store.packs if os.path.getsize(p.data.path) < SMALL_PACK_BYTES]
        if len(small) >= PACKS_BEFORE_MERGING:
            _merge_packs(store, small)

    def pack(self) -> int:
        """Move loose objects into one pack, streamed (dulwich's own `pack_loose_objects` holds
        every loose object in memory at once). Returns how many objects were packed."""
        store = self.repo.object_store
        if not isinstance(store, DiskObjectStore):
            return 0
        loose = list(store._iter_loose_objects())
        if not loose:
            return 0
        big = [o for o in (store[sha] for sha in loose) if _big_tree(o)]  # a few per sync
        big_ids = {o.id for o in big}
        rest = (full_unpacked_object(store[sha]) for sha in loose if sha not in big_ids)
        _write_pack(store, len(loose), itertools.chain(rest, _deltified(big)))
        for sha in loose:
            store.delete_loose_object(sha)
        return len(loose)


class _TreeScan:
    """One pass over the working tree for `Archive.changes`, skipping folders known unchanged."""

    def __init__(self, archive: Archive, trusted: dict[str, list[int]]) -> None:
        self.archive = archive
        self.root = str(archive.root)
        self.trusted = trusted
        self.children: dict[str, list[str]] = {}
        for rel in trusted:
            if rel:
                self.children.setdefault(rel.rpartition("/")[0], []).append(rel)
        self.dirs: dict[str, list[int]] = {}
        self.candidates: list[tuple[str, str, bytes | None]] = []  # rel, full path, HEAD sha
        self.removed: list[FileChange] = []

    def visit(self, rel: str) -> None:
        full = os.path.join(self.root, rel) if rel else self.root
        try:
            key = dir_key(os.lstat(full))
        except FileNotFoundError:
            key = None
        if key is not None and self.trusted.get(rel) == key:
            self.dirs[rel] = key
            for child in self.children.get(rel, ()):
                self.visit(child)
            return
        tree = self.archive._tree_at(rel)
        head: dict[str, tuple[int, bytes]] = {}
        if tree is not None:
            for item in tree.iteritems():
                head[item.path.decode("utf-8", "surrogateescape")] = (item.mode, item.sha)
        files, folders = self._list(full, rel) if key is not None else ({}, [])
        if key is not None:
            self.dirs[rel] = key
        for name, st in files.items():
            path = f"{rel}/{name}" if rel else name
            mode, sha = head.get(name, (0, None))
            old = sha if sha is not None and not stat.S_ISDIR(mode) else None
            if old is None or not _index_matches(self.archive._index(), path, old, st):
                self.candidates.append((path, os.path.join(full, name), old))
        for name, (mode, sha) in head.items():
            path = f"{rel}/{name}" if rel else name
            if stat.S_ISDIR(mode):
                if name not in folders:
                    self.removed.extend(self.archive._files_under(path, sha))
            elif name not in files:
                self.removed.append(FileChange(path, sha, None))
        for name in folders:
            self.visit(f"{rel}/{name}" if rel else name)

    def _list(self, full: str, rel: str) -> tuple[dict[str, os.stat_result], list[str]]:
        files: dict[str, os.stat_result] = {}
        folders: list[str] = []
        with os.scandir(full) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if rel or entry.name != ".git":
                        folders.append(entry.name)
                elif not entry.name.startswith(TEMP_PREFIX):
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(st.st_mode):
                        files[entry.name] = st
        return files, sorted(folders)


def _big_tree(obj: ShaFile) -> bool:
    return isinstance(obj, Tree) and obj.raw_length() >= DELTA_TREES_FROM_BYTES


def _deltified(trees: list[ShaFile]) -> Iterator[UnpackedObject]:
    """Trees by size, each a delta of a similar one before it where that is much smaller: the
    versions of one folder have nearly the same size and share most entries."""
    trees.sort(key=lambda t: t.raw_length(), reverse=True)
    window: list[tuple[bytes, bytes, int]] = []  # (raw sha, content, delta depth)
    for tree in trees:
        raw = tree.as_raw_string()
        best: tuple[bytes, bytes, int] | None = None
        for base_sha, base, depth in window:
            delta = _tree_delta(base, raw)
            smaller = best is None or len(delta) < len(best[1])
            if depth < MAX_DELTA_DEPTH and len(delta) * 2 < len(raw) and smaller:
                best = (base_sha, delta, depth + 1)
        sha = tree.sha().digest()
        if best is None:
            yield full_unpacked_object(tree)
        else:
            yield UnpackedObject(
                tree.type_num,
                sha=sha,
                delta_base=best[0],
                decomp_len=len(best[1]),
                decomp_chunks=[best[1]],
            )
        window = [(sha, raw, best[2] if best else 0), *window][:DELTA_WINDOW]


def _tree_delta(base: bytes, target: bytes) -> bytes:
    """A git delta turning tree `base` into tree `target`: entries found in the base are
    copied from it (runs of them in one instruction), the others inserted. Linear time, where
    a general byte delta of two large trees takes most of a second."""
    offsets = {entry: start for start, entry in _tree_entries(base)}
    out = bytearray(_delta_size(len(base)) + _delta_size(len(target)))
    copy_start, copy_len = -1, 0
    literal = bytearray()
    for _, entry in _tree_entries(target):
        start = offsets.get(entry, -1)
        if start >= 0 and not literal and copy_len and start == copy_start + copy_len:
            copy_len += len(entry)
            continue
        _flush_copy(out, copy_start, copy_len)
        copy_start, copy_len = -1, 0
        if start >= 0:
            _flush_insert(out, literal)
            copy_start, copy_len = start, len(entry)
        else:
            literal += entry
    _flush_copy(out, copy_start, copy_len)
    _flush_insert(out, literal)
    return bytes(out)


def _tree_entries(raw: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of each entry of a raw tree: `<mode> <name>\0<20-byte sha>`."""
    start = 0
    while start < len(raw):
        end = raw.index(b"\0", start) + 21
        yield start, raw[start:end]
        start = end


def _delta_size(size: int) -> bytes:
    out = bytearray()
    while True:
        byte, size = size & 0x7F, size >> 7
        out.append(byte | (0x80 if size else 0))
        if not size:
            return bytes(out)


def _flush_copy(out: bytearray, start: int, length: int) -> None:
    while length > 0:
        chunk = min(length, 0xFFFF)
        op, args = 0x80, bytearray()
        for i in range(4):
            if (start >> (8 * i)) & 0xFF:
                op |= 1 << i
                args.append((start >> (8 * i)) & 0xFF)
        for i in range(2):
            if (chunk >> (8 * i)) & 0xFF:
                op |= 1 << (4 + i)
                args.append((chunk >> (8 * i)) & 0xFF)
        out.append(op)
        out += args
        start, length = start + chunk, length - chunk


def _flush_insert(out: bytearray, literal: bytearray) -> None:
    for i in range(0, len(literal), 127):
        piece = literal[i : i + 127]
        out.append(len(piece))
        out += piece
    literal.clear()


def _merge_packs(store: DiskObjectStore, packs: list[Pack]) -> None:
    """Merge small packs into one, with big trees as deltas; the other objects are streamed,
    one at a time, and only the big trees are held (a few per sync)."""
    seen: set[bytes] = set()
    big: list[ShaFile] = []
    for pack in packs:
        for obj in pack.iterobjects():
            if obj.id not in seen:
                seen.add(obj.id)
                if _big_tree(obj):
                    big.append(obj)
    big_ids = {t.id for t in big}

    def others() -> Iterator[UnpackedObject]:
        written: set[bytes] = set()
        for pack in packs:
            for obj in pack.iterobjects():
                if obj.id not in big_ids and obj.id not in written:
                    written.add(obj.id)
                    yield full_unpacked_object(obj)

    _write_pack(store, len(seen), itertools.chain(others(), _deltified(big)))
    paths = [os.fspath(pack.data.path) for pack in packs]
    store.close()  # let go of the merged packs before removing them
    for data in paths:  # the index first: git ignores a pack without one
        for path in (data.removesuffix(".pack") + ".idx", data):
            with contextlib.suppress(OSError):
                os.unlink(path)


def _hash_file(path: str) -> bytes:
    """The git blob sha of a file's content, read in chunks."""
    with open(path, "rb") as handle:
        digest = hashlib.sha1(b"blob %d\0" % os.fstat(handle.fileno()).st_size)
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest().encode("ascii")


def _read_blob(path: str, sha: bytes) -> Blob:
    """The blob of a file that was hashed to `sha` a moment ago (and must not have changed)."""
    with open(path, "rb") as handle:
        blob = Blob.from_string(handle.read())
    if blob.id != sha:
        raise ArchiveError(f"{path} changed while it was being saved; run sync again")
    return blob


def _write_pack(store: DiskObjectStore, count: int, objects: Iterator[UnpackedObject]) -> None:
    """Stream `count` objects into a new pack, then write its index (git's order: a pack only
    counts once its .idx exists, so an interruption leaves at most a stray temp file)."""
    fd, temp = tempfile.mkstemp(dir=store.pack_dir, prefix="tmp_pack_")
    try:
        with os.fdopen(fd, "wb") as handle:
            entries, checksum = write_pack_data(
                handle.write, objects, store.object_format, num_records=count
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, PACK_FILE_MODE)
        base = os.path.join(store.pack_dir, f"pack-{checksum.hex()}")
        os.replace(temp, base + ".pack")
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    index = sorted((sha, offset, crc) for sha, (offset, crc) in entries.items())
    with GitFile(base + ".idx", "wb", mask=PACK_FILE_MODE) as handle:
        write_pack_index(handle, index, checksum)


def _index_matches(index: Index, rel: str, sha: bytes, st: os.stat_result) -> bool:
    try:
        entry = index[rel.encode("utf-8")]
    except KeyError:
        return False
    mtime = entry.mtime  # type: ignore[union-attr]
    mtime_ns = mtime[0] * 1_000_000_000 + mtime[1] if isinstance(mtime, tuple) else int(mtime * 1e9)
    return (
        entry.sha == sha  # type: ignore[union-attr]
        and entry.size == st.st_size  # type: ignore[union-attr]
        and mtime_ns == st.st_mtime_ns
        and entry.ino == st.st_ino & 0xFFFFFFFF  # type: ignore[union-attr]
    )
