"""End to end, the real CLI against the fake Claude.ai and the real git: whatever the user did
in the archive between syncs (their files, deletions, `git reset`, their commits, a branch),
the next sync leaves their work as it was, restores what is the backup's, and leaves `git
status` clean."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_backup.fakeapi import FakeClaudeServer
from conftest import (
    Fake,
    assert_archive_matches,
    assert_git_healthy,
    chat_files,
    commit_count,
    git,
    make_model,
    sync,
)

USER = ["-c", "user.name=Me", "-c", "user.email=me@example.com"]


@pytest.fixture
def rich() -> Iterator[Fake]:
    """Chats with artifacts, uploads and sandbox outputs."""
    model = make_model(chats=6)
    personal = model.accounts[0].orgs[0]
    chats = sorted(personal.chats)
    model.attach_upload(chats[0], "document", "thesis.pdf")
    model.add_sandbox_turn(chats[1], {"report.csv": b"a,b\n1,2\n"})
    create = {"id": "plan", "type": "text/markdown", "title": "Plan", "command": "create"}
    model.add_artifact_turn(chats[1], [{**create, "content": "# Plan\n"}])
    with FakeClaudeServer(model) as server:
        yield Fake(model, server)


def synced(fake: Fake, archive: Path, *extra: str) -> None:
    result = sync(fake, archive, *extra)
    assert result.returncode == 0, result.stderr
    assert_git_healthy(archive)


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


def test_the_users_own_files_are_kept_and_committed_as_git_would(
    rich: Fake, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    synced(rich, archive)
    (org,) = [p for p in archive.glob("*/*") if (p / "files").is_dir()]
    (archive / "README.md").write_text("my archive\n")
    (archive / ".gitignore").write_text("*.swp\n")
    (archive / ".README.md.swp").write_text("vim swap")
    (org / "chats" / "notes.txt").write_text("notes beside the chats\n")
    os.symlink("README.md", archive / "readme-link")
    script = archive / "tools" / "grep-chats.sh"
    script.parent.mkdir()
    script.write_text('#!/bin/sh\ngrep -r "$1" .\n')
    script.chmod(0o755)
    mine = archive / "mine"
    mine.mkdir()
    git(mine, "init", "-q")
    (mine / "a.txt").write_text("a\n")
    git(mine, "add", "-A")
    git(mine, *USER, "commit", "-qm", "mine")
    before = files_of(archive)

    rich.model.add_messages(sorted(rich.model.accounts[0].orgs[0].chats)[2], 1)
    synced(rich, archive)
    after = files_of(archive)
    assert {k: v for k, v in after.items() if k in before and "chats/" not in k} == {
        k: v for k, v in before.items() if "chats/" not in k
    }
    tree = git(archive, "ls-tree", "-r", "HEAD")
    assert "120000 blob" in next(line for line in tree.splitlines() if "readme-link" in line)
    assert "100755 blob" in next(line for line in tree.splitlines() if "grep-chats" in line)
    assert "160000 commit" in next(line for line in tree.splitlines() if "\tmine" in line)
    assert ".swp" not in tree and "mine/" not in tree
    assert_archive_matches(rich, archive)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(archive), str(clone)], check=True)


def test_a_users_file_named_like_a_chat_is_left_alone(rich: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    synced(rich, archive)
    files = chat_files(archive)
    uuid, path = sorted(files.items())[0]
    chats = path.parent
    copy = chats / f"my copy-{uuid}.json"  # a copy the user keeps of a chat
    copy.write_bytes(path.read_bytes())
    notes = chats / f"notes about-{uuid}.json"  # their own notes, named after the chat
    notes.write_text('{"my": "notes"}\n')
    other = chats / "todo-99999999-9999-4999-8999-999999999999.json"
    other.write_text("not even JSON\n")
    made = {p: p.read_bytes() for p in (copy, notes, other)}

    rich.model.add_messages(uuid, 1)
    synced(rich, archive)
    assert {p: p.read_bytes() for p in (copy, notes, other)} == made
    assert json.loads(path.read_bytes())["uuid"] == uuid  # the chat itself is up to date
    rich.model.delete_chat(sorted(files)[1])
    synced(rich, archive, "--prune-deleted")
    assert {p: p.read_bytes() for p in (copy, notes, other)} == made
    tracked = git(archive, "ls-files")
    assert all(p.name in tracked for p in made)


def test_after_git_reset_hard_the_next_sync_restores_everything(rich: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    chat = sorted(rich.model.accounts[0].orgs[0].chats)[3]
    synced(rich, archive)
    rich.model.add_sandbox_turn(chat, {"out.txt": b"output\n"})
    plan = {"id": "plan", "type": "text/markdown", "title": "Plan", "command": "create"}
    rich.model.add_artifact_turn(chat, [{**plan, "content": "# Plan\n"}])
    synced(rich, archive)
    full = files_of(archive)
    (folder,) = archive.glob(f"*/*/chat-files/*-{chat}")
    assert (folder / "sandbox/outputs/out.txt").exists() and (folder / "index.json").exists()

    git(archive, "reset", "-q", "--hard", "HEAD~1")
    assert not (folder / "sandbox/outputs/out.txt").exists()
    synced(rich, archive)
    assert files_of(archive) == full
    assert git(archive, "status", "--porcelain", "--ignored") == ""


def test_what_the_user_deletes_of_the_backup_comes_back(rich: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    org = rich.model.accounts[0].orgs[0]
    project = rich.model.add_project(org, "Thesis", "Answer in French.", "my thesis")
    rich.model.add_doc(project.uuid, "outline.md", "# Outline\n")
    synced(rich, archive)
    full = files_of(archive)
    (upload,) = archive.glob("*/*/files/*/thesis.pdf")
    (sandbox,) = archive.glob("*/*/chat-files/*/sandbox/outputs/report.csv")
    (artifact,) = archive.glob("*/*/chat-files/*/artifacts/plan.md")
    (instructions,) = archive.glob("*/*/projects/*/instructions.md")
    (doc,) = archive.glob("*/*/projects/*/docs/outline.md")
    for path in (upload, sandbox, artifact, instructions, doc):
        path.unlink()
    index = artifact.parent / "index.json"
    index.write_text("edited by hand\n")  # rebuilt from the chat: the edit is undone
    synced(rich, archive)
    assert files_of(archive) == full

    for path in (upload, sandbox, artifact, instructions):  # also after a commit of theirs
        path.unlink()
    git(archive, "add", "-A")
    git(archive, *USER, "commit", "-qm", "tidy up")
    synced(rich, archive)
    assert files_of(archive) == full


def test_a_users_commit_between_syncs_is_built_upon(rich: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    synced(rich, archive)
    (archive / "notes.md").write_text("mine\n")
    git(archive, "add", "notes.md")
    git(archive, *USER, "commit", "-qm", "my notes")
    mine = git(archive, "rev-parse", "HEAD").strip()
    rich.model.add_messages(sorted(rich.model.accounts[0].orgs[0].chats)[2], 1)
    synced(rich, archive)
    assert git(archive, "rev-parse", "HEAD~1").strip() == mine
    assert (archive / "notes.md").read_text() == "mine\n"
    assert_archive_matches(rich, archive)


def test_a_sync_refuses_a_branch_other_than_main(rich: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    synced(rich, archive)
    git(archive, "checkout", "-q", "-b", "experiment")
    rich.model.add_messages(sorted(rich.model.accounts[0].orgs[0].chats)[2], 1)
    commits = commit_count(archive)
    result = sync(rich, archive)
    assert result.returncode != 0
    assert "experiment" in result.stderr and "git switch main" in result.stderr
    assert "Traceback" not in result.stderr
    assert commit_count(archive) == commits
    git(archive, "checkout", "-q", "--detach", "HEAD")
    result = sync(rich, archive)
    assert result.returncode != 0 and "git switch main" in result.stderr
    git(archive, "checkout", "-q", "main")
    synced(rich, archive)
    assert commit_count(archive) == commits + 1


def test_a_pruned_chats_folder_keeps_the_users_files(rich: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    synced(rich, archive)
    chat = sorted(rich.model.accounts[0].orgs[0].chats)[1]
    (folder,) = archive.glob(f"*/*/chat-files/*-{chat}")
    (folder / "my-notes.md").write_text("what I learned\n")
    synced(rich, archive)
    rich.model.delete_chat(chat)
    synced(rich, archive, "--prune-deleted")
    assert sorted(p.name for p in folder.iterdir()) == ["my-notes.md"]
    assert f"{folder.name}/my-notes.md" in git(archive, "ls-files")
