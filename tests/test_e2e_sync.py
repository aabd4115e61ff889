"""End to end: the installed CLI against the fake Claude.ai, the archive checked with real git."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from claude_backup.fakeapi import FakeClaudeServer
from conftest import (
    KEY,
    Fake,
    assert_archive_matches,
    assert_git_healthy,
    chat_files,
    commit_count,
    git,
    make_model,
    sync,
)

CHATS_ONLY = ["--no-files", "--no-projects", "--no-profile", "--no-skills", "--no-catalog"]
CHATS_ONLY += ["--no-code"]


def counts(fake: Fake) -> dict[str, int]:
    log = fake.server.request_log()
    return {kind: sum(1 for r in log if r.kind == kind) for kind in {r.kind for r in log}}


PER_ORG = [
    "account/files",  # the uploads listing (issue 5)
    "chat_conversations/count_all",  # is the chat listing complete? (issue 17)
    "list_styles",
    "memory",
    "memory/settings",
    "projects",
    "published_artifacts",
    "skills/list-skills",
    "user_artifacts",
    "code/sessions",
]


def no_change_requests(fake: Fake) -> None:
    """A sync with nothing new asks for the account, one listing per organization, and per
    organization the small answers of issues 5 and 17, plus the profile once — nothing else,
    whatever the number of chats or projects."""
    log = fake.server.request_log()
    assert counts(fake) == {"account": 1, "list": 2, "other": 1 + 2 * len(PER_ORG)}
    others = sorted(_short(r.path) for r in log if r.kind == "other")
    assert others == sorted(["account_profile", *PER_ORG, *PER_ORG])


def _short(path: str) -> str:
    parts = path.strip("/").split("/")
    return "/".join(parts[3:]) if parts[:2] == ["api", "organizations"] else "/".join(parts[1:])


def test_first_sync_archives_everything(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    result = sync(fake, archive)
    assert result.returncode == 0, result.stderr
    assert_archive_matches(fake, archive)
    assert_git_healthy(archive)
    assert commit_count(archive) == 1
    assert "API Console" not in result.stderr  # skipped quietly: a --verbose note
    assert not any("API Console" in p.name for p in archive.glob("*/*"))
    account = next(archive.glob("*/account.json"))
    assert json.loads(account.read_text())["email_address"] == "ada@example.com"
    for chat in chat_files(archive).values():
        text = chat.read_text(encoding="utf-8")
        assert text.startswith("{\n  ") and text.endswith("}\n")
    assert (archive.stat().st_mode & 0o777) == 0o700
    assert all(p.stat().st_mode & 0o077 == 0 for p in archive.rglob("*.json"))
    author = git(archive, "log", "-1", "--format=%an <%ae>|%cn").strip()
    assert author == "Ada Lovelace <ada@example.com>|claude-backup"


def test_no_change_sync_makes_minimal_requests_and_no_commit(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    assert sync(fake, archive).returncode == 0
    head = git(archive, "rev-parse", "HEAD")
    fake.server.reset_stats()
    result = sync(fake, archive)
    assert result.returncode == 0, result.stderr
    no_change_requests(fake)
    assert git(archive, "rev-parse", "HEAD") == head
    assert "no changes" in result.stdout
    fake.server.reset_stats()
    assert sync(fake, archive, *CHATS_ONLY).returncode == 0
    assert counts(fake) == {"account": 1, "list": 2, "other": 2}  # and count_all per org


def test_every_kind_of_change_is_recorded(tmp_path: Path) -> None:
    model = make_model(chats=500, seed=7)
    archive = tmp_path / "archive"
    with FakeClaudeServer(model) as server:
        fake = Fake(model, server)
        first = sync(fake, archive)
        assert first.returncode == 0, first.stderr
        assert_archive_matches(fake, archive)
        fake.server.reset_stats()
        assert sync(fake, archive).returncode == 0
        no_change_requests(fake)
        assert commit_count(archive) == 1

        account = model.accounts[0]
        personal, team = account.orgs[0], account.orgs[1]
        chats = list(personal.chats.values())
        added, edited, retried, switched, renamed, both, deleted = (c.uuid for c in chats[:7])
        model.add_messages(added, 2)
        model.edit_branch(edited)
        model.retry(retried)
        before_switch = model.chat_summary(chats[3])["updated_at"]
        model.switch_leaf(switched)
        assert model.chat_summary(chats[3])["updated_at"] == before_switch
        model.rename_chat(renamed, "A brand new title")
        model.rename_chat(both, "Renamed with news")
        model.add_messages(both, 1)
        model.delete_chat(deleted)
        newcomer = model.add_chat(team, "Fresh chat", turns=2).uuid
        team.rename("Renamed Team")
        old_files = chat_files(archive)

        fake.server.reset_stats()
        result = sync(fake, archive)
        assert result.returncode == 0, result.stderr
        # 5 changed + 1 new; the chat that was only renamed is renamed from the listing
        assert counts(fake)["detail"] == 6
        assert not [r for r in fake.server.request_log() if renamed in r.path]
        assert_archive_matches(fake, archive)
        assert_git_healthy(archive)

        message = git(archive, "log", "-1", "--format=%B")
        assert f"4 messages added  {added}" in message
        assert f"Chat-Branch: {edited}" in message and f"Chat-Branch: {retried}" in message
        assert f"branch switched  {switched}" in message
        assert 'renamed "Chat ' in message and f"Chat-Renamed: {renamed}" in message
        assert f"Chat-Deleted: {deleted}" in message and f"Chat-New: {newcomer}" in message
        assert 'organization renamed "Team Org" → "Renamed Team"' in message
        assert git(archive, "log", "--grep", f"Chat-Updated: {both}", "--format=%h").strip()

        files = chat_files(archive)
        for uuid in (renamed, both):
            assert files[uuid].name.startswith(("A brand new title-", "Renamed with news-"))
            history = git(archive, "log", "--follow", "--format=%H", "--", str(files[uuid]))
            assert len(history.split()) >= 2, f"--follow lost {uuid} at its rename"
            names = git(
                archive, "log", "--follow", "--name-only", "--format=", "--", str(files[uuid])
            )
            assert old_files[uuid].name in names
        gone = chat_files(archive, "deleted")
        assert set(gone) == {deleted}
        assert json.loads(gone[deleted].read_text())["uuid"] == deleted
        assert any("Renamed Team" in p.name for p in archive.glob("*/*"))
        assert not any("Team Org" in p.name for p in archive.glob("*/*"))

        pruned = sync(fake, archive, "--prune-deleted")
        assert pruned.returncode == 0, pruned.stderr
        assert chat_files(archive, "deleted") == {}
        assert f"Chat-Pruned: {deleted}" in git(archive, "log", "-1", "--format=%B")
        assert_git_healthy(archive)


def test_key_is_never_stored(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    result = sync(fake, archive)
    assert result.returncode == 0
    assert KEY not in result.stdout + result.stderr
    for path in archive.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    objects = subprocess.run(
        ["git", "-C", str(archive), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout
    assert objects and KEY.encode() not in objects


def test_fresh_clone_continues_incrementally(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    assert sync(fake, archive).returncode == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(archive), str(clone)], check=True)
    fake.server.reset_stats()
    result = sync(fake, clone)
    assert result.returncode == 0, result.stderr
    no_change_requests(fake)
    assert commit_count(clone) == 1
    assert_git_healthy(clone)


def test_several_accounts_from_stdin(tmp_path: Path) -> None:
    model = make_model(chats=3)
    second_key = "sk-ant-sid01-second-account-key-BBBBBBBBBBBBBBBBBBBB"
    other = model.add_account(second_key, "bob@example.com", "Bob")
    model.add_chat(other.add_org("Bob's Organization"), "Bob chat")
    archive = tmp_path / "archive"
    with FakeClaudeServer(model) as server:
        fake = Fake(model, server)
        result = sync(fake, archive, key=None, stdin=f"{KEY}\n{second_key}\n")
        assert result.returncode == 0, result.stderr
        assert_archive_matches(fake, archive)
    assert {p.name.split("-")[0] for p in archive.glob("*/account.json") for p in [p.parent]} == {
        "ada@example.com",
        "bob@example.com",
    }
    authors = git(archive, "log", "--format=%ae").split()
    assert sorted(authors) == ["ada@example.com", "bob@example.com"]


def test_hostile_names_stay_inside_the_archive(tmp_path: Path) -> None:
    model = make_model(chats=0)
    org = model.accounts[0].orgs[0]
    names = [
        "../../x",
        "/",
        "\\",
        "a\x00b",
        "line\nbreak",
        "x" * 300,
        "CON",
        "nul.txt",
        ".",
        "..",
        "dots. ",
        "\u202eevil",
        "zero\u200bwidth",
        "emoji 🎉",
        "Same",
        "same",
        "Same",
    ]
    for name in names:
        model.add_chat(org, name)
    archive = tmp_path / "archive"
    with FakeClaudeServer(model) as server:
        fake = Fake(model, server)
        assert sync(fake, archive).returncode == 0
        assert_archive_matches(fake, archive)
        assert_git_healthy(archive)
        assert len(chat_files(archive)) == len(names)
        for path in archive.rglob("*"):
            assert path.resolve().is_relative_to(archive.resolve())
            assert len(path.name.encode()) <= 255
        fake.server.reset_stats()
        assert sync(fake, archive).returncode == 0
        no_change_requests(fake)
    assert not (tmp_path / "x").exists()


def test_archive_folder_that_is_not_ours_is_refused(fake: Fake, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    (other / "notes.txt").write_text("mine")
    result = sync(fake, other)
    assert result.returncode == 7 and "not a claude-backup archive" in result.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "file").write_text("x")
    assert sync(fake, plain).returncode == 7
    shutil.rmtree(other)


def test_account_rename_renames_its_folder(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    assert sync(fake, archive).returncode == 0
    fake.model.accounts[0].rename(email="ada.lovelace@example.org")
    result = sync(fake, archive)
    assert result.returncode == 0, result.stderr
    folders = [p.name for p in archive.iterdir() if p.is_dir() and p.name != ".git"]
    assert len(folders) == 1 and folders[0].startswith("ada.lovelace@example.org-")
    assert_archive_matches(fake, archive)
    assert_git_healthy(archive)
    message = git(archive, "log", "-1", "--format=%B")
    assert 'account renamed "ada@example.com" → "ada.lovelace@example.org"' in message
    chat = next(iter(chat_files(archive).values()))
    assert len(git(archive, "log", "--follow", "--format=%H", "--", str(chat)).split()) == 2
