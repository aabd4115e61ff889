"""`import` of exports in the shapes real ones have (fakeapi/exports.py): no parent links,
shuffled `chat_messages`, a reply sharing its prompt's `created_at`, chats without `account`.
Every chat reads back as the linear thread it is, with its artifacts; an import that can
import nothing fails; no folder for an account the export does not hold."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from claude_backup.fakeapi import FakeClaude, FakeClaudeServer
from claude_backup.fakeapi.exports import ExportShape, export_files, write_export_zip
from claude_backup.fakeapi.realshapes import add_react_rewrite_turns, add_research_turn
from claude_backup.read.tree import MessageTree
from conftest import (
    CLI,
    KEY,
    Fake,
    assert_git_healthy,
    chat_files,
    commit_count,
    run_cli,
    sync,
)

LEGACY_VERSIONS = [f"<p>version {n}</p>" for n in range(1, 5)]


def real_model() -> FakeClaude:
    """Chats with forks on claude.ai (the export keeps the selected branch), artifacts made
    and rewritten as real ones are, a legacy `<antArtifact>` chat with several versions."""
    model = FakeClaude(seed=11)
    account = model.add_account(KEY, "ada@example.com", "Ada Lovelace")
    org = account.add_org("Personal")
    for n in range(4):
        model.add_chat(org, f"Chat {n}", turns=6, branches=2)
    tools = model.add_chat(org, "Tools", turns=1)
    add_react_rewrite_turns(model, tools.uuid, "counter")
    add_research_turn(model, tools.uuid)
    legacy = model.add_chat(org, "Legacy page", turns=0)
    for version in LEGACY_VERSIONS:
        model.add_legacy_turn(
            legacy.uuid,
            f'Here:\n<antArtifact identifier="page" type="text/html" title="Page">\n{version}\n'
            "</antArtifact>",
        )
    return model


def import_cli(archive: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("import", *args, "--archive", str(archive), base_url="http://127.0.0.1:9")


def write(tmp_path: Path, files: dict[str, Any], name: str = "export.zip") -> Path:
    return write_export_zip(tmp_path / name, files)


def imported(archive: Path) -> dict[str, dict[str, Any]]:
    return {
        uuid: json.loads(path.read_text())
        for uuid, path in chat_files(archive).items()
        if "/Imported export-" in str(path)
    }


def chat_folder(archive: Path, uuid: str) -> Path:
    (folder,) = archive.glob(f"*/*/chat-files/*-{uuid}")
    return folder


def test_a_real_shape_export_reads_back_as_linear_threads_with_artifacts(tmp_path: Path) -> None:
    model = real_model()
    account = model.accounts[0]
    zip_path = write(tmp_path, export_files(model, account, ExportShape(seed=3)))
    archive = tmp_path / "archive"
    result = import_cli(archive, str(zip_path))
    assert result.returncode == 0, result.stderr
    assert "6 new" in result.stdout and "artifacts" in result.stdout
    chats = {c.uuid: c for org in account.orgs for c in org.chats.values()}
    stored = imported(archive)
    assert set(stored) == set(chats)
    for uuid, data in stored.items():
        assert "parent_message_uuid" not in json.dumps(data)
        tree = MessageTree.from_chat(data)
        assert len(tree.leaves()) == 1, f"{chats[uuid].name}: an invented fork"
        path = [tree.messages[k]["uuid"] for k in tree.current_path(data)]
        assert path == [m.uuid for m in chats[uuid].branch()], chats[uuid].name
        shown = run_cli(
            "show", uuid, "--branch", "all", "--archive", str(archive), base_url="http://x:9"
        )
        assert shown.returncode == 0 and "Fork" not in shown.stdout

    tools = next(u for u, c in chats.items() if c.name == "Tools")
    index = json.loads((chat_folder(archive, tools) / "artifacts" / "index.json").read_text())
    counter = next(a for a in index["artifacts"] if a["id"] == "counter")
    assert counter["file"] == "artifacts/counter.jsx" and counter["title"] == "Counter"
    assert [(v["command"], v["based_on"]) for v in counter["versions"]] == [
        ("create", None),
        ("rewrite", 1),
    ]
    report = next(a for a in index["artifacts"] if a["id"].startswith("compass_artifact_"))
    assert "## Sources" in (chat_folder(archive, tools) / report["file"]).read_text()

    legacy = next(u for u, c in chats.items() if c.name == "Legacy page")
    folder = chat_folder(archive, legacy)
    index = json.loads((folder / "artifacts" / "index.json").read_text())
    (page,) = index["artifacts"]
    assert [(v["command"], v["based_on"]) for v in page["versions"]] == [
        ("create", None),
        ("rewrite", 1),
        ("rewrite", 2),
        ("rewrite", 3),
    ]
    assert (folder / "artifacts" / "page.html").read_text() == LEGACY_VERSIONS[-1] + "\n"
    assert page["on_current_branch"] is True
    assert_git_healthy(archive)

    again = import_cli(archive, str(zip_path))  # the same export twice changes nothing
    assert again.returncode == 0 and "nothing to import" in again.stdout
    assert commit_count(archive) == 1


def test_import_writes_the_artifacts_a_sync_writes(tmp_path: Path) -> None:
    """The same reconstruction: the imported chat's artifact files are the synced chat's."""
    model = real_model()
    with FakeClaudeServer(model) as server:
        synced = tmp_path / "synced"
        assert sync(Fake(model, server), synced).returncode == 0
    zip_path = write(tmp_path, export_files(model, model.accounts[0], ExportShape(seed=9)))
    archive = tmp_path / "archive"
    assert import_cli(archive, str(zip_path)).returncode == 0
    for chat in (c for org in model.accounts[0].orgs for c in org.chats.values()):
        if not chat.name.startswith(("Tools", "Legacy")):
            continue
        mine, theirs = chat_folder(archive, chat.uuid), chat_folder(synced, chat.uuid)
        for path in (theirs / "artifacts").rglob("*"):
            if path.is_file():
                assert (mine / path.relative_to(theirs)).read_bytes() == path.read_bytes(), path


def test_chats_without_account_need_an_account_to_import(tmp_path: Path) -> None:
    model = real_model()
    account = model.accounts[0]
    files = export_files(model, account, ExportShape(account_key=False, users=False))
    zip_path = write(tmp_path, files)
    archive = tmp_path / "archive"

    refused = import_cli(archive, str(zip_path))
    assert refused.returncode == 2
    assert "nothing imported" in refused.stderr and "--account" in refused.stderr
    assert "internal error" not in refused.stderr and refused.stderr.count("\n") == 1
    assert not archive.exists()

    unknown = import_cli(archive, str(zip_path), "--account", "eve@example.com")
    assert unknown.returncode == 2 and "eve@example.com" in unknown.stderr

    done = import_cli(archive, str(zip_path), "--account", account.uuid)
    assert done.returncode == 0, done.stderr
    assert len(imported(archive)) == 6
    assert [p.name for p in archive.iterdir() if p.name[0] != "."] == [f"account-{account.uuid}"]


def test_chats_without_account_go_to_the_archives_only_account(tmp_path: Path) -> None:
    model = real_model()
    account = model.accounts[0]
    archive = tmp_path / "archive"
    with FakeClaudeServer(model) as server:
        assert sync(Fake(model, server), archive, "--no-files").returncode == 0
    before = commit_count(archive)
    org = account.orgs[0]
    extra = model.add_chat(org, "Only in the export", turns=2)
    files = export_files(model, account, ExportShape(account_key=False, users=False))
    files["conversations.json"] = [
        c for c in files["conversations.json"] if c["uuid"] == extra.uuid
    ]
    del org.chats[extra.uuid]
    result = import_cli(archive, str(write(tmp_path, files)))
    assert result.returncode == 0, result.stderr
    (path,) = [p for u, p in chat_files(archive).items() if u == extra.uuid]
    assert path.parts[-4].startswith("ada@example.com-") and "Imported export" in path.parts[-3]
    assert commit_count(archive) == before + 1
    by_email = import_cli(archive, str(write(tmp_path, files, "b.zip")), "--account", account.email)
    assert by_email.returncode == 0 and "1 unchanged" in by_email.stdout


def test_other_tools_wrappers_are_read_or_refused(tmp_path: Path) -> None:
    model = real_model()
    account = model.accounts[0]
    files = export_files(model, account, ExportShape())
    wrapped = {**files, "conversations.json": {"conversations": files["conversations.json"]}}
    archive = tmp_path / "archive"
    result = import_cli(archive, str(write(tmp_path, wrapped, "wrapped.zip")))
    assert result.returncode == 0, result.stderr
    assert len(imported(archive)) == 6

    other = {
        "conversations.json": {"conversations": [{"id": 1, "mapping": {}}], "version": 2},
        "users.json": files["users.json"],
    }
    before = commit_count(archive)
    refused = import_cli(archive, str(write(tmp_path, other, "other.zip")))
    assert refused.returncode == 2 and "not Claude.ai's list of chats" in refused.stderr
    assert commit_count(archive) == before

    empty = import_cli(archive, str(write(tmp_path, {"conversations.json": []}, "empty.zip")))
    assert empty.returncode == 2 and "nothing imported" in empty.stderr
    assert commit_count(archive) == before


def test_a_project_by_someone_not_in_the_export_gets_no_folder_of_its_own(tmp_path: Path) -> None:
    model = real_model()
    account = model.accounts[0]
    files = export_files(model, account, ExportShape())
    stranger = "0badc0de-0000-4000-8000-000000000001"
    files["projects.json"] = [
        {
            "uuid": "5e1f0000-0000-4000-8000-00000000abcd",
            "name": "Shared garden",
            "created_at": "2025-03-01T10:00:00+00:00",
            "updated_at": "2025-03-01T10:00:00+00:00",
            "creator": {"uuid": stranger, "full_name": "A teammate"},
            "docs": [],
        }
    ]
    archive = tmp_path / "archive"
    assert import_cli(archive, str(write(tmp_path, files))).returncode == 0
    folders = [p.name for p in archive.iterdir() if p.name[0] != "."]
    assert folders == [f"ada@example.com-{account.uuid}"]
    assert len(list(archive.glob("*/*/projects/Shared garden-*.json"))) == 1


def test_output_cut_short_by_the_reader_ends_quietly(tmp_path: Path) -> None:
    model = real_model()
    archive = tmp_path / "archive"
    with FakeClaudeServer(model) as server:
        assert sync(Fake(model, server), archive, "--no-files").returncode == 0
    for command in (
        f"{CLI} search a --archive {archive}",
        f"{CLI} status {archive}",
        f"{CLI} config show",
        f"{CLI} show 'Chat 0' --branch all --archive {archive}",
    ):
        result = subprocess.run(
            # `true` is gone long before Python has started: every write meets a closed pipe
            ["bash", "-o", "pipefail", "-c", f"{command} | true"],
            capture_output=True,
            text=True,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )
        assert "Error" not in result.stderr and "error" not in result.stderr, (command, result)
        assert result.returncode == 0, (command, result.stderr)


def test_the_sync_summary_counts_artifacts_not_their_files(tmp_path: Path) -> None:
    model = FakeClaude(seed=2)
    org = model.add_account(KEY, "ada@example.com").add_org("Personal")
    chat = model.add_chat(org, "Counter", turns=0)
    add_react_rewrite_turns(model, chat.uuid, "counter")  # one artifact, three files
    with FakeClaudeServer(model) as server:
        result = sync(Fake(model, server), tmp_path / "archive", "--no-files")
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "archive").glob("*/*/chat-files/*/artifacts/**/*.jsx"))) == 3
    assert "1 artifact;" in result.stdout + result.stderr
    assert "3 artifacts" not in result.stdout + result.stderr


def test_the_fake_speaks_what_real_chats_speak() -> None:
    """Every fake chat carries the real keys, so every test meets them."""
    model = FakeClaude(seed=4)
    org = model.add_account(KEY, "ada@example.com").add_org("Personal")
    chats = [model.add_chat(org, f"c{n}", turns=4) for n in range(8)]
    details = [model.chat_detail(c) for c in chats]
    assert all({"thinking_mode", "effort_level"} <= set(d["settings"]) for d in details)
    assert all(isinstance(d["settings"]["enabled_mcp_tools"], dict) for d in details)
    messages = [m for d in details for m in d["chat_messages"]]
    assert all(m["input_mode"] == "text" for m in messages if m["sender"] == "human")
    blocks = [b for m in messages for b in m["content"]]
    thinking = [b for b in blocks if b["type"] == "thinking"]
    assert thinking and all(len(b["summaries"]) > 1 and "truncated" in b for b in thinking)
    uses = [b for b in blocks if b["type"] == "tool_use"]
    assert uses and all(b["tool_identifier"] == b["name"] for b in uses)
    assert any(b["type"] == "text" and not b["text"].strip() for b in blocks)
    files = [f for m in messages for f in m["files"]]
    assert files and all(f["success"] is True for f in files)
