"""The archive: a git repository with a checked-out tree. With packing.py (how objects are
written into packs), the only module of the sync that imports dulwich.

Verbs: `Archive.open` (create or validate), `lock`, `changes` (working tree vs HEAD), `commit`
(one or more commits, the branch moved once, compare-and-swap), `read_head_file`.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import struct
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import filelock
from dulwich.errors import NotGitRepository
from dulwich.file import FileLocked
from dulwich.object_store import DiskObjectStore, iter_tree_contents
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from claude_backup.archive.files import (
    DIR_MODE,
    archive_error,
    flush_to_disk,
    inside_archive,
    make_dirs,
    write_atomic,
)
from claude_backup.archive.gitindex import IndexFile, IndexStat
from claude_backup.archive.packing import (
    SHA_BYTES,
    StreamingStore,
    merge_small_packs,
    pack_loose_objects,
    remove_leftovers,
    remove_stale_keeps,
)
from claude_backup.archive.worktree import (
    GITLINK,
    REGULAR,
    SYMLINK,
    WorkTree,
    file_mode,
    nested_head,
    read_link,
)
from claude_backup.errors import ArchiveError, ArchiveLocked, CommittedButFailed
from claude_backup.model.canonical import json_bytes
from claude_backup.model.changes import CommitStep, FileChange
from claude_backup.model.layout import ACCOUNT_FILE, MARKER, TEMP_PREFIX, parse_chat_path
from claude_backup.model.naming import uuid_of

FILE_GIT_MODE = REGULAR
COARSE_CLOCK_SLACK_NS = 2_000_000_000  # file systems with 1 or 2 s timestamps (FAT, HFS+)
FINE_CLOCK_SLACK_NS = 100_000_000  # nanosecond timestamps still advance in clock ticks
STALE_BRANCH_LOCK_SECONDS = 10
BRANCH_LOCK_WAIT_SECONDS = 3
PACK_CACHE_BYTES = 8 * 1024 * 1024  # per pack read; dulwich's default is 96 MiB
HEAD = Ref(b"HEAD")
BRANCH = Ref(b"refs/heads/main")
MARKER_CONTENT = {"archive": "claude-backup", "format": 1}

BIG_FILE_BYTES = 16 << 20  # a file this big is hashed and stored without reading it whole


class Archive:
    def __init__(self, root: Path, repo: Repo) -> None:
        self.root = root
        self.repo = repo
        self._loaded_index: tuple[ObjectID | None, IndexFile] | None = None  # by changes()
        self._hashed_at: dict[str, tuple[int, int, int]] = {}  # by changes(): for the index
        self._modes: dict[str, int] = {}  # by changes(): paths that are not a plain file
        self._gitlinks: set[bytes] = set()  # commits of nested repositories (not ours to read)
        # by write_file: inode -> binary sha, size, mtime (compact: a first sync writes 10,000s)
        self._written: dict[int, bytes] = {}
        store = repo.object_store
        if not isinstance(store, DiskObjectStore):
            raise ArchiveError(f"{root} is not a git repository on disk")
        store.delta_base_cache_limit = PACK_CACHE_BYTES
        self.objects = StreamingStore(store)  # new objects, written into one pack per sync
        # `.git` itself, or where a `.git` file points (a `git worktree add`): HEAD, the index
        # and our own files; the branches and objects are in the common folder (the same one
        # unless this is a worktree's).
        self.git_dir = Path(repo.controldir())
        self.common_dir = Path(repo.commondir())
        self.private_dir = self.git_dir / "claude-backup"  # our caches and records

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
        if (root / MARKER).is_file() or archive.read_head_file(MARKER) is not None:
            return archive
        if archive.head() is None and not any(p.name != ".git" for p in root.iterdir()):
            # `git init`, or the clone of a new empty remote: a fine place for a new archive.
            archive._adopt(set_branch=True)
            return archive
        if archive.head() is not None and archive._history_is_ours():
            archive._adopt(set_branch=False)  # the marker was lost: the next commit restores it
            return archive
        raise ArchiveError(
            f"{root} is a git repository but not a claude-backup archive "
            f"(no {MARKER}); choose another folder"
        )

    @classmethod
    def _create(cls, root: Path) -> Archive:
        if not os.access(root, os.W_OK):
            raise ArchiveError(f"cannot write {root}: permission denied")
        try:
            repo = Repo.init(str(root))
        except OSError as exc:
            raise ArchiveError(f"cannot create a git repository in {root}: {exc}") from exc
        os.chmod(root / ".git", DIR_MODE)
        archive = cls(root, repo)
        archive._adopt(set_branch=True)
        return archive

    def _adopt(self, *, set_branch: bool) -> None:
        """Make this repository an archive: the marker, temp files ignored, the branch `main`
        (only while it has no commits: a branch with history keeps its name)."""
        if not os.access(self.root, os.W_OK):
            raise ArchiveError(f"cannot write {self.root}: permission denied")
        try:
            if set_branch:
                self.repo.refs.set_symbolic_ref(HEAD, BRANCH)
            exclude = self.git_dir / "info" / "exclude"
            make_dirs(exclude.parent)
            known = exclude.read_text(encoding="utf-8") if exclude.is_file() else ""
            if f"{TEMP_PREFIX}*" not in known.splitlines():
                with open(exclude, "a", encoding="utf-8") as handle:
                    handle.write(f"{TEMP_PREFIX}*\n")  # an interrupted write's leftovers
        except OSError as exc:
            raise ArchiveError(f"cannot set up the git repository in {self.root}: {exc}") from exc
        write_atomic(self.root / MARKER, json_bytes(MARKER_CONTENT))

    def _history_is_ours(self) -> bool:
        """HEAD holds only what a sync writes: account folders `<name>-<uuid>` with an
        account.json, and nothing else at the top (dot files aside)."""
        tree = self._head_tree()
        if tree is None:
            return False
        root = self.repo.object_store[tree]
        assert isinstance(root, Tree)
        accounts = 0
        for item in root.items():
            name = item.path.decode("utf-8", "surrogateescape")
            if name.startswith("."):
                continue
            if not stat.S_ISDIR(item.mode) or uuid_of(name) is None:
                return False
            sub = self.repo.object_store[item.sha]
            if not isinstance(sub, Tree) or ACCOUNT_FILE.encode() not in sub:
                return False
            accounts += 1
        return accounts > 0

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the archive for one sync; a second sync fails fast instead of interleaving."""
        lock = filelock.FileLock(str(self.common_dir / "claude-backup.lock"), timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise ArchiveLocked(
                f"another claude-backup sync is running on {self.root}; wait for it to finish"
            ) from None
        except OSError as exc:
            raise archive_error(exc, self.common_dir) from exc
        try:
            self._check_writable()
            self._require_main()
            remove_leftovers(self.objects.store.pack_dir)  # of a sync killed while packing
            remove_stale_keeps(self.objects.store.pack_dir)
            self._remove_stale_branch_lock()
            yield
        finally:
            lock.release()

    def _check_writable(self) -> None:
        """Fail before fetching anything if git's folders cannot take a commit (a read-only
        mount, files owned by another user)."""
        pack_dir = Path(self.objects.store.pack_dir)
        for folder in (pack_dir, self.common_dir / "refs" / "heads", self.git_dir):
            if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
                raise ArchiveError(
                    f"cannot write {folder}: permission denied; the archive's git folder must "
                    "be writable by the user who syncs"
                )

    def _require_main(self) -> None:
        """The backup lives on `main`: that is what a sync extends and a push sends. With
        another branch checked out (a look at an old state, an experiment) or none, committing
        there would scatter the history, so nothing is written until `main` is checked out
        again. A linked worktree (`git worktree add`) is an archive of its own on the branch it
        was made with."""
        refs, _ = self.repo.refs.follow(HEAD)
        worktree = self.git_dir != self.common_dir
        if refs[-1] == BRANCH or (worktree and refs[-1].startswith(b"refs/heads/")):
            return
        if refs[-1] == HEAD:
            where = "a detached HEAD (no branch)"
        else:
            where = "branch " + refs[-1].decode("utf-8", "replace").removeprefix("refs/heads/")
        target = "its branch" if worktree else "main"
        raise ArchiveError(
            f"{self.root} has {where} checked out; claude-backup commits only to {target}: "
            f"run `git switch {'<branch>' if worktree else 'main'}` in the archive, then sync "
            "again"
        )

    def _remove_stale_branch_lock(self) -> None:
        """A sync killed while moving the branch leaves `<branch>.lock` behind, and every later
        commit would fail on it. git holds that lock for milliseconds and no other sync runs
        (we hold the archive's lock), so one older than a few seconds is left over."""
        lock = self._branch_lock_path()
        with contextlib.suppress(OSError):
            if time.time() - lock.stat().st_mtime > STALE_BRANCH_LOCK_SECONDS:
                lock.unlink()

    def _branch_lock_path(self) -> Path:
        ref = self._head_ref().decode("utf-8", "surrogateescape")
        return self.common_dir / f"{ref}.lock"

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
        with _missing_objects():
            commit = self.repo[head]
        assert isinstance(commit, Commit)
        return ObjectID(commit.tree)

    def _head_entries(self) -> dict[str, tuple[bytes, int]]:
        """Every path in HEAD: path -> (object id, mode)."""
        tree = self._head_tree()
        if tree is None:
            return {}
        with _missing_objects():
            return {
                entry.path.decode("utf-8", "surrogateescape"): (entry.sha, entry.mode)
                for entry in iter_tree_contents(self.repo.object_store, tree)
                if entry.path is not None and entry.sha is not None and entry.mode is not None
            }

    def read_blob(self, sha: bytes) -> bytes:
        """A blob's bytes; a nested repository's commit reads as empty (it is not ours)."""
        if sha in self._gitlinks:
            return b""
        with _missing_objects():
            return self.objects.read_raw(sha)

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

    def is_ancestor(self, old: bytes, new: bytes) -> bool:
        """Is commit `old` in the history of `new`? An unknown commit is not."""
        from dulwich.graph import can_fast_forward

        try:
            return bool(can_fast_forward(self.repo, ObjectID(old), ObjectID(new)))
        except KeyError:
            return False

    def remote_head(self, remote: str) -> bytes | None:
        """Where this archive last saw `remote`'s copy of our branch (None: never)."""
        branch = self._head_ref().removeprefix(b"refs/heads/")
        try:
            return self.repo.refs[Ref(b"refs/remotes/" + remote.encode() + b"/" + branch)]
        except KeyError:
            return None

    def changes(self) -> list[FileChange]:
        """Working tree vs HEAD, path by path, as git records paths (`worktree.py`: modes,
        symlinks, nested repositories, ignore rules); new content is added to the object store.

        Every file is stat'ed, as `git status` does; only files whose stat differs from the git
        index are read and hashed. The index stands for HEAD's file list only when the stamp
        this archive wrote with it says it was written for HEAD (reading HEAD's trees costs
        seconds on a large archive); otherwise HEAD's trees are read and the index is rebuilt
        from them, so a stale index (a run killed between moving the branch and writing the
        index, a `git checkout`) can neither hide a change nor stay stale. Leftovers of
        interrupted writes are deleted on the way.
        """
        head_commit = self.head()
        self._hashed_at = {}
        self._modes = {}
        trusted = self._index_is_head(head_commit)
        index = IndexFile.read(self._index_path()) if trusted else None
        if index is None:  # the slow way; the index is rebuilt below
            trusted = False
            index = IndexFile.read(self._index_path()) or IndexFile()
            head = self._head_entries()
        stats = index.stats()
        if trusted:
            head = {rel: (stat.sha, stat.mode) for rel, stat in stats.items()}
        tree = WorkTree(self.repo)
        walk = tree.walk(head, self._wrote)
        for path in walk.leftovers:
            with contextlib.suppress(OSError):
                os.unlink(path)
        racy_after = _racy_after(self._index_path())
        changes: list[FileChange] = []
        for rel, (st, kind) in walk.files.items():
            old, old_mode = head.get(rel, (None, None))
            mode = kind
            if kind == REGULAR:
                mode = file_mode(st, old_mode, tree.trust_exec_bit, tree.has_symlinks)
            if (
                old is not None
                and mode == old_mode
                and kind != GITLINK  # a nested repository's commit is not in its stat
                and _unchanged(stats.get(rel), old, st, racy_after)
            ):
                continue
            new = self._content(rel, st, kind, old)
            if new is None:
                continue  # gone, or a nested repository without a commit any more
            if mode != REGULAR:
                self._modes[rel] = mode
            if new != old or mode != old_mode:
                changes.append(FileChange(rel, old, new, mode))
                self._hashed_at[rel] = _stat_key(st)
            elif old is not None and not trusted:
                index.set(rel, old, mode, st if kind != GITLINK else None)
        changes.extend(
            FileChange(rel, sha, None, mode)
            for rel, (sha, mode) in head.items()
            if rel not in walk.files
        )
        self._written.clear()  # used: files written from here on are written after this walk
        changes.sort(key=lambda change: change.path)
        if not trusted:
            self._reset_index(index, head, head_commit)
        self._loaded_index = (head_commit, index)
        return changes

    def _wrote(self, rel: str, st: os.stat_result) -> bool:
        """Did the sync write this file (this run, or a chat file of an interrupted one)? The
        user's ignore rules never keep the backup's own files out of a commit."""
        return st.st_ino in self._written or parse_chat_path(rel) is not None

    def _content(self, rel: str, st: os.stat_result, kind: int, old: bytes | None) -> bytes | None:
        """The object id git would record for a path: stored unless it is HEAD's `old` (see
        `_store_blob`), or a nested repository's commit (that lives in that repository)."""
        full = self.root / rel
        if kind == GITLINK:
            sha = nested_head(str(full))
            if sha is not None:
                self._gitlinks.add(sha)
            return sha
        if kind == SYMLINK:
            try:
                target = read_link(self.root, rel)
            except OSError:
                return None
            blob = Blob.from_string(target)
            if blob.id != old:
                self.objects.add_object(blob)
            return blob.id
        written = self._written.get(st.st_ino)
        if written is not None and written[SHA_BYTES:] == _size_and_time(st):
            return written[:SHA_BYTES].hex().encode("ascii")  # by `write_file`, untouched
        return self._store_blob(str(full), old)

    def _index_is_head(self, head: ObjectID | None) -> bool:
        """Does the git index hold exactly HEAD's files? Known from the stamp written with it."""
        if head is None:  # no commit yet: only an index that is not there holds nothing
            return not self._index_path().exists()
        try:
            stamp = json.loads(self._stamp_path().read_bytes())
            st = os.stat(self._index_path())
        except (OSError, ValueError):
            return False
        return isinstance(stamp, dict) and stamp == {
            "head": head.decode("ascii"),
            "index": list(_stat_key(st)),
        }

    def _stamp_index(self, head: ObjectID) -> None:
        """Record that the index file, as it is now, holds HEAD's files (it was just written)."""
        with contextlib.suppress(OSError):  # no stamp only means a slower next sync
            st = os.stat(self._index_path())
            stamp = {"head": head.decode("ascii"), "index": list(_stat_key(st))}
            write_atomic(self._stamp_path(), json.dumps(stamp).encode("ascii"))

    def _stamp_path(self) -> Path:
        return self.private_dir / "index-stamp.json"

    def _reset_index(
        self, index: IndexFile, head: dict[str, tuple[bytes, int]], head_commit: ObjectID | None
    ) -> None:
        """Make the index hold HEAD's files again: unchanged files keep the stat just read,
        others get HEAD's blob with no stat (so they are hashed again); files not in HEAD go."""
        stats = index.stats()
        for rel in stats.keys() - head.keys():
            index.remove(rel)
        for rel, (sha, mode) in head.items():
            stat = stats.get(rel)
            if stat is None or stat.sha != sha or stat.mode != mode:
                index.set(rel, sha, mode, None)
        if index.write(self._index_path()) and head_commit is not None:
            self._stamp_index(head_commit)

    def _index_path(self) -> Path:
        return self.git_dir / "index"

    def write_file(self, path: Path, data: bytes) -> bytes | None:
        """Write a file of the working tree (atomically: `write_atomic`) and store its content
        ahead of the commit; `changes()` then takes the file's blob from here instead of
        reading and hashing it again, as long as the file's stat is still the one written.
        Returns the blob's sha, or None if the file already held `data`. Safe from threads."""
        path = inside_archive(self.root, path)
        if not write_atomic(path, data):
            return None
        sha = self.objects.add_blob(data)
        try:
            st = os.lstat(path)
        except OSError:
            return sha  # gone again already: `changes()` sees what is there
        self._written[st.st_ino] = bytes.fromhex(sha.decode("ascii")) + _size_and_time(st)
        return sha

    def place_file(self, temp: Path, path: Path) -> bytes:
        """Move a file written beside its place (a download streamed to disk) to `path`, its
        content stored ahead of the commit in constant memory, as `write_file` does for bytes.
        Returns the blob's sha."""
        path = inside_archive(self.root, path)
        try:
            if os.path.getsize(temp) > BIG_FILE_BYTES:
                sha = self.objects.add_blob_file(temp)
            else:  # small: one read beats a compressed copy beside the pack
                sha = self.objects.add_blob(temp.read_bytes())
            os.replace(temp, path)
            st = os.lstat(path)
        except OSError as exc:
            raise archive_error(exc, path) from exc
        self._written[st.st_ino] = bytes.fromhex(sha.decode("ascii")) + _size_and_time(st)
        return sha

    def _store_blob(self, full: str, old: bytes | None) -> bytes:
        """The file's blob sha; its content is stored unless it is HEAD's `old` blob (every
        object a commit adds must be in the sync's own pack: see `StreamingStore`)."""
        if os.path.getsize(full) > BIG_FILE_BYTES:  # not read whole: stored a chunk at a time
            return self.objects.add_blob_file(full, unless=old)
        with open(full, "rb") as handle:
            blob = Blob.from_string(handle.read())
        if blob.id != old:
            self.objects.add_object(blob)
        return blob.id

    # -- writing --------------------------------------------------------------------------------

    def commit(
        self, steps: Sequence[CommitStep], *, author: str, when: float | None = None
    ) -> bytes:
        """Make the commits in order, then move the branch once (so an interruption leaves HEAD
        at the previous sync, and the new objects are packed and on disk before the branch
        moves), then bring the index up to date with the working tree."""
        old_head = self.head()
        parent = old_head
        tree = self._head_tree()
        now = int(when if when is not None else time.time())
        for step in steps:
            changes = [
                (path.encode("utf-8", "surrogateescape"), sha, self._modes.get(path, FILE_GIT_MODE))
                for path, sha in step.entries
            ]
            tree = self._apply(tree, changes)
            if tree is None:  # nothing left: the empty tree
                empty = Tree()
                self.objects.add_object(empty)
                tree = empty.id
            parent = self._make_commit(tree, parent, step.message, author, now)
        assert parent is not None
        try:
            self.objects.flush()  # the pack stays kept from git's repacks until the branch moves
            flush_to_disk()  # the files and objects, before the branch names them
            moved = self._move_branch(old_head, parent)
        finally:
            self.objects.release()
        if not moved:
            raise ArchiveError("the archive's branch moved during the sync; run sync again")
        doing = "updating the git index"
        try:
            if self._update_index(steps, old_head):
                self._stamp_index(parent)
            flush_to_disk()  # the branch and the index
            doing = "packing the archive's objects"
            self._pack_if_needed()
        except (OSError, ArchiveError) as exc:
            reason = str(exc) if isinstance(exc, ArchiveError) else archive_error(exc, self.root)
            raise CommittedButFailed(
                f"the backup was committed ({parent.decode()[:12]}), but {doing} failed after "
                f"it: {reason}; the next sync does it again"
            ) from exc
        return parent

    def _move_branch(self, old: ObjectID | None, new: ObjectID) -> bool:
        """Compare-and-swap the branch. git holds a ref's lock for milliseconds (`git gc` packs
        refs, a `git commit`), so a lock held by someone is waited for, briefly."""
        deadline = time.monotonic() + BRANCH_LOCK_WAIT_SECONDS
        while True:
            try:
                return bool(self.repo.refs.set_if_equals(self._head_ref(), old, new))
            except FileLocked:
                if time.monotonic() > deadline:
                    raise ArchiveError(
                        f"{self._branch_lock_path()} exists: a git command is changing the "
                        "branch, or was interrupted; if none is running, delete that file and "
                        "sync again"
                    ) from None
                time.sleep(0.05)

    def _apply(
        self, tree_id: ObjectID | None, changes: Sequence[tuple[bytes, bytes | None, int]]
    ) -> ObjectID | None:
        """The tree `tree_id` (None: empty) with `changes` made (path -> object and mode, None
        removes); None if it ends up empty. New trees are stored; unchanged subtrees are not
        read. Not dulwich's `commit_tree_changes`: it fails when a folder becomes a file (or a
        link) in one commit, reading the new blob as the old subtree (dulwich 1.2.21)."""
        tree = Tree()
        if tree_id is not None:
            with _missing_objects():
                found = self.objects[tree_id]
            assert isinstance(found, Tree)
            tree = found
        nested: dict[bytes, list[tuple[bytes, bytes | None, int]]] = {}
        placed: set[bytes] = set()  # names given a file, symlink or gitlink here
        for path, sha, mode in changes:
            name, slash, rest = path.partition(b"/")
            if slash:
                nested.setdefault(name, []).append((rest, sha, mode))
            elif sha is not None:
                tree[name] = (mode, ObjectID(sha))
                placed.add(name)
            elif name in tree:
                del tree[name]
        for name, inner in nested.items():
            old = tree[name] if name in tree else None  # noqa: SIM401 (Tree has no get)
            sub = old[1] if old is not None and stat.S_ISDIR(old[0]) else None
            new = self._apply(sub, inner)
            if new is not None:
                tree[name] = (stat.S_IFDIR, new)
            elif name in tree and name not in placed:  # a folder replaced by a file stays
                del tree[name]
        if not len(tree):
            return None
        self.objects.add_built(tree)
        return tree.id

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
        self.objects.add_built(commit)
        return commit.id

    def _update_index(self, steps: Sequence[CommitStep], old_head: ObjectID | None) -> bool:
        """Bring the index from the old HEAD to the new one. True if it now holds the new HEAD's
        files; False if it could not be (stale or locked by git): the next sync rebuilds it."""
        loaded = self._loaded_index
        index = loaded[1] if loaded is not None and loaded[0] == old_head else None
        if index is None and self._index_is_head(old_head):
            index = IndexFile.read(self._index_path())
        if index is None:
            return False
        final: dict[str, bytes | None] = {}
        for step in steps:
            final.update(step.entries)
        for path, sha in final.items():
            if sha is None:
                index.remove(path)
                continue
            try:
                st: os.stat_result | None = os.lstat(self.root / path)
            except FileNotFoundError:
                st = None
            mode = self._modes.get(path, FILE_GIT_MODE)
            if st is not None and _stat_key(st) != self._hashed_at.get(path):
                st = None  # changed since it was hashed: the next sync hashes it again
            index.set(path, sha, mode, st if mode != GITLINK else None)
        self._loaded_index = None
        self._hashed_at = {}
        return index.write(self._index_path())

    def _pack_if_needed(self) -> None:
        """Leave no loose object (an archive written by an older version may have some), and
        merge the small packs of recent syncs once there are enough of them."""
        self.pack()
        merge_small_packs(self.objects.store)

    def pack(self) -> int:
        """Move loose objects into a pack, streamed (dulwich's own `pack_loose_objects` holds
        every loose object in memory at once). Returns how many objects were packed."""
        return pack_loose_objects(self.objects.store)


@contextmanager
def _missing_objects() -> Iterator[None]:
    """An object the history names but the repository lacks (deleted by hand, a damaged disk)
    is an archive error that says what to run, not a crash."""
    try:
        yield
    except KeyError as exc:
        sha = exc.args[0] if exc.args else b""
        name = sha.decode("ascii", "replace") if isinstance(sha, bytes) else str(sha)
        raise ArchiveError(
            f"the archive's git repository lacks object {name}, which its history names; "
            "run `git fsck --full` in the archive to see what is damaged"
        ) from None


def _size_and_time(st: os.stat_result) -> bytes:
    return struct.pack("<qq", st.st_size, st.st_mtime_ns)


def _stat_key(st: os.stat_result) -> tuple[int, int, int]:
    """What says a file is still the one seen: its size, modification time and inode."""
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _racy_after(index_file: Path) -> int:
    """Files modified this late (ns) may have changed again within the same clock tick after
    the index recorded their stat (git's "racy clean" problem): they are hashed, not trusted."""
    try:
        written = os.stat(index_file).st_mtime_ns
    except OSError:
        return 0
    coarse = written % 1_000_000_000 == 0  # a file system with whole-second times
    return written - (COARSE_CLOCK_SLACK_NS if coarse else FINE_CLOCK_SLACK_NS)


def _unchanged(stat: IndexStat | None, sha: bytes, st: os.stat_result, racy_after: int) -> bool:
    """Does the index say this file still holds blob `sha`, by its stat?"""
    return (
        stat is not None
        and st.st_mtime_ns < racy_after
        and stat.sha == sha
        and stat.size == st.st_size
        and stat.mtime_ns == st.st_mtime_ns
        and stat.ino == st.st_ino & 0xFFFFFFFF
    )
