"""One bad item never stops the backup (issue 14 §2), end to end: the real CLI against the
fake Claude.ai serving a hostile item, the real git checking the archive.

Each case: the first sync meets the bad item and reports it (exit 3) while committing the
rest; a chat added afterwards is committed by the next sync; `git fsck --full --strict` is
clean, `git status` is clean and nothing was written outside the archive folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_backup.fakeapi import FakeClaudeServer
from claude_backup.fakeapi.hostile import (
    big_integer,
    detail_with,
    drop_sandbox_file,
    nested_array,
    put_sandbox_file,
    serve_raw_detail,
)
from claude_backup.model.jsonvalue import loads
from conftest import Fake, assert_git_healthy, chat_files, git, make_model, sync


@pytest.fixture
def small() -> Iterator[Fake]:
    model = make_model(chats=3)
    with FakeClaudeServer(model) as server:
        yield Fake(model, server)


def personal_chats(fake: Fake) -> list[str]:
    return sorted(fake.model.accounts[0].orgs[0].chats)


def files_outside(tmp_path: Path, archive: Path) -> list[Path]:
    """Everything under the test's folder that is not the archive (nothing should be)."""
    return [p for p in tmp_path.rglob("*") if archive not in (p, *p.parents)]


def committed(archive: Path) -> set[str]:
    return set(git(archive, "ls-tree", "-r", "--name-only", "HEAD").splitlines())


def assert_later_chats_still_committed(fake: Fake, archive: Path, tmp_path: Path) -> None:
    """A chat added after the bad item is committed by the next sync (which may still report
    the bad item: exit 0 or 3, never anything else), and the archive is healthy."""
    org = fake.model.accounts[0].orgs[0]
    added = fake.model.add_chat(org, "Added afterwards", turns=1)
    result = sync(fake, archive)
    assert result.returncode in (0, 3), result.stderr
    assert any(added.uuid in path for path in committed(archive)), result.stderr
    again = sync(fake, archive)
    assert again.returncode in (0, 3), again.stderr
    assert_git_healthy(archive)
    assert files_outside(tmp_path, archive) == []


def test_a_path_both_file_and_folder_among_artifacts(small: Fake, tmp_path: Path) -> None:
    """Artifacts `notes` (markdown: notes.md) and `notes.md` (its folder: notes.md/v001...)."""
    chat = personal_chats(small)[0]
    small.model.add_artifact_turn(
        chat,
        [
            {"id": "notes", "command": "create", "type": "text/markdown", "content": "# a\n"},
            {"id": "notes.md", "command": "create", "type": "text/markdown", "content": "# b\n"},
            {"id": "NOTES", "command": "create", "type": "text/markdown", "content": "# c\n"},
        ],
    )
    archive = tmp_path / "archive"
    result = sync(small, archive)
    assert result.returncode == 0, result.stderr
    (folder,) = archive.glob(f"*/*/chat-files/*-{chat}/artifacts")
    contents = {p.read_bytes() for p in folder.rglob("*") if p.is_file() and "index" not in p.name}
    assert {b"# a\n", b"# b\n", b"# c\n"} <= contents
    lowered = [str(p.relative_to(folder)).lower() for p in folder.rglob("*")]
    assert len(lowered) == len(set(lowered))  # one file on a case-insensitive system too
    assert_later_chats_still_committed(small, archive, tmp_path)


def test_a_sandbox_file_that_becomes_a_folder(small: Fake, tmp_path: Path) -> None:
    chat = personal_chats(small)[0]
    small.model.add_sandbox_turn(chat, {"data": b"first\n"})
    archive = tmp_path / "archive"
    assert sync(small, archive).returncode == 0
    drop_sandbox_file(small.model, chat, "/mnt/user-data/outputs/data")
    put_sandbox_file(small.model, chat, "data/x.csv", b"a,b\n")
    small.model.add_sandbox_turn(chat, {"Report.csv": b"upper\n", "report.csv": b"lower\n"})
    result = sync(small, archive)
    assert result.returncode == 0, result.stderr
    (outputs,) = archive.glob(f"*/*/chat-files/*-{chat}/sandbox/outputs")
    stored = {p.read_bytes() for p in outputs.rglob("*") if p.is_file()}
    assert stored == {b"first\n", b"a,b\n", b"upper\n", b"lower\n"}
    lowered = [str(p.relative_to(outputs)).lower() for p in outputs.rglob("*")]
    assert len(lowered) == len(set(lowered))
    assert_later_chats_still_committed(small, archive, tmp_path)


def test_a_sandbox_path_longer_than_the_file_system_allows(small: Fake, tmp_path: Path) -> None:
    chat = personal_chats(small)[0]
    deep = "/".join(f"level-{i:02d}-" + "d" * 90 for i in range(45))  # about 4,400 bytes
    small.model.add_sandbox_turn(chat, {"short.txt": b"short\n"})
    put_sandbox_file(small.model, chat, f"{deep}/deep.txt", b"deep\n")
    put_sandbox_file(small.model, chat, "n" * 400 + ".txt", b"long name\n")
    archive = tmp_path / "archive"
    result = sync(small, archive)
    assert result.returncode == 0, result.stderr
    (outputs,) = archive.glob(f"*/*/chat-files/*-{chat}/sandbox/outputs")
    stored = {p.read_bytes() for p in outputs.rglob("*") if p.is_file()}
    assert stored == {b"short\n", b"deep\n", b"long name\n"}
    assert_later_chats_still_committed(small, archive, tmp_path)


@pytest.mark.parametrize("where", ["chat", "org"])
def test_a_lone_surrogate_in_a_title(small: Fake, tmp_path: Path, where: str) -> None:
    chat = personal_chats(small)[0]
    if where == "chat":
        small.model.rename_chat(chat, "Emoji \ud83d half", bump_updated=True)
    else:
        small.model.accounts[0].orgs[0].rename("Org \ud83d half")
    archive = tmp_path / "archive"
    result = sync(small, archive)
    assert result.returncode == 0, result.stderr
    path = chat_files(archive)[chat]
    stored = json.loads(path.read_bytes())
    if where == "chat":
        assert stored["name"] == "Emoji \ud83d half"  # the value as served
    org_json = json.loads((path.parent.parent / "organization.json").read_bytes())
    assert org_json["name"] == small.model.accounts[0].orgs[0].name
    assert_later_chats_still_committed(small, archive, tmp_path)


def test_a_huge_integer_is_stored_as_served(small: Fake, tmp_path: Path) -> None:
    chat = personal_chats(small)[0]
    digits = big_integer(5000)
    serve_raw_detail(small.model, chat, detail_with(small.model, chat, "big", digits))
    archive = tmp_path / "archive"
    result = sync(small, archive)
    assert result.returncode == 0, result.stderr
    stored = chat_files(archive)[chat].read_bytes()
    assert b'"big": ' + digits + b"," in stored or b'"big": ' + digits + b"\n" in stored
    assert_later_chats_still_committed(small, archive, tmp_path)


def test_json_nested_100000_deep(small: Fake, tmp_path: Path) -> None:
    chat = personal_chats(small)[0]
    served = detail_with(small.model, chat, "deep", nested_array(10**5))
    serve_raw_detail(small.model, chat, served)
    archive = tmp_path / "archive"
    result = sync(small, archive)
    assert result.returncode == 0, result.stderr
    stored = chat_files(archive)[chat].read_bytes()
    assert loads(stored) == loads(served)  # the same value, whatever depth it is kept as text
    assert stored.count(b"[") - stored.count(b"[]") == served.count(b"[") - served.count(b"[]")
    assert_later_chats_still_committed(small, archive, tmp_path)


def test_a_chat_that_is_not_json_at_all_is_reported(small: Fake, tmp_path: Path) -> None:
    chat = personal_chats(small)[0]
    serve_raw_detail(small.model, chat, b'{"uuid": "' + b"x" * 10 + b'", "chat_messages": [')
    archive = tmp_path / "archive"
    result = sync(small, archive)
    assert result.returncode == 3, result.stderr
    assert chat in result.stderr
    assert chat not in chat_files(archive)
    assert set(chat_files(archive)) == set(small.model.accounts[0].orgs[0].chats) - {chat} | {
        c for o in small.model.accounts[0].orgs[1:2] for c in o.chats
    }
    assert_later_chats_still_committed(small, archive, tmp_path)
