"""Change detection of the archive (working tree vs HEAD) and the git index it keeps, checked
against real git: whatever happened to the tree or the index, `changes()` sees every change, and
after a commit `git status` is clean."""

from __future__ import annotations

import os
import random
import subprocess
import time
from pathlib import Path

import pytest
from dulwich.repo import Repo
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_backup.archive.gitindex import IndexFile
from claude_backup.archive.repository import Archive
from claude_backup.errors import ArchiveError
from claude_backup.model.changes import FileChange
from conftest import commit_all, git


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    archive = Archive.open(tmp_path / "archive")
    for n in range(20):
        write(archive.root, f"acct/org/chats/chat-{n}.json", f'{{"n": {n}}}\n')
        write(archive.root, f"acct/org/chat-files/chat-{n}/index.json", f"[{n}]\n")
    commit_all(archive)
    return archive


def paths(changes: list[FileChange]) -> list[str]:
    return [c.path for c in changes]


def test_nothing_changed_after_a_commit_and_git_agrees(archive: Archive) -> None:
    assert archive.changes() == []
    assert git(archive.root, "status", "--porcelain") == ""
    git(archive.root, "fsck", "--full", "--strict")


def test_every_kind_of_change_in_nested_folders_is_seen(archive: Archive) -> None:
    root = archive.root
    write(root, "acct/org/chats/chat-3.json", '{"n": 33}\n')  # replaced, as a sync does
    with open(root / "acct/org/chat-files/chat-4/index.json", "r+") as handle:
        handle.write("[9]")  # edited in place: same size, same inode, same folder mtime
    (root / "acct/org/chats/chat-5.json").unlink()
    write(root, "acct/org/chat-files/chat-6/artifacts/a.md", "new\n")
    os.rename(root / "acct/org/chats/chat-7.json", root / "acct/org/chats/renamed-7.json")
    changes = commit_all(archive)
    assert paths(changes) == sorted(
        [
            "acct/org/chat-files/chat-4/index.json",
            "acct/org/chat-files/chat-6/artifacts/a.md",
            "acct/org/chats/chat-3.json",
            "acct/org/chats/chat-5.json",
            "acct/org/chats/chat-7.json",
            "acct/org/chats/renamed-7.json",
        ]
    )
    assert git(root, "status", "--porcelain") == ""
    assert archive.changes() == []


def test_a_stale_index_neither_hides_a_change_nor_stays_stale(archive: Archive) -> None:
    """A run killed after moving the branch but before writing the index."""
    root = archive.root
    saved = (root / ".git" / "index").read_bytes()
    write(root, "acct/org/chats/chat-1.json", '{"n": 11}\n')
    commit_all(archive)
    (root / ".git" / "index").write_bytes(saved)  # the index of the commit before
    assert archive.changes() == []  # the tree matches HEAD
    assert git(root, "status", "--porcelain") == ""  # and the index was rebuilt
    write(root, "acct/org/chats/chat-1.json", '{"n": 111}\n')
    assert paths(archive.changes()) == ["acct/org/chats/chat-1.json"]


def test_an_index_rewritten_by_git_is_still_read_right(archive: Archive) -> None:
    root = archive.root
    git(root, "update-index", "--refresh")
    git(root, "status")
    write(root, "acct/org/chats/chat-2.json", '{"n": 22}\n')
    assert paths(commit_all(archive)) == ["acct/org/chats/chat-2.json"]
    assert git(root, "status", "--porcelain") == ""


def test_a_git_checkout_of_an_older_commit_is_seen(archive: Archive) -> None:
    root = archive.root
    first = git(root, "rev-parse", "HEAD").strip()
    write(root, "acct/org/chats/chat-2.json", '{"n": 22}\n')
    commit_all(archive)
    git(root, "checkout", "-q", first, "--", ".")  # tree and index of the older commit
    assert paths(archive.changes()) == ["acct/org/chats/chat-2.json"]


def test_a_fresh_clone_has_no_changes(archive: Archive, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(archive.root), str(clone)], check=True)
    assert Archive.open(clone).changes() == []


def test_leftover_temp_files_are_removed_and_never_committed(archive: Archive) -> None:
    leftover = archive.root / "acct/org/chats/.claude-backup-tmp-123-chat-1.json"
    leftover.write_text("half a chat")
    assert archive.changes() == []
    assert not leftover.exists()


def test_an_unreadable_folder_is_an_error_not_a_deletion(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_scandir = os.scandir
    unreadable = str(archive.root / "acct/org/chats")

    def scandir(path: str) -> object:
        if str(path) == unreadable:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(PermissionError):
        archive.changes()


def test_the_fast_index_reader_agrees_with_dulwich(archive: Archive) -> None:
    root = archive.root
    git(root, "update-index", "--refresh")  # an index written by git itself
    read = IndexFile.read(root / ".git" / "index")
    ours = read.stats() if read is not None else None
    index = Repo(str(root)).open_index()
    assert ours is not None and set(ours) == {p.decode() for p in index.paths()}
    for path, entry in index.items():
        stat = ours[path.decode()]
        assert (stat.sha, stat.size, stat.ino) == (entry.sha, entry.size, entry.ino)  # type: ignore[union-attr]


def test_the_fast_index_reader_leaves_other_forms_to_dulwich(archive: Archive) -> None:
    index_file = archive.root / ".git" / "index"
    data = index_file.read_bytes()
    assert IndexFile.parse(data[:-1] + bytes([data[-1] ^ 1])) is None  # damaged
    assert IndexFile.parse(data[:30]) is None
    git(archive.root, "update-index", "--index-version", "4")
    assert IndexFile.read(index_file) is None
    write(archive.root, "acct/org/chats/chat-2.json", '{"n": 22}\n')
    assert paths(commit_all(archive)) == ["acct/org/chats/chat-2.json"]


def test_a_path_longer_than_the_index_name_field(tmp_path: Path) -> None:
    """Names of 4,095 bytes or more are NUL-terminated, not counted, in the index (git writes
    them so; dulwich 1.2 does not, and its index is then left to dulwich to read)."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    sha = (
        subprocess.run(
            ["git", "-C", str(tmp_path), "hash-object", "-w", "--stdin"],
            input=b"hi\n",
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    names = ["short.json", "d/" * 2500 + "long.json", "é/ünïcode.json"]
    for name in names:
        git(tmp_path, "update-index", "--add", "--cacheinfo", f"100644,{sha},{name}")
    index = IndexFile.read(tmp_path / ".git" / "index")
    assert index is not None
    stats = index.stats()
    assert {rel: stat.sha.decode() for rel, stat in stats.items()} == dict.fromkeys(names, sha)


def test_the_index_we_write_is_what_git_and_dulwich_read(archive: Archive) -> None:
    root = archive.root
    write(root, "acct/org/chats/ünïcode 中文 chat.json", "{}\n")
    commit_all(archive)
    index = Repo(str(root)).open_index()  # dulwich
    read = IndexFile.read(root / ".git" / "index")
    ours = read.stats() if read is not None else None
    assert ours is not None
    assert {p.decode(): e.sha for p, e in index.items()} == {  # type: ignore[union-attr]
        rel: stat.sha for rel, stat in ours.items()
    }
    listed = git(root, "ls-files", "-s", "-z").split("\0")
    assert {line.split("\t", 1)[1]: line.split()[1] for line in listed if line} == {
        rel: stat.sha.decode() for rel, stat in ours.items()
    }
    git(root, "fsck", "--full", "--strict")
    assert git(root, "status", "--porcelain") == ""


def test_an_index_locked_by_git_is_left_alone_and_rebuilt_later(archive: Archive) -> None:
    root = archive.root
    lock = root / ".git" / "index.lock"
    lock.write_bytes(b"")
    write(root, "acct/org/chats/chat-8.json", '{"n": 88}\n')
    assert paths(commit_all(archive)) == ["acct/org/chats/chat-8.json"]
    assert lock.read_bytes() == b""  # not ours to take
    lock.unlink()
    assert archive.changes() == []  # the stale index is seen as such
    assert git(root, "status", "--porcelain") == ""


names = st.binary(min_size=1, max_size=5000).filter(lambda b: b"\0" not in b)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(names, st.binary(min_size=20, max_size=20), max_size=8))
def test_index_entries_survive_writing_and_reading(entries: dict[bytes, bytes]) -> None:
    index = IndexFile()
    for name, sha in entries.items():
        index.set(name.decode("utf-8", "surrogateescape"), sha.hex().encode(), 0o100644, None)
    back = IndexFile.parse(index.serialize())
    assert back is not None and back.entries == index.entries


def test_a_branch_lock_left_by_a_killed_sync_is_removed_a_fresh_one_reported(
    archive: Archive,
) -> None:
    root = archive.root
    lock = root / ".git" / "refs" / "heads" / "main.lock"
    write(root, "acct/org/chats/chat-9.json", '{"n": 99}\n')
    lock.write_text("")
    with pytest.raises(ArchiveError, match=r"main\.lock exists"):
        commit_all(archive)
    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"
    old = time.time() - 60
    os.utime(lock, (old, old))
    with archive.lock():
        assert not lock.exists()
        assert paths(commit_all(archive)) == ["acct/org/chats/chat-9.json"]
    git(root, "fsck", "--full", "--strict")


def files_differing_from_head(root: Path) -> set[str]:
    """The oracle: every path whose content differs from HEAD, by hashing every file with git."""
    head = {}
    for line in git(root, "ls-tree", "-r", "-z", "HEAD").split("\0"):
        if line:
            meta, path = line.split("\t", 1)
            head[path] = meta.split()[2]
    tree = {
        str(p.relative_to(root)): p
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }
    differing = set(head) ^ set(tree)
    both = sorted(set(head) & set(tree))
    if both:
        out = subprocess.run(
            ["git", "-C", str(root), "hash-object", "--no-filters", "--stdin-paths"],
            input="\n".join(both),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        differing |= {path for path, sha in zip(both, out, strict=True) if head[path] != sha}
    return differing


@pytest.mark.parametrize("seed", range(4))
def test_changes_agree_with_git_through_random_edits(archive: Archive, seed: int) -> None:
    """Random edits of every kind (replaced, edited in place with the same size, removed,
    renamed, new nested folders, rewritten with the same bytes), commits, index rewrites by
    git itself and stale indexes: `changes()` always names exactly the files whose content
    differs from HEAD, and after a commit git sees a clean tree."""
    rng = random.Random(seed)
    root = archive.root
    old_index = (root / ".git" / "index").read_bytes()
    for step in range(60):
        files = sorted(
            str(p.relative_to(root))
            for p in root.rglob("*.json")
            if ".git" not in p.relative_to(root).parts and not p.name.startswith(".")
        )
        actions = ["replace", "in_place", "remove", "rename", "new", "same", "git", "stale"]
        action = rng.choice(actions)
        target = root / rng.choice(files)
        if action == "replace":
            write(root, str(target.relative_to(root)), f'{{"step": {step}}}\n')
        elif action == "in_place":
            data = bytearray(target.read_bytes())
            data[0:1] = b"[" if data[:1] != b"[" else b"{"
            with open(target, "r+b") as handle:
                handle.write(data)
        elif action == "remove" and len(files) > 5:
            target.unlink()
        elif action == "rename":
            target.rename(target.with_name(f"renamed-{step}.json"))
        elif action == "new":
            depth = "/".join(f"d{rng.randrange(3)}" for _ in range(rng.randrange(1, 4)))
            write(root, f"acct/org/{depth}/new-{step}.json", f"[{step}]\n")
        elif action == "same":
            write(root, str(target.relative_to(root)), target.read_text())
        elif action == "git":
            git(root, "status", "--porcelain")  # git refreshes and rewrites the index
        elif action == "stale":  # the index of an older commit, as a run killed after its commit
            (root / ".git" / "index").write_bytes(old_index)
        expected = files_differing_from_head(root)
        assert set(paths(archive.changes())) == expected, (step, action)
        if rng.random() < 0.3:
            old_index = (root / ".git" / "index").read_bytes()
            commit_all(archive)
            assert git(root, "status", "--porcelain", "--untracked-files=all") == ""


def hash_object(root: Path, rel: str) -> bytes:
    return git(root, "hash-object", "--no-filters", rel).strip().encode()


def test_files_written_through_the_archive_are_not_hashed_again_unless_touched(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = archive.root
    for rel in ("acct/org/chats/new.json", "acct/org/chats/edited.json", "acct/org/x/y/z.json"):
        assert archive.write_file(root / rel, b'{"written": true}\n') is not None
    assert archive.write_file(root / "acct/org/x/y/z.json", b'{"written": true}\n') is None
    time.sleep(0.01)
    write(root, "acct/org/chats/edited.json", '{"edited": "by someone else"}\n')
    hashed: list[str] = []
    store_blob = archive._store_blob

    def counting(full: str, old: bytes | None) -> bytes:
        hashed.append(os.path.relpath(full, root))
        return store_blob(full, old)

    monkeypatch.setattr(archive, "_store_blob", counting)
    changes = {c.path: c.new_sha for c in archive.changes()}
    # (files the fixture committed a moment ago are hashed too: racily clean)
    assert "acct/org/chats/edited.json" in hashed
    assert not {"acct/org/chats/new.json", "acct/org/x/y/z.json"} & set(hashed)
    assert changes == {rel: hash_object(root, rel) for rel in changes}
    assert set(changes) == {
        "acct/org/chats/new.json",
        "acct/org/chats/edited.json",
        "acct/org/x/y/z.json",
    }
    commit_all(archive)
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(root, "fsck", "--strict", "--no-dangling").strip() == ""


def test_trees_follow_removals_down_to_an_empty_archive(archive: Archive) -> None:
    root = archive.root
    for n in range(20):
        (root / f"acct/org/chat-files/chat-{n}/index.json").unlink()
        (root / f"acct/org/chat-files/chat-{n}").rmdir()
    commit_all(archive)
    assert git(root, "ls-tree", "--name-only", "HEAD", "acct/org/") == "acct/org/chats\n"
    for n in range(20):
        (root / f"acct/org/chats/chat-{n}.json").unlink()
    (root / ".claude-backup.json").unlink()  # the archive's marker, for this test only
    commit_all(archive)
    assert git(root, "ls-tree", "-r", "HEAD") == ""
    assert (
        git(root, "rev-parse", "HEAD^{tree}").strip()
        == git(root, "hash-object", "-t", "tree", "/dev/null").strip()
    )
    write(root, "a/b/c.json", "[1]\n")
    commit_all(archive)
    assert git(root, "ls-tree", "-r", "--name-only", "HEAD") == "a/b/c.json\n"
    assert git(root, "fsck", "--strict", "--no-dangling").strip() == ""
