"""The archive beside git's own maintenance: `git gc`, `git repack -a -d`, a multi-pack-index,
run at the worst moments of a sync (deterministically, from inside it) and in a loop beside real
syncs. Real git checks every result: `git fsck --full --strict`, every commit's files readable."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from dulwich.object_store import DiskObjectStore

from claude_backup.archive import packing
from claude_backup.archive import repository as archive_module
from claude_backup.archive.repository import Archive
from claude_backup.model.changes import CommitStep
from conftest import Fake, assert_archive_matches, assert_git_healthy, git, sync

AUTHOR = "Test <test@example.com>"
SYNCS = 25  # beside git's maintenance; in-process syncs take a fraction of a second each


def commit_files(archive: Archive, files: dict[str, bytes], message: str = "sync") -> str:
    for rel, content in files.items():
        path = archive.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    changes = archive.changes()
    archive.commit(
        [CommitStep([(c.path, c.new_sha) for c in changes], message)], author=AUTHOR, when=1e9
    )
    return git(archive.root, "rev-parse", "HEAD").strip()


def chats(version: int, count: int = 50) -> dict[str, bytes]:
    return {
        f"org/chats/chat-{i:03d}.json": b'{"v": %d, "i": %d}\n' % (version, i) for i in range(count)
    }


def assert_every_version_readable(root: Path, commits: list[str]) -> None:
    """git fsck clean, every commit ever made still in the branch's history, and every object of
    every one of them there (fsck checks the objects reachable from the refs; this says which)."""
    git(root, "fsck", "--full", "--strict")
    assert set(commits) <= set(git(root, "rev-list", "HEAD").split())
    listing = git(root, "rev-list", "--objects", "--missing=print", *commits)
    assert not [line for line in listing.splitlines() if line.startswith("?")]
    assert git(root, "status", "--porcelain") == ""


def once(action: Callable[[], object]) -> Callable[..., None]:
    """A stand-in that runs `action` the first time it is called, then does nothing."""
    done: list[bool] = []

    def run(*_: Any, **__: Any) -> None:
        if not done:
            done.append(True)
            action()

    return run


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    archive = Archive.open(tmp_path / "archive")
    commit_files(archive, chats(0))
    return archive


# -- a repack in each window of a commit --------------------------------------------------------


@pytest.mark.parametrize("command", [["repack", "-a", "-d"], ["gc", "--prune=now", "--quiet"]])
def test_a_repack_before_the_branch_moves_keeps_the_new_commit(
    archive: Archive, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """Between the sync's pack landing and the branch naming it, none of its objects is
    reachable: git's repack deletes every pack without a .keep, keeping only reachable objects."""
    first = git(archive.root, "rev-parse", "HEAD").strip()
    real_flush = getattr(archive_module, "flush_to_disk")  # noqa: B009
    run_git = once(lambda: git(archive.root, *command))

    def flush_then_repack() -> None:
        real_flush()
        run_git()

    monkeypatch.setattr(archive_module, "flush_to_disk", flush_then_repack)
    second = commit_files(archive, chats(1))
    assert second != first
    assert_every_version_readable(archive.root, [first, second])
    assert not list((archive.root / ".git" / "objects" / "pack").glob("*.keep"))


def test_a_killed_syncs_keep_is_removed_by_the_next_sync(archive: Archive) -> None:
    pack_dir = Path(archive.objects.store.pack_dir)
    (pack := next(pack_dir.glob("*.pack")))
    ours = pack.with_suffix(".keep")
    ours.write_bytes(packing.KEEP_NOTE)
    someone_elses = pack_dir / "pack-0000000000000000000000000000000000000000.keep"
    someone_elses.write_bytes(b"receive-pack 1234 on host\n")
    with archive.lock():
        pass
    assert not ours.exists() and someone_elses.exists()


def test_loose_objects_that_git_packs_meanwhile_are_left_to_git(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's own commit leaves loose objects; a `git gc` packs them (and deletes them) while
    our packing reads them: nothing of the user's commit is lost, and the sync goes on."""
    (archive.root / "notes.md").write_text("my notes\n")
    git(archive.root, "add", "notes.md")
    git(archive.root, "-c", "user.name=U", "-c", "user.email=u@e", "commit", "-qm", "notes")
    users = git(archive.root, "rev-parse", "HEAD").strip()
    assert list((archive.root / ".git" / "objects").glob("??/*"))
    real = DiskObjectStore._get_loose_object
    gc = once(lambda: git(archive.root, "gc", "--quiet"))

    def gc_then_read(self: DiskObjectStore, sha: Any) -> Any:
        gc()
        return real(self, sha)

    monkeypatch.setattr(DiskObjectStore, "_get_loose_object", gc_then_read)
    archive.pack()
    monkeypatch.undo()
    ours = commit_files(archive, chats(2))
    assert_every_version_readable(archive.root, [users, ours])
    assert git(archive.root, "show", f"{ours}:notes.md") == "my notes\n"


def test_packs_that_git_repacks_during_our_merge_end_it_quietly(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = [git(archive.root, "rev-parse", "HEAD").strip()]
    for version in range(1, packing.PACKS_BEFORE_MERGING - 1):
        commits.append(commit_files(archive, chats(version, 5)))
    real = packing._copy_objects
    repack = once(lambda: git(archive.root, "repack", "-a", "-d", "-q"))

    def repack_then_copy(*args: Any) -> None:
        repack()
        real(*args)

    monkeypatch.setattr(packing, "_copy_objects", repack_then_copy)
    commits.append(commit_files(archive, chats(99, 5)))  # this one merges
    monkeypatch.undo()
    commits.append(commit_files(archive, chats(100, 5)))
    assert_every_version_readable(archive.root, commits)


@pytest.mark.parametrize(
    "maintenance",
    [["multi-pack-index", "write"], ["maintenance", "run", "--task=incremental-repack"]],
)
def test_a_multi_pack_index_stays_valid_when_we_merge_packs(
    archive: Archive, maintenance: list[str]
) -> None:
    commits = [git(archive.root, "rev-parse", "HEAD").strip()]
    for version in range(1, 4):
        commits.append(commit_files(archive, chats(version, 5)))
    git(archive.root, *maintenance)
    git(archive.root, "multi-pack-index", "write")
    for version in range(4, 4 + 2 * packing.PACKS_BEFORE_MERGING):
        commits.append(commit_files(archive, chats(version, 5)))
        git(archive.root, "fsck", "--full", "--strict")
        git(archive.root, "multi-pack-index", "verify")
    assert_every_version_readable(archive.root, commits)
    git(archive.root, "gc", "--quiet")
    assert_every_version_readable(archive.root, commits)


# -- git maintenance in a loop beside real syncs ------------------------------------------------


class MaintenanceLoop:
    """`git gc`, `git repack -a -d`, a multi-pack-index and `git maintenance`'s packing of loose
    objects, one after the other without a pause, in a thread; the checks between syncs pause
    it (`paused`), since fsck beside a repack may see a pack go."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._turn = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        commands = (
            ["gc", "--quiet"],
            ["repack", "-a", "-d", "-q"],
            ["multi-pack-index", "write"],
            ["maintenance", "run", "--task=loose-objects"],
        )
        while not self._stop.is_set():
            with self._turn:
                command = commands[self.runs % len(commands)]
                done = subprocess.run(
                    ["git", "-C", str(self.root), *command], capture_output=True, text=True
                )
                self.runs += 1
            if done.returncode != 0 and "lock" not in done.stderr:  # a ref a sync holds
                self.failures.append(f"git {' '.join(command)}: {done.stderr.strip()}")
            time.sleep(0.01)

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self._turn:
            yield

    def __enter__(self) -> MaintenanceLoop:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def test_syncs_beside_git_gc_and_repack_in_a_loop(
    fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At least 10 syncs that change chats while git's maintenance runs without a pause: each
    sync succeeds, fsck is clean after each, and every version ever committed stays readable."""
    root = tmp_path / "archive"
    assert sync(fake, root).returncode == 0
    commits = [git(root, "rev-parse", "HEAD").strip()]
    org = fake.model.accounts[0].orgs[0]
    monkeypatch.setattr(packing, "PACKS_BEFORE_MERGING", 3)  # our merges run beside git's too
    started = time.monotonic()
    with MaintenanceLoop(root) as loop:
        for round_no in range(SYNCS):
            fake.model.add_chat(org, f"Stress {round_no}", turns=2)
            existing = next(iter(org.chats))
            fake.model.add_messages(existing, turns=1)
            done = sync(fake, root)
            assert done.returncode == 0, done.stderr
            with loop.paused():
                commits.append(git(root, "rev-parse", "HEAD").strip())
                assert_every_version_readable(root, commits)
    assert not loop.failures, loop.failures
    assert loop.runs >= SYNCS, "git's maintenance must really have run beside the syncs"
    assert len(set(commits)) == len(commits) == SYNCS + 1
    assert_archive_matches(fake, root)
    assert_git_healthy(root)
    assert time.monotonic() - started < 120


def test_gits_cruft_pack_is_left_as_it_is(archive: Archive) -> None:
    """`git gc --cruft` keeps unreachable objects in a pack with their times (`.mtimes`), by
    which a later gc prunes them: merging it into a pack of ours would lose those times."""
    subprocess.run(
        ["git", "-C", str(archive.root), "hash-object", "-w", "--stdin"],
        input=b"unreachable, kept a while by git",
        check=True,
        capture_output=True,
    )
    git(archive.root, "gc", "--quiet", "--cruft", "--prune=1.week.ago")
    pack_dir = Path(archive.objects.store.pack_dir)
    (cruft,) = pack_dir.glob("*.mtimes")
    commits = [git(archive.root, "rev-parse", "HEAD").strip()]
    for version in range(1, 2 * packing.PACKS_BEFORE_MERGING):
        commits.append(commit_files(archive, chats(version, 5)))
    assert cruft.exists() and cruft.with_suffix(".pack").exists()
    assert len(list(pack_dir.glob("*.pack"))) < packing.PACKS_BEFORE_MERGING + 1
    assert_every_version_readable(archive.root, commits)
