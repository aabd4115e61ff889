"""`import`: Claude.ai's official data export, built here from the fake model in both known
layouts, imported with the installed CLI; API-fetched copies are never overwritten, and a later
sync replaces imported copies with the API's."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from claude_backup.fakeapi import Chat, FakeClaude, FakeClaudeServer
from conftest import (
    Fake,
    assert_archive_matches,
    assert_git_healthy,
    chat_files,
    commit_count,
    git,
    make_model,
    run_cli,
    sync,
)

MESSAGE_KEYS = ("uuid", "text", "content", "sender", "created_at", "updated_at", "attachments")


def conversation(model: FakeClaude, chat: Chat, *, tree: bool) -> dict[str, Any]:
    """A chat as the export has it: no model, leaf, settings; `account` added. Without `tree`,
    the older shape: no parents, only the selected branch."""
    detail = model.chat_detail(chat)
    owner = next(a for a in model.accounts if any(chat.uuid in o.chats for o in a.orgs))
    keep = {m.uuid for m in chat.branch()}
    messages = []
    for message in detail["chat_messages"]:
        if not tree and message["uuid"] not in keep:
            continue
        item = {k: message[k] for k in MESSAGE_KEYS}
        item["files"] = [{"file_name": f["file_name"]} for f in message["files"]]
        if tree:
            item["parent_message_uuid"] = message["parent_message_uuid"]
        messages.append(item)
    return {
        "uuid": chat.uuid,
        "name": chat.name,
        "summary": chat.summary,
        "created_at": chat.created_at,
        "updated_at": chat.updated_at,
        "account": {"uuid": owner.uuid},
        "chat_messages": messages,
    }


def export_files(model: FakeClaude, *, tree: bool) -> dict[str, Any]:
    account = model.accounts[0]
    chats = [c for o in account.orgs for c in o.chats.values()]
    project = {
        "uuid": "5e1f0000-0000-4000-8000-00000000abcd",
        "name": "Garden",
        "description": "",
        "prompt_template": "Be brief.",
        "created_at": "2026-03-01T10:00:00+00:00",
        "updated_at": "2026-03-01T10:00:00+00:00",
        "creator": {"uuid": account.uuid, "full_name": account.full_name},
        "docs": [
            {
                "uuid": "5e1f0000-0000-4000-8000-00000000abce",
                "filename": "soil.md",
                "content": "Loam.",
                "created_at": "2026-03-01T10:00:00+00:00",
            }
        ],
    }
    return {
        "users": [
            {
                "uuid": account.uuid,
                "full_name": account.full_name,
                "email_address": account.email,
                "verified_phone_number": None,
            }
        ],
        "conversations": [conversation(model, c, tree=tree) for c in chats],
        "project": project,
        "memories": [
            {
                "conversations_memory": "Likes gardens.",
                "project_memories": {},
                "account_uuid": account.uuid,
            }
        ],
    }


def flat_zip(path: Path, files: dict[str, Any]) -> Path:
    """The older layout: one zip with conversations.json, projects.json, users.json, ..."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("conversations.json", json.dumps(files["conversations"]))
        z.writestr("users.json", json.dumps(files["users"]))
        z.writestr("projects.json", json.dumps([files["project"]]))
        z.writestr("memories.json", json.dumps(files["memories"]))
    return path


def split_layout(folder: Path, files: dict[str, Any]) -> Path:
    """The newer layout: a manifest and one zip per category."""
    folder.mkdir()
    parts = {
        "conversations-000.zip": {"conversations.json": files["conversations"]},
        "light_metadata-000.zip": {"users.json": files["users"]},
        "projects-000.zip": {f"projects/{files['project']['uuid']}.json": files["project"]},
    }
    for name, members in parts.items():
        with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_DEFLATED) as z:
            for member, value in members.items():
                z.writestr(member, json.dumps(value))
    (folder / "manifest-x-1760000000-abc-2026-03-01-10-00-00.json").write_text(
        json.dumps(
            {
                "created_at": "2026-03-01T10:00:00+00:00",
                "total_files": 3,
                "version": 1,
                "data_files": [],
            }
        )
    )
    return folder


def do_import(archive: Path, *paths: Path) -> Any:
    return run_cli(
        "import", *map(str, paths), "--archive", str(archive), base_url="http://127.0.0.1:9"
    )


def imported_files(archive: Path) -> dict[str, Path]:
    return {u: p for u, p in chat_files(archive).items() if "/Imported export-" in str(p)}


def test_import_flat_zip_into_a_new_archive(tmp_path: Path) -> None:
    model = make_model(chats=5)
    files = export_files(model, tree=False)
    archive = tmp_path / "archive"
    result = do_import(
        archive, flat_zip(tmp_path / "data-2026-03-01-10-00-00-batch-0000.zip", files)
    )
    assert result.returncode == 0, result.stderr
    assert "5 new" in result.stdout
    assert_git_healthy(archive)
    assert commit_count(archive) == 1
    account = model.accounts[0]
    folder = archive / f"{account.email}-{account.uuid}" / f"Imported export-{account.uuid}"
    stored = imported_files(archive)
    assert set(stored) == {c["uuid"] for c in files["conversations"]}
    for conv in files["conversations"]:
        assert json.loads(stored[conv["uuid"]].read_text()) == conv
        assert stored[conv["uuid"]].parent == folder / "chats"
    assert (
        json.loads((folder / "projects" / f"Garden-{files['project']['uuid']}.json").read_text())[
            "prompt_template"
        ]
        == "Be brief."
    )
    assert json.loads((folder / "memory.json").read_text())["conversations_memory"]
    message = git(archive, "log", "-1", "--format=%an <%ae>%n%B")
    assert message.startswith(f"{account.full_name} <{account.email}>\nImport: 5 new")
    assert "From Claude.ai's data export data-2026" in message
    # The imported chats read like any other: the last message is the current leaf.
    chat = model.accounts[0].orgs[0].chats
    some = next(iter(chat.values()))
    shown = run_cli("show", some.uuid, "--archive", str(archive), base_url="http://127.0.0.1:9")
    assert shown.returncode == 0 and shown.stdout.count("## ") == len(some.branch())
    # Importing the same export again changes nothing.
    again = do_import(archive, tmp_path / "data-2026-03-01-10-00-00-batch-0000.zip")
    assert again.returncode == 0 and "nothing to import" in again.stdout
    assert commit_count(archive) == 1
    # A newer export updates the imported copy (renamed and one more message here).
    newer = files["conversations"][0]
    newer["chat_messages"].append(dict(newer["chat_messages"][-1], uuid=model.new_uuid()))
    newer.update(name="Renamed later", updated_at="2026-04-01T00:00:00.000000Z")
    later = do_import(archive, flat_zip(tmp_path / "later.zip", files))
    assert later.returncode == 0 and "1 new" not in later.stdout
    assert "1 updated, 4 unchanged" in later.stdout
    assert json.loads(imported_files(archive)[newer["uuid"]].read_text()) == newer
    assert imported_files(archive)[newer["uuid"]].name.startswith("Renamed later-")
    assert commit_count(archive) >= 2
    assert_git_healthy(archive)


def test_import_split_layout_folder_and_zips(tmp_path: Path) -> None:
    model = make_model(chats=4)
    files = export_files(model, tree=True)
    folder = split_layout(tmp_path / "export", files)
    archive = tmp_path / "a1"
    assert do_import(archive, folder).returncode == 0
    stored = imported_files(archive)
    assert {json.dumps(json.loads(p.read_text()), sort_keys=True) for p in stored.values()} == {
        json.dumps(c, sort_keys=True) for c in files["conversations"]
    }
    other = tmp_path / "a2"
    result = do_import(other, *sorted(folder.glob("*.zip")))
    assert result.returncode == 0, result.stderr
    assert set(imported_files(other)) == set(stored)
    assert_git_healthy(other)


def test_import_never_overwrites_api_copies(tmp_path: Path) -> None:
    model = make_model(chats=5)
    gone = model.add_chat(model.accounts[0].orgs[0], "Only in the export", turns=2)
    files = export_files(model, tree=True)
    model.delete_chat(gone.uuid)
    archive = tmp_path / "archive"
    with FakeClaudeServer(model) as server:
        assert sync(Fake(model, server), archive).returncode == 0
    before = {u: p.read_bytes() for u, p in chat_files(archive).items()}
    result = do_import(archive, flat_zip(tmp_path / "export.zip", files))
    assert result.returncode == 0, result.stderr
    assert "1 new" in result.stdout and "5 kept" in result.stdout
    after = chat_files(archive)
    assert {u: after[u].read_bytes() for u in before} == before
    assert set(imported_files(archive)) == {gone.uuid}
    assert_git_healthy(archive)


def test_sync_replaces_imported_copies_with_the_api(tmp_path: Path) -> None:
    model = make_model(chats=5)
    files = export_files(model, tree=False)
    archive = tmp_path / "archive"
    assert do_import(archive, flat_zip(tmp_path / "export.zip", files)).returncode == 0
    assert len(imported_files(archive)) == 5
    with FakeClaudeServer(model) as server:
        fake = Fake(model, server)
        result = sync(fake, archive)
        assert result.returncode == 0, result.stderr
        assert imported_files(archive) == {}
        # the imported chats' artifact folders went with them
        assert list(archive.glob("*/Imported export-*/chat-files/*")) == []
        assert_archive_matches(fake, archive)
    assert_git_healthy(archive)
    uuid = files["conversations"][0]["uuid"]
    log = run_cli("log", uuid, "--archive", str(archive), base_url="http://127.0.0.1:9")
    lines = log.stdout.splitlines()[2:]
    assert len(lines) == 2 and "new" in lines[0]
    assert "(from Imported export-" in lines[1]


def test_bad_exports_are_refused_cleanly(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    not_zip = tmp_path / "export.zip"
    not_zip.write_text("hello")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("users.json", "[]")
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("conversations.json", "[{")
    for path, words in [
        (not_zip, "no conversations.json"),
        (empty, "no conversations.json"),
        (broken, "not valid JSON"),
        (tmp_path / "missing.zip", "does not exist"),
    ]:
        result = do_import(archive, path)
        assert result.returncode == 2, result.stderr
        assert words in result.stderr and result.stderr.count("\n") == 1
    assert not archive.exists()
