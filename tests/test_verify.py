"""`claude-backup verify`: passes on a good archive; fails, naming the item, when a chat file,
an upload or a pack object is gone; --online compares with the fake claude.ai."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claude_backup.cli.app import app
from claude_backup.client import ClaudeClient
from claude_backup.fakeapi import FakeClaudeServer, plus_of
from claude_backup.keys import SessionKey
from claude_backup.sync.verify import Verified, verify_offline, verify_online
from conftest import FAST_POLITENESS, KEY, Fake, git, make_model, sync_in_process


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[tuple[Fake, Path]]:
    model = make_model(chats=5)
    org = model.accounts[0].orgs[0]
    chats = sorted(org.chats)
    model.attach_upload(chats[0], "document", "thesis.pdf")
    model.attach_upload(chats[1], "image", "cat.png")
    model.add_artifact_turn(
        chats[1],
        [
            {
                "id": "a",
                "type": "text/markdown",
                "title": "A",
                "command": "create",
                "content": "# A\n",
            }
        ],
    )
    plus_of(model).add_skill(org, "notes", {"SKILL.md": b"notes"})
    model.add_project(org, "Thesis", "x")
    archive = tmp_path / "archive"
    with FakeClaudeServer(model) as server:
        fake = Fake(model, server)
        report = sync_in_process(archive, server.base_url)
        assert report.failures == []
        yield fake, archive


def lines(result: Verified) -> str:
    return "\n".join(p.line() for p in result.problems)


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["verify", *args], env={"CLAUDE_BACKUP_CONFIG": os.devnull})


def test_a_good_archive_passes(synced: tuple[Fake, Path]) -> None:
    _, archive = synced
    result = verify_offline(archive)
    assert result.problems == []
    assert result.checked["chat files"] == 5 and result.checked["artifact indexes"] >= 1
    assert result.checked["uploads used by chats"] == 2 and result.checked["skills"] == 1
    done = cli(str(archive))
    assert done.exit_code == 0 and "ok: nothing missing" in done.output
    out = json.loads(cli(str(archive), "--json").output)
    assert out["ok"] is True and out["exit_code"] == 0


def test_a_removed_chat_file_is_named(synced: tuple[Fake, Path]) -> None:
    _, archive = synced
    (victim,) = list(archive.glob("*/*/chats/Chat 1-*.json"))
    victim.unlink()
    rel = str(victim.relative_to(archive))
    assert f"file: {rel}: in the last commit but not in the folder" in lines(
        verify_offline(archive)
    )
    done = cli(str(archive))
    assert done.exit_code == 10 and rel in done.output
    out = json.loads(cli(str(archive), "--json").output)
    assert out["exit_code"] == 10 and rel in {p["item"] for p in out["problems"]}


def test_a_chat_file_that_lies_about_its_uuid_is_named(synced: tuple[Fake, Path]) -> None:
    _, archive = synced
    first, second = sorted(archive.glob("*/*/chats/*.json"))[:2]
    first.write_bytes(second.read_bytes())
    assert f"chat: {first.relative_to(archive)}: holds chat" in lines(verify_offline(archive))
    first.write_bytes(b"{ truncated")
    assert "not valid JSON" in lines(verify_offline(archive))


def test_a_removed_upload_is_named(synced: tuple[Fake, Path]) -> None:
    _, archive = synced
    (victim,) = list(archive.glob("*/*/files/*/thesis.pdf"))
    victim.unlink()
    report = lines(verify_offline(archive))
    assert "upload: thesis.pdf (used by" in report
    assert "upload: thesis.pdf (" in report and "is not there" in report


def test_an_altered_upload_is_named(synced: tuple[Fake, Path]) -> None:
    _, archive = synced
    (victim,) = list(archive.glob("*/*/files/*/cat.png"))
    data = bytearray(victim.read_bytes())
    data[-1] ^= 1
    victim.write_bytes(bytes(data))
    assert "cat.png" in lines(verify_offline(archive))
    assert "sha256" in lines(verify_offline(archive))


def test_a_missing_upload_with_its_reason_passes(synced: tuple[Fake, Path]) -> None:
    fake, archive = synced
    org = fake.model.accounts[0].orgs[0]
    chat = sorted(org.chats)[2]
    gone = fake.model.attach_upload(chat, "document", "lost.pdf")
    fake.model.expire_upload(gone.uuid)
    sync_in_process(archive, fake.base_url)
    assert verify_offline(archive).problems == []
    (meta,) = list(archive.glob(f"*/*/files/{gone.uuid}.json"))
    record = json.loads(meta.read_bytes())
    del record["note"]
    meta.write_text(json.dumps(record))
    assert "recorded missing without a reason" in lines(verify_offline(archive))


def test_a_broken_artifact_index_is_named(synced: tuple[Fake, Path]) -> None:
    _, archive = synced
    (version,) = list(archive.glob("*/*/chat-files/*/artifacts/a/v001.md"))
    version.unlink()
    assert "artifacts/a/v001.md: named by artifact 'a'" in lines(verify_offline(archive))


def _remove_object(archive: Path, sha: str) -> None:
    """Repack the archive without one object (as a damaged disk or a bad copy would)."""
    env = {"PATH": os.environ["PATH"], "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(archive)}
    listed = subprocess.run(
        ["git", "-C", str(archive), "rev-list", "--objects", "--all"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    keep = "\n".join(line.split()[0] for line in listed.splitlines() if not line.startswith(sha))
    pack_dir = archive / ".git" / "objects" / "pack"
    old = list(pack_dir.iterdir())
    subprocess.run(
        ["git", "-C", str(archive), "pack-objects", "-q", str(pack_dir / "pack")],
        input=keep + "\n",
        text=True,
        check=True,
        env=env,
        capture_output=True,
    )
    for path in old:
        path.unlink()
    loose = archive / ".git" / "objects" / sha[:2] / sha[2:]
    if loose.exists():
        loose.unlink()


@pytest.mark.parametrize("use_git", [True, False])
def test_a_removed_pack_object_is_named_by_its_file(
    synced: tuple[Fake, Path], use_git: bool
) -> None:
    _, archive = synced
    (victim,) = list(archive.glob("*/*/chats/Chat 2-*.json"))
    rel = str(victim.relative_to(archive))
    sha = git(archive, "rev-parse", f"HEAD:{rel}").strip()
    _remove_object(archive, sha)
    result = verify_offline(archive, use_git=use_git)
    report = lines(result)
    assert f"git: {rel}: blob {sha[:12]}" in report
    fsck = [p.detail for p in result.problems if p.item == "git fsck"]
    assert bool(fsck) == use_git  # git's own check too, when git is installed
    assert not use_git or any(sha in line for line in fsck)
    done = cli(str(archive))
    assert done.exit_code == 10 and rel in done.output


def test_online_every_listed_chat_project_and_skill(synced: tuple[Fake, Path]) -> None:
    fake, archive = synced

    def online() -> str:
        result = Verified()

        async def go() -> None:
            async with ClaudeClient(fake.base_url, SessionKey(KEY, "t"), FAST_POLITENESS) as client:
                await verify_online(archive, client, result)

        asyncio.run(go())
        return lines(result)

    assert online() == ""
    org = fake.model.accounts[0].orgs[0]
    new = fake.model.add_chat(org, "Written since")
    fake.model.add_messages(sorted(org.chats)[0], 1)
    project = fake.model.add_project(org, "Later", "y")
    plus_of(fake.model).add_skill(org, "later-skill", {"SKILL.md": b"x"})
    report = online()
    assert f"chat {new.uuid} (Written since): on claude.ai but not in the archive" in report
    assert f"chat {sorted(org.chats)[0]}" in report and "updated_at" in report
    assert "project Later" in report and project.uuid not in report
    assert "skill later-skill" in report
    env = {"CLAUDE_BACKUP_CONFIG": os.devnull, "CLAUDE_SESSION_KEY": KEY}
    done = CliRunner().invoke(
        app, ["verify", str(archive), "--online", "--base-url", fake.base_url, "--json"], env=env
    )
    out = json.loads(done.output)
    assert done.exit_code == 10 and out["online"] is True
    assert any(new.uuid in p["item"] for p in out["problems"])
