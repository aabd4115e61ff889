"""Nothing is written outside the archive (issue 14 §3), end to end with the real CLI, the
fake Claude.ai and the real git: folders of ours that are symbolic links, a tampered
index.json, and an item whose place is taken still leave the rest committed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_backup.archive.files import inside_archive
from claude_backup.errors import OutsideArchive, UnstorableItem
from claude_backup.fakeapi import FakeClaudeServer
from conftest import Fake, assert_git_healthy, chat_files, git, make_model, sync
from test_bad_items import assert_later_chats_still_committed, committed, files_outside


@pytest.fixture
def small() -> Iterator[Fake]:
    model = make_model(chats=3)
    with FakeClaudeServer(model) as server:
        yield Fake(model, server)


def first_chat(fake: Fake) -> str:
    return sorted(fake.model.accounts[0].orgs[0].chats)[0]


def moved_away(folder: Path, elsewhere: Path) -> None:
    """What a user does to put a folder on another disk: move it, link it back."""
    os.replace(folder, elsewhere)
    folder.symlink_to(elsewhere, target_is_directory=True)


@pytest.mark.parametrize("which", ["chats", "chat-files", "account", "org"])
def test_a_folder_moved_away_and_linked_back_is_refused(
    small: Fake, tmp_path: Path, which: str
) -> None:
    chat = first_chat(small)
    small.model.add_artifact_turn(chat, [{"id": "a", "type": "text/markdown", "content": "#\n"}])
    archive = tmp_path / "archive"
    assert sync(small, archive).returncode == 0
    head, before = git(archive, "rev-parse", "HEAD"), committed(archive)
    chat_file = chat_files(archive)[chat]
    folder = {
        "chats": chat_file.parent,
        "chat-files": chat_file.parent.parent / "chat-files",
        "org": chat_file.parent.parent,
        "account": chat_file.parent.parent.parent,
    }[which]
    elsewhere = tmp_path / "other-disk"
    moved_away(folder, elsewhere)
    outside_before = sorted(p for p in elsewhere.rglob("*"))
    small.model.add_chat(small.model.accounts[0].orgs[0], "New while linked", turns=1)
    small.model.add_artifact_turn(chat, [{"id": "b", "type": "text/markdown", "content": "#\n"}])

    result = sync(small, archive)
    assert result.returncode == 7, result.stderr
    assert "symbolic link" in result.stderr and folder.name in result.stderr
    assert git(archive, "rev-parse", "HEAD") == head  # nothing dropped from HEAD
    assert committed(archive) == before
    assert sorted(p for p in elsewhere.rglob("*")) == outside_before  # nothing written there
    git(archive, "fsck", "--full", "--strict")

    folder.unlink()  # the user moves it back: everything syncs again
    os.replace(elsewhere, folder)
    result = sync(small, archive)
    assert result.returncode == 0, result.stderr
    assert before <= committed(archive)
    assert_git_healthy(archive)


def test_a_tampered_index_json_cannot_lead_a_write_outside(small: Fake, tmp_path: Path) -> None:
    chat = first_chat(small)
    small.model.add_sandbox_turn(chat, {"report.csv": b"a,b\n"})
    archive = tmp_path / "archive"
    assert sync(small, archive).returncode == 0
    (index_path,) = archive.glob(f"*/*/chat-files/*-{chat}/index.json")
    index = json.loads(index_path.read_bytes())
    for entry in index["sandbox"]["files"]:
        entry["stored_as"] = "../../../../../../escaped.csv"
        entry["size"] = -1  # looks changed: downloaded again
    index["chat"]["updated_at"] = "tampered"  # the sandbox is listed again
    index["sandbox"]["fetched_for"] = index["chat"]
    index_path.write_text(json.dumps(index))
    git(archive, "commit", "-qam", "tampered", "--author", "Mallory <m@example.com>")
    small.model.add_messages(chat)  # the chat changed: its sandbox is looked at again
    small.model.add_sandbox_turn(chat, {"report.csv": b"a,b\nc,d\n"})

    result = sync(small, archive)
    assert result.returncode == 0, result.stderr
    assert files_outside(tmp_path, archive) == []
    assert not list(tmp_path.parent.glob("escaped.csv"))
    stored = json.loads(index_path.read_bytes())["sandbox"]["files"]
    assert [e["stored_as"] for e in stored] == ["sandbox/outputs/report.csv"]
    assert (index_path.parent / "sandbox/outputs/report.csv").read_bytes() == b"a,b\nc,d\n"
    assert_git_healthy(archive)


def test_an_item_whose_place_is_taken_is_reported_and_the_rest_committed(
    small: Fake, tmp_path: Path
) -> None:
    """A file where the chat's artifacts folder belongs: that chat's artifacts cannot be
    stored; the sync says so (exit 3), commits everything else, and later syncs go on."""
    chat = first_chat(small)
    archive = tmp_path / "archive"
    assert sync(small, archive).returncode == 0
    folder = chat_files(archive)[chat].parent.parent / "chat-files"
    title = small.model.find_chat(chat)[1].name  # type: ignore[index]
    blocker = folder / f"{title}-{chat}" / "artifacts"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("my notes\n")
    git(archive, "add", "-A")
    git(archive, "commit", "-qm", "my notes", "--author", "Ada <a@example.com>")
    small.model.add_artifact_turn(chat, [{"id": "x", "type": "text/markdown", "content": "#\n"}])
    other = sorted(small.model.accounts[0].orgs[0].chats)[1]
    small.model.add_messages(other)

    result = sync(small, archive)
    assert result.returncode == 3, result.stderr
    assert f"files of chat {chat}" in result.stderr
    stored = json.loads(chat_files(archive)[other].read_bytes())
    assert stored == small.model.chat_detail(small.model.find_chat(other)[1])  # type: ignore[index]
    assert json.loads(chat_files(archive)[chat].read_bytes())["chat_messages"][-1]["content"]
    assert blocker.read_text() == "my notes\n"
    assert_later_chats_still_committed(small, archive, tmp_path)


def test_the_resolver_refuses_every_way_out(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    (root / "a").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert inside_archive(root, "a/b/c.json") == root / "a" / "b" / "c.json"
    assert inside_archive(root, root / "a" / "x") == root / "a" / "x"
    for bad in ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a\\..\\x", "C:/x", "a/\0"]:
        with pytest.raises(UnstorableItem):
            inside_archive(root, bad)
    with pytest.raises(UnstorableItem):
        inside_archive(root, tmp_path / "outside.txt")
    with pytest.raises(OutsideArchive, match="symbolic link"):
        inside_archive(root, "link/new.json")
