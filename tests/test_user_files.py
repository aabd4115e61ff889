"""The archive is the user's too: what they add beside the backup (notes, `.gitignore`, symlinks,
scripts, a repository of their own) is recorded as `git add -A` records it, and after each
commit real git finds the archive sound and `git status` clean."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from claude_backup.archive.repository import Archive
from conftest import commit_all, git

CHAT = "acct-11111111-1111-4111-8111-111111111111/org-22222222-2222-4222-8222-222222222222/chats"


def write(root: Path, rel: str, data: str | bytes, mode: int | None = None) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        path.chmod(mode)
    return path


def assert_clean(root: Path) -> None:
    git(root, "fsck", "--full", "--strict")
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""


def tree_of(root: Path) -> dict[str, str]:
    """path -> mode in HEAD, as git lists it."""
    found: dict[str, str] = {}
    for line in git(root, "ls-tree", "-r", "HEAD").splitlines():
        meta, path = line.split("\t", 1)
        found[path] = meta.split()[0]
    return found


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    archive = Archive.open(tmp_path / "archive")
    write(archive.root, f"{CHAT}/chat-33333333-3333-4333-8333-333333333333.json", "{}\n")
    commit_all(archive)
    return archive


def test_ignored_files_stay_out_and_git_status_is_clean(archive: Archive) -> None:
    root = archive.root
    write(root, ".gitignore", "*.swp\n.DS_Store\nscratch/\n")
    write(root, "notes.md", "my notes\n")
    write(root, ".notes.md.swp", "swap")
    write(root, "acct/.DS_Store", "finder")
    write(root, "scratch/a/b.txt", "scratch")
    write(root, "info-excluded.tmp", "x")
    write(root, ".git/info/exclude", ".claude-backup-tmp-*\n*.tmp\n")
    global_ignore = write(root.parent, "global-ignore", "*.bak\n")
    git(root, "config", "core.excludesFile", str(global_ignore))
    write(root, "old.bak", "backup of my own")
    commit_all(archive)
    assert set(tree_of(root)) - {".claude-backup.json"} == {
        ".gitignore",
        "notes.md",
        f"{CHAT}/chat-33333333-3333-4333-8333-333333333333.json",
    }
    assert (root / ".notes.md.swp").read_text() == "swap"
    assert_clean(root)
    assert archive.changes() == []


def test_a_tracked_file_stays_tracked_when_a_rule_matches_it(archive: Archive) -> None:
    root = archive.root
    write(root, "keep.log", "one\n")
    commit_all(archive)
    write(root, ".gitignore", "*.log\n")
    write(root, "keep.log", "two\n")
    assert {c.path for c in commit_all(archive)} == {".gitignore", "keep.log"}
    assert git(root, "show", "HEAD:keep.log") == "two\n"
    assert_clean(root)


def test_ignore_rules_never_hide_the_backups_own_files(archive: Archive) -> None:
    root = archive.root
    write(root, ".gitignore", "*.json\nsandbox/\n")
    commit_all(archive)
    ours = [
        f"{CHAT}/new-44444444-4444-4444-8444-444444444444.json",
        "acct/org/chat-files/x-55555555-5555-4555-8555-555555555555/sandbox/outputs/r.csv",
        "acct/org/files/66666666-6666-4666-8666-666666666666.json",
    ]
    for rel in ours:
        archive.write_file(root / rel, b"{}\n")
    write(root, "mine.json", "{}")  # the user's own: their rule applies
    commit_all(archive)
    assert set(ours) <= set(tree_of(root))
    assert "mine.json" not in tree_of(root)
    assert_clean(root)


def test_symlinks_are_recorded_as_symlinks_never_followed(archive: Archive) -> None:
    root = archive.root
    write(root, "docs/real.md", "real\n")
    os.symlink("real.md", root / "docs/link.md")
    os.symlink("docs", root / "docs-link")  # a folder: its files must not appear twice
    os.symlink("/nonexistent/elsewhere", root / "dangling")
    commit_all(archive)
    modes = tree_of(root)
    assert modes["docs/link.md"] == modes["docs-link"] == modes["dangling"] == "120000"
    assert not any(p.startswith("docs-link/") for p in modes)
    assert git(root, "cat-file", "-p", "HEAD:docs-link") == "docs"
    assert_clean(root)
    assert archive.changes() == []

    os.unlink(root / "docs-link")
    os.symlink("elsewhere", root / "docs-link")  # retargeted
    assert [c.path for c in commit_all(archive)] == ["docs-link"]
    assert_clean(root)


def test_a_folder_and_a_symlink_can_replace_each_other(archive: Archive) -> None:
    root = archive.root
    write(root, "stuff/a.txt", "a\n")
    commit_all(archive)
    (root / "stuff/a.txt").unlink()
    (root / "stuff").rmdir()
    os.symlink(str(root / f"{CHAT}"), root / "stuff")
    commit_all(archive)
    assert tree_of(root)["stuff"] == "120000"
    assert_clean(root)
    (root / "stuff").unlink()
    write(root, "stuff/b.txt", "b\n")
    commit_all(archive)
    assert tree_of(root)["stuff/b.txt"] == "100644"
    assert_clean(root)


def test_the_executable_bit_is_kept(archive: Archive) -> None:
    root = archive.root
    write(root, "tools/backup.sh", "#!/bin/sh\necho hi\n", mode=0o755)
    commit_all(archive)
    assert tree_of(root)["tools/backup.sh"] == "100755"
    assert_clean(root)
    (root / "tools/backup.sh").chmod(0o644)  # a mode change alone is a change
    assert [(c.path, c.mode) for c in commit_all(archive)] == [("tools/backup.sh", 0o100644)]
    assert tree_of(root)["tools/backup.sh"] == "100644"
    assert_clean(root)


def test_with_core_filemode_false_the_bit_on_disk_means_nothing(archive: Archive) -> None:
    root = archive.root
    git(root, "config", "core.fileMode", "false")
    write(root, "run.sh", "#!/bin/sh\n", mode=0o755)
    commit_all(archive)
    assert tree_of(root)["run.sh"] == "100644"
    assert_clean(root)
    (root / "run.sh").chmod(0o644)
    assert archive.changes() == []


def make_repo(path: Path, files: dict[str, str]) -> str:
    path.mkdir(parents=True)
    git(path, "init", "-q")
    for rel, text in files.items():
        write(path, rel, text)
    git(path, "add", "-A")
    git(path, "-c", "user.name=U", "-c", "user.email=u@example.com", "commit", "-qm", "mine")
    return git(path, "rev-parse", "HEAD").strip()


def test_a_nested_repository_is_a_gitlink_never_its_files(archive: Archive, tmp_path: Path) -> None:
    root = archive.root
    head = make_repo(root / "projects/mine", {"code.py": "print(1)\n"})
    (root / "empty-repo").mkdir()
    git(root / "empty-repo", "init", "-q")  # no commit: nothing to record, as `git add -A`
    commit_all(archive)
    modes = tree_of(root)
    assert modes["projects/mine"] == "160000"
    assert not any("/.git" in p or p.startswith("empty-repo") for p in modes)
    assert git(root, "rev-parse", "HEAD:projects/mine").strip() == head
    git(root, "fsck", "--full", "--strict")
    status = git(root, "status", "--porcelain", "--untracked-files=all")
    assert status == "?? empty-repo/\n"  # what git itself shows for a repository without commits
    assert archive.changes() == []
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
    assert (clone / "projects/mine").is_dir()

    write(root / "projects/mine", "more.py", "print(2)\n")
    git(root / "projects/mine", "add", "-A")
    git(root / "projects/mine", "-c", "user.name=U", "-c", "user.email=u@e", "commit", "-qm", "2")
    assert [c.path for c in commit_all(archive)] == ["projects/mine"]
    assert git(root, "status", "--porcelain") == "?? empty-repo/\n"


def test_line_ending_attributes_do_not_corrupt_anything(archive: Archive) -> None:
    root = archive.root
    write(root, ".gitattributes", "* text=auto\n*.bin binary\n*.pdf filter=lfs -text\n")
    write(root, "windows.txt", b"one\r\ntwo\r\n")
    write(root, "data.bin", bytes(range(256)))
    write(root, "paper.pdf", b"%PDF-1.4 not a pointer")
    commit_all(archive)
    assert (root / "windows.txt").read_bytes() == b"one\r\ntwo\r\n"
    for rel in ("windows.txt", "data.bin", "paper.pdf"):  # stored byte for byte
        stored = subprocess.run(
            ["git", "-C", str(root), "cat-file", "blob", f"HEAD:{rel}"],
            capture_output=True,
            check=True,
        ).stdout
        assert stored == (root / rel).read_bytes()
    git(root, "fsck", "--full", "--strict")
    assert archive.changes() == []
    os.utime(root / "windows.txt", (1, 1))  # git compares content, not only the stat
    assert_clean(root)
    assert archive.changes() == []


@pytest.mark.parametrize("seed", range(3))
def test_commits_match_git_add_all_through_random_user_edits(archive: Archive, seed: int) -> None:
    """Random edits a user makes (files, exec bits, symlinks to files, folders and nowhere, a
    file replaced by a link or a folder and back, ignored files, git's own index rewrites):
    after each commit, git finds the tree exactly what `git add -A` would record (status
    clean, nothing ignored tracked) and the repository sound."""
    import random

    rng = random.Random(seed)
    root = archive.root
    write(root, ".gitignore", "*.tmp\nignored/\n")
    names = [f"d{a}/f{b}" for a in range(3) for b in range(4)] + ["top", "ignored/x", "a.tmp"]
    for step in range(50):
        rel = rng.choice(names)
        path = root / rel
        action = rng.choice(["write", "chmod", "link", "dirlink", "dangling", "remove", "folder"])
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir() and action != "folder":
            for inner in sorted(path.rglob("*"), reverse=True):
                inner.unlink() if not inner.is_dir() or inner.is_symlink() else inner.rmdir()
            path.rmdir()
        path.parent.mkdir(parents=True, exist_ok=True)
        if action == "write":
            write(root, rel, f"step {step}\n")
        elif action == "chmod":
            write(root, rel, "#!/bin/sh\n", mode=rng.choice([0o755, 0o644, 0o700]))
        elif action == "link":
            os.symlink(rng.choice(names), path)
        elif action == "dirlink":
            os.symlink("../d1" if "/" in rel else "d1", path)
        elif action == "dangling":
            os.symlink(f"/nowhere/{step}", path)
        elif action == "folder" and not path.exists():
            write(root, f"{rel}/inner-{step}", "inner\n")
        if rng.random() < 0.2:
            git(root, "status", "--porcelain")  # git rewrites the index
        if rng.random() < 0.4:
            commit_all(archive)
            assert_clean(root)
            assert git(root, "ls-files", "--cached", "--ignored", "--exclude-standard") == ""
            assert archive.changes() == []


def test_a_stray_dot_git_that_is_no_repository_hides_nothing(archive: Archive) -> None:
    root = archive.root
    write(root, "notes/.git", "not a repository\n")
    write(root, "notes/todo.md", "- write tests\n")
    (root / "other/.git").mkdir(parents=True)
    write(root, "other/a.txt", "a\n")
    commit_all(archive)
    modes = tree_of(root)
    assert "notes/todo.md" in modes and "other/a.txt" in modes
    assert not any(p.endswith("/.git") for p in modes)
    git(root, "fsck", "--full", "--strict")
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""


def test_with_core_symlinks_false_a_link_written_out_stays_a_link(archive: Archive) -> None:
    root = archive.root
    os.symlink("target.md", root / "link")
    commit_all(archive)
    git(root, "config", "core.symlinks", "false")
    (root / "link").unlink()
    write(root, "link", "target.md")  # how git checks a link out without symlinks
    assert archive.changes() == []
    assert tree_of(root)["link"] == "120000"
    write(root, "link", "elsewhere.md")
    commit_all(archive)
    assert tree_of(root)["link"] == "120000"
    assert git(root, "cat-file", "-p", "HEAD:link") == "elsewhere.md"
    assert_clean(root)


def test_a_file_name_that_is_not_utf8_is_stored_as_its_bytes(archive: Archive) -> None:
    root = archive.root
    name = os.fsencode(root) + b"/caf\xe9 latin-1.txt"
    with open(name, "wb") as handle:
        handle.write(b"mine\n")
    commit_all(archive)
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-tree", "-z", "--name-only", "HEAD"],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    assert b"caf\xe9 latin-1.txt" in listed
    assert_clean(root)
    assert archive.changes() == []
