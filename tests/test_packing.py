"""Packs written by claude-backup: the tree delta, the streamed pack writer, merging small packs,
and what real git says of the result (fsck, verify-pack, gc, clone), crashes included."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from dulwich.object_format import SHA1
from dulwich.objects import Blob, ObjectID, Tree
from dulwich.pack import Pack, apply_delta
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_backup.archive import packing
from claude_backup.archive.packing import PackWriter, remove_leftovers, tree_delta
from claude_backup.archive.repository import Archive
from claude_backup.errors import ArchiveError
from claude_backup.model.changes import CommitStep

AUTHOR = "Test <test@example.com>"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def pack_dir(repo: Path) -> Path:
    return repo / ".git" / "objects" / "pack"


def packs(repo: Path) -> list[Path]:
    return sorted(pack_dir(repo).glob("*.pack"))


def loose_objects(repo: Path) -> int:
    return sum(1 for _ in (repo / ".git" / "objects").glob("??/*"))


def verify_packs(repo: Path) -> list[str]:
    """`git verify-pack -v` of every pack (it fails on a pack that needs another's objects);
    a pack without its index is not one yet, git ignores it."""
    return [
        git(repo, "verify-pack", "-v", str(pack.with_suffix(".idx")))
        for pack in packs(repo)
        if pack.with_suffix(".idx").exists()
    ]


# -- the tree delta -----------------------------------------------------------------------------


def raw_tree(entries: dict[str, bytes]) -> bytes:
    tree = Tree()
    for name, sha in entries.items():
        tree.add(name.encode(), 0o100644, ObjectID(sha.hex().encode()))
    return tree.as_raw_string()


names = st.text(alphabet="abcdefghij-._0123456789", min_size=1, max_size=30)
shas = st.binary(min_size=20, max_size=20)
trees = st.dictionaries(names, shas, max_size=60)


@settings(max_examples=300, deadline=None)
@given(trees, trees, st.data())
def test_tree_delta_rebuilds_the_target(
    base: dict[str, bytes], other: dict[str, bytes], data: st.DataObject
) -> None:
    # targets that share much with the base (the usual case) and ones that share nothing
    kept = data.draw(st.sets(st.sampled_from(sorted(base)))) if base else set()
    target = {name: sha for name, sha in base.items() if name in kept} | other
    for old, new in ((base, target), (target, base), (base, other), (base, base)):
        old_raw, new_raw = raw_tree(old), raw_tree(new)
        delta = tree_delta(old_raw, new_raw)
        assert b"".join(apply_delta(old_raw, delta)) == new_raw


def test_tree_delta_of_a_small_edit_is_small() -> None:
    base = {
        f"chat-{i:05d}-a-title-of-some-length.json": hashlib.sha1(b"%d" % i).digest()
        for i in range(10_000)
    }
    target = dict(base)
    target["chat-00500-a-title-of-some-length.json"] = hashlib.sha1(b"new").digest()
    target["chat-05000-renamed.json"] = target.pop("chat-05000-a-title-of-some-length.json")
    del target["chat-09000-a-title-of-some-length.json"]
    base_raw, target_raw = raw_tree(base), raw_tree(target)
    # copies longer than 64 KiB are split, so a 600 KB tree takes a few dozen instructions
    started = time.perf_counter()
    delta = tree_delta(base_raw, target_raw)
    assert time.perf_counter() - started < 1
    assert len(delta) < 500
    assert b"".join(apply_delta(base_raw, delta)) == target_raw


# -- the pack writer ----------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def test_pack_writer_objects_read_back_before_and_after_finish(repo: Path) -> None:
    blobs = [Blob.from_string(content) for content in (b"", b"x", os.urandom(300_000) * 2)]
    tree = Tree()
    for i, blob in enumerate(blobs):
        tree.add(f"file-{i}".encode(), 0o100644, blob.id)
    bigger = Tree.from_string(tree.as_raw_string())
    bigger.add(b"file-again", 0o100644, blobs[1].id)
    writer = PackWriter(pack_dir(repo))
    for obj in (*blobs, tree):
        writer.add(obj)
    writer.add(blobs[1])  # a second time: stored once
    writer.add_delta(bigger.id, tree.id, tree_delta(tree.as_raw_string(), bigger.as_raw_string()))
    assert len(writer) == 5
    for obj in (*blobs, tree, bigger):
        assert writer.get(obj.id) == obj
    assert not packs(repo)  # nothing visible yet

    base = writer.finish()
    assert base is not None
    name = Path(base).name
    assert {p.name for p in pack_dir(repo).iterdir()} == {name + ".idx", name + ".pack"}
    (listing,) = verify_packs(repo)
    assert f"{bigger.id.decode()} tree" in listing and "chain length = 1: 1 object" in listing
    for obj in (*blobs, tree, bigger):
        kind = obj.type_name.decode()
        assert git(repo, "cat-file", "-t", obj.id.decode()).strip() == kind
    assert git(repo, "cat-file", "-p", bigger.id.decode()).count("\n") == 4
    with Pack(base, object_format=SHA1) as pack:
        for obj in (*blobs, tree, bigger):
            assert pack[obj.id] == obj
    git(repo, "fsck", "--full", "--strict")


def test_an_empty_or_abandoned_pack_leaves_nothing(repo: Path) -> None:
    assert PackWriter(pack_dir(repo)).finish() is None
    writer = PackWriter(pack_dir(repo))
    writer.add(Blob.from_string(b"dropped"))
    writer.abort()
    assert list(pack_dir(repo).iterdir()) == []


def test_leftovers_of_an_interrupted_write_are_removed(repo: Path) -> None:
    folder = pack_dir(repo)
    writer = PackWriter(folder)
    writer.add(Blob.from_string(b"kept"))
    kept = Path(str(writer.finish()))
    ours = folder / (packing.PACK_TEMP_PREFIX + "abc")
    someone_elses = folder / "tmp_pack_123"  # git's own, maybe being written right now
    old_orphan = folder / ("pack-" + "1" * 40 + ".pack")
    new_orphan = folder / ("pack-" + "2" * 40 + ".pack")
    for path in (ours, someone_elses, old_orphan, new_orphan):
        path.write_bytes(b"PACK")
    an_hour_ago = time.time() - packing.ORPHAN_AGE_SECONDS - 10
    os.utime(old_orphan, (an_hour_ago, an_hour_ago))
    remove_leftovers(folder)
    left = {p.name for p in folder.iterdir()}
    assert left == {
        kept.name + ".pack",
        kept.name + ".idx",
        someone_elses.name,
        new_orphan.name,
    }


# -- the archive: one pack per sync, small packs merged -----------------------------------------


def commit_files(archive: Archive, files: dict[str, bytes | None], message: str = "sync") -> None:
    for rel, content in files.items():
        path = archive.root / rel
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    changes = archive.changes()
    archive.commit(
        [CommitStep([(c.path, c.new_sha) for c in changes], message)], author=AUTHOR, when=1e9
    )


def chat(i: int, version: int = 0) -> bytes:
    return b'{"uuid": "%d", "version": %d, "text": "%s"}\n' % (i, version, b"words " * (i % 50))


def test_a_sync_leaves_one_pack_and_no_loose_object(tmp_path: Path) -> None:
    archive = Archive.open(tmp_path / "archive")
    commit_files(archive, {f"org/chats/chat-{i}.json": chat(i) for i in range(200)})
    assert loose_objects(archive.root) == 0
    assert len(packs(archive.root)) == 1
    subprocess.run(
        ["git", "-C", str(archive.root), "hash-object", "-w", "--stdin"],
        input=b"left loose by an older version",
        check=True,
        capture_output=True,
    )
    commit_files(archive, {"org/chats/chat-1.json": chat(1, 1)})
    assert loose_objects(archive.root) == 0
    assert len(packs(archive.root)) == 3  # the sync's own, and the loose objects'
    verify_packs(archive.root)
    git(archive.root, "fsck", "--full", "--strict")
    assert git(archive.root, "status", "--porcelain") == ""


def test_new_blobs_are_read_back_before_the_commit(tmp_path: Path) -> None:
    archive = Archive.open(tmp_path / "archive")
    commit_files(archive, {"a.json": b"first"})
    (archive.root / "a.json").write_bytes(b"second")
    (archive.root / "b.json").write_bytes(b"new")
    changes = {c.path: c for c in archive.changes()}
    assert not list(archive.root.glob(".git/objects/??/*"))
    new_a, new_b = changes["a.json"].new_sha, changes["b.json"].new_sha
    old_a = changes["a.json"].old_sha
    assert new_a and new_b and old_a
    assert archive.read_blob(new_a) == b"second"
    assert archive.read_blob(new_b) == b"new"
    assert archive.read_blob(old_a) == b"first"


def test_small_packs_are_merged_with_big_trees_as_deltas(tmp_path: Path) -> None:
    archive = Archive.open(tmp_path / "archive")
    commit_files(archive, {f"org/chats/chat-{i:04d}.json": chat(i) for i in range(400)})
    history = [git(archive.root, "rev-parse", "HEAD").strip()]
    for sync_no in range(1, 3 * packing.PACKS_BEFORE_MERGING + 2):
        files: dict[str, bytes | None] = {
            f"org/chats/chat-{(sync_no * 7 + k) % 400:04d}.json": chat(k, sync_no) for k in range(3)
        }
        files[f"org/chats/new-{sync_no}.json"] = chat(sync_no, 99)
        if sync_no % 5 == 0:
            files[f"org/chats/new-{sync_no - 1}.json"] = None
        commit_files(archive, files, f"sync {sync_no}")
        history.append(git(archive.root, "rev-parse", "HEAD").strip())
        assert len(packs(archive.root)) < packing.PACKS_BEFORE_MERGING
    assert loose_objects(archive.root) == 0
    listings = verify_packs(archive.root)  # each pack is whole: no base in another pack
    assert any("chain length" in listing for listing in listings)
    git(archive.root, "fsck", "--full", "--strict")
    assert git(archive.root, "rev-list", "HEAD").split() == history[::-1]
    expected = {commit: git(archive.root, "ls-tree", "-r", commit) for commit in history}

    # what dulwich reads, git reads; and git's own maintenance works on the result
    reopened = Archive.open(archive.root)
    for commit in history:
        assert reopened.repo[commit.encode()].tree  # type: ignore[attr-defined]
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(archive.root), str(clone)], check=True)
    assert git(clone, "ls-tree", "-r", "HEAD") == expected[history[-1]]
    for path in (archive.root / "org" / "chats").iterdir():
        assert (clone / "org" / "chats" / path.name).read_bytes() == path.read_bytes()
    git(archive.root, "gc", "--quiet")
    git(archive.root, "fsck", "--full", "--strict")
    for commit, listing in expected.items():
        assert git(archive.root, "ls-tree", "-r", commit) == listing
    # and we go on after git gc, merging its pack (which holds deltas of every kind) with ours
    (gc_pack,) = packs(archive.root)  # (git gc also leaves unreachable objects loose)
    for sync_no in range(packing.PACKS_BEFORE_MERGING):
        commit_files(archive, {f"org/chats/after-gc-{sync_no}.json": b"{}"})
    assert not gc_pack.exists() and len(packs(archive.root)) < packing.PACKS_BEFORE_MERGING
    assert loose_objects(archive.root) == 0
    verify_packs(archive.root)
    git(archive.root, "fsck", "--full", "--strict")
    for commit, listing in expected.items():
        assert git(archive.root, "ls-tree", "-r", commit) == listing


def test_merged_packs_merge_again_in_tiers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packing, "PACKS_BEFORE_MERGING", 3)
    archive = Archive.open(tmp_path / "archive")
    commit_files(archive, {f"chats/chat-{i:04d}.json": chat(i) for i in range(300)})
    first = packs(archive.root)[0].stat().st_size
    # the first sync's pack stays out of the first tier, not out of the second
    monkeypatch.setattr(packing, "MERGE_TIERS_BYTES", (first // 2, first * 10))
    counts = []
    for sync_no in range(20):
        commit_files(archive, {"chats/chat-0001.json": b"version %d" % sync_no})
        counts.append(len(packs(archive.root)))
    assert max(counts) < 2 * packing.PACKS_BEFORE_MERGING
    assert counts.count(1) >= 2  # the second tier merged everything, more than once
    verify_packs(archive.root)
    git(archive.root, "fsck", "--full", "--strict")
    assert git(archive.root, "rev-list", "--count", "HEAD").strip() == "21"


def test_a_damaged_pack_is_reported_not_merged(tmp_path: Path) -> None:
    archive = Archive.open(tmp_path / "archive")
    commit_files(archive, {"chats/a.json": b"a" * 1000})
    damaged = packs(archive.root)[0]
    os.chmod(damaged, 0o644)
    with open(damaged, "r+b") as handle:  # a byte in the middle of the first object's data
        handle.seek(20)
        byte = handle.read(1)
        handle.seek(20)
        handle.write(bytes([byte[0] ^ 0xFF]))
    for sync_no in range(packing.PACKS_BEFORE_MERGING - 2):
        commit_files(archive, {"chats/b.json": b"b %d" % sync_no})
    with pytest.raises(ArchiveError, match="damaged"):
        commit_files(archive, {"chats/b.json": b"last"})
    assert damaged.exists()  # kept for git fsck and the user to see


# -- crashes ------------------------------------------------------------------------------------

CRASHING_SYNC = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from claude_backup.archive import packing
    from claude_backup.archive.repository import Archive, CommitStep

    root, call, stop = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    seen = 0
    real = getattr(os, call)

    def crash(*args, **kwargs):
        global seen
        if sys._getframe(1).f_code.co_filename == packing.__file__:
            seen += 1
        if seen == stop:
            os._exit(99)
        return real(*args, **kwargs)

    archive = Archive.open(root)
    (root / "chats" / f"extra-{stop}-{call}.json").write_text("new content")
    (root / "chats" / "chat-0001.json").write_text(f"edited {stop} {call}")
    changes = archive.changes()
    setattr(os, call, crash)
    archive.commit([CommitStep([(c.path, c.new_sha) for c in changes], "sync")], author="T <t@e>")
    """
)


@pytest.mark.parametrize("call", ["replace", "fsync", "unlink"])
def test_a_sync_killed_while_packing_leaves_the_previous_commit(tmp_path: Path, call: str) -> None:
    """Kill the writing process at each rename, fsync or removal of packing.py in turn (its
    own pack, then merging the small packs); each time git must find the repository sound,
    at the previous commit or the new one, and the next sync must succeed and clean up."""
    template = Archive.open(tmp_path / "template")
    commit_files(template, {f"chats/chat-{i:04d}.json": chat(i) for i in range(300)})
    for _ in range(packing.PACKS_BEFORE_MERGING - 2):  # the next sync merges
        commit_files(template, {"chats/chat-0002.json": os.urandom(8).hex().encode()})
    before = git(template.root, "rev-parse", "HEAD").strip()
    stop = 1
    while True:
        root = tmp_path / f"run-{stop}"
        shutil.copytree(template.root, root, symlinks=True)
        script = [sys.executable, "-c", CRASHING_SYNC, str(root), call, str(stop)]
        done = subprocess.run(script, capture_output=True, text=True)
        git(root, "fsck", "--full", "--strict")
        verify_packs(root)
        if done.returncode == 0:
            break
        assert done.returncode == 99, done.stderr
        after = git(root, "rev-parse", "HEAD").strip()
        if after != before:  # killed after the branch moved: the commit is whole
            edited = git(root, "show", f"{after}:chats/chat-0001.json")
            assert edited == f"edited {stop} {call}"
        # the next sync commits what the killed one had not, and cleans up
        commit_files(Archive.open(root), {"chats/chat-0003.json": b"after the crash"})
        git(root, "fsck", "--full", "--strict")
        assert git(root, "status", "--porcelain") == ""
        assert git(root, "show", "HEAD:chats/chat-0001.json") == f"edited {stop} {call}"
        assert not list(pack_dir(root).glob(packing.PACK_TEMP_PREFIX + "*"))
        assert loose_objects(root) == 0
        stop += 1
    assert len(packs(root)) == 1  # the last run merged them
    assert stop > {"replace": 4, "fsync": 4, "unlink": 2 * packing.PACKS_BEFORE_MERGING}[call]


def test_taking_the_lock_removes_a_killed_syncs_temporary_pack(tmp_path: Path) -> None:
    archive = Archive.open(tmp_path / "archive")
    leftover = pack_dir(archive.root) / (packing.PACK_TEMP_PREFIX + "killed")
    leftover.write_bytes(b"PACK" + b"\0" * 1000)
    with archive.lock():
        assert not leftover.exists()
