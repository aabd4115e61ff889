"""Archives in the shapes git allows: a `git worktree add` as the archive, a shallow clone, a git
folder that cannot be written; and a failure after the commit landed, said as such."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_backup.archive.repository import Archive
from claude_backup.errors import CommittedButFailed
from claude_backup.model.changes import CommitStep
from conftest import (
    CLI,
    FAST_FLAGS,
    KEY,
    Fake,
    assert_archive_matches,
    assert_git_healthy,
    git,
    sync,
)

NOBODY = 65534


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def add_a_chat(fake: Fake, title: str) -> None:
    fake.model.add_chat(fake.model.accounts[0].orgs[0], title, turns=2)


def test_a_git_worktree_as_the_archive(fake: Fake, tmp_path: Path) -> None:
    main = tmp_path / "archive"
    assert sync(fake, main).returncode == 0
    worktree = tmp_path / "worktree"
    git(main, "worktree", "add", "-q", str(worktree), "-b", "elsewhere")
    assert (worktree / ".git").is_file()
    add_a_chat(fake, "Only in the worktree")
    done = sync(fake, worktree)
    assert done.returncode == 0, done.stderr
    assert git(worktree, "log", "-1", "--format=%s").startswith("Sync:")
    assert git(worktree, "rev-parse", "--abbrev-ref", "HEAD").strip() == "elsewhere"
    assert ".git" not in git(worktree, "ls-files").split()
    assert_archive_matches(fake, worktree)
    assert_git_healthy(worktree)
    before = head(main)
    again = sync(fake, worktree)
    assert again.returncode == 0 and "no changes" in again.stdout
    assert head(main) == before  # the worktree's sync moved its own branch only
    assert sync(fake, main).returncode == 0
    assert_archive_matches(fake, main)
    assert_git_healthy(main)
    status = subprocess.run([CLI, "status", str(worktree)], capture_output=True, text=True)
    assert status.returncode == 0, status.stderr


def test_a_shallow_clone_as_the_archive(fake: Fake, tmp_path: Path) -> None:
    main = tmp_path / "archive"
    assert sync(fake, main).returncode == 0
    add_a_chat(fake, "Second")
    assert sync(fake, main).returncode == 0
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{main}", str(shallow)], check=True
    )
    add_a_chat(fake, "Third")
    done = sync(fake, shallow)
    assert done.returncode == 0, done.stderr
    assert_archive_matches(fake, shallow)
    assert_git_healthy(shallow)
    git(shallow, "gc", "--quiet")
    assert_git_healthy(shallow)


# -- a git folder that cannot be written --------------------------------------------------------


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder another user can reach (pytest's own is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="claude-backup-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for folder, dirs, _ in os.walk(path):
            for name in dirs:
                os.chmod(os.path.join(folder, name), 0o755)
        shutil.rmtree(path, ignore_errors=True)


def as_unprivileged_user(archive: Path) -> list[str]:
    """The command prefix that runs the CLI as a user the file modes bind (root ignores them)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file modes cannot be tested")
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    runs = subprocess.run([*prefix, CLI, "--version"], capture_output=True, env={"HOME": "/"})
    if runs.returncode != 0:
        pytest.skip("the installed CLI cannot run as another user here (its folder is private)")
    subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(archive)], check=True)
    return prefix


def test_a_read_only_git_folder_is_a_clear_archive_error(fake: Fake, shared_tmp: Path) -> None:
    archive = shared_tmp / "archive"
    assert sync(fake, archive).returncode == 0
    before = head(archive)
    prefix = as_unprivileged_user(archive)
    for folder, _, _ in os.walk(archive / ".git" / "objects"):
        os.chmod(folder, 0o555)
    add_a_chat(fake, "New")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(shared_tmp),
        "CLAUDE_SESSION_KEY": KEY,
        "CLAUDE_BACKUP_BASE_URL": fake.base_url,
        **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},
    }
    done = subprocess.run(
        [*prefix, CLI, "sync", str(archive), *FAST_FLAGS],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    for folder, _, _ in os.walk(archive / ".git" / "objects"):
        os.chmod(folder, 0o755)
    if prefix:  # back to the user who runs git here (git refuses others' repositories)
        subprocess.run(["chown", "-R", f"{os.geteuid()}:{os.getegid()}", str(archive)], check=True)
    assert done.returncode == 7, done.stderr
    assert "permission denied" in done.stderr and "internal error" not in done.stderr
    assert str(archive / ".git" / "objects") in done.stderr
    assert head(archive) == before
    assert sync(fake, archive).returncode == 0  # once writable again, the sync goes on
    assert_archive_matches(fake, archive)


# -- after the commit ---------------------------------------------------------------------------


def test_a_last_sync_record_that_cannot_be_written_says_the_backup_was_committed(
    fake: Fake, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    assert sync(fake, archive).returncode == 0
    record = archive / ".git" / "claude-backup" / "last-sync.json"
    record.unlink()
    (record / "in-the-way").mkdir(parents=True)  # the record cannot be renamed into place
    before = head(archive)
    add_a_chat(fake, "New")
    done = sync(fake, archive)
    assert done.returncode == 7, done.stderr
    after = head(archive)
    assert after != before
    assert "the backup was committed" in done.stderr and after[:12] in done.stderr
    assert "last-sync record" in done.stderr
    assert_archive_matches(fake, archive)
    assert_git_healthy(archive)


def test_a_failure_after_the_branch_moved_says_the_backup_was_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = Archive.open(tmp_path / "archive")
    (archive.root / "a.json").write_text("{}")
    changes = archive.changes()

    def disk_full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archive, "_pack_if_needed", disk_full)
    with pytest.raises(CommittedButFailed) as raised:
        archive.commit([CommitStep([(c.path, c.new_sha) for c in changes], "s")], author="T <t@e>")
    committed = head(archive.root)
    message = str(raised.value)
    assert "the backup was committed" in message and committed[:12] in message
    assert "packing" in message and "disk is full" in message
    assert_git_healthy(archive.root)


def test_objects_missing_from_the_repository_are_a_clear_archive_error(
    fake: Fake, tmp_path: Path
) -> None:
    """What a lost object (a damaged disk, a file deleted by hand) does: a message that says
    what to run, not "internal error: KeyError" on every later sync."""
    archive = tmp_path / "archive"
    assert sync(fake, archive).returncode == 0
    for pack in (archive / ".git" / "objects" / "pack").iterdir():
        pack.unlink()
    add_a_chat(fake, "New")
    done = sync(fake, archive)
    assert done.returncode == 7, done.stderr
    assert "lacks object" in done.stderr and "git fsck" in done.stderr
    assert "internal error" not in done.stderr
