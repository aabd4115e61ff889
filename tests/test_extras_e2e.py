"""End to end: uploads, sandbox outputs, projects, memory and artifacts, through the real CLI
against the fake Claude.ai, checked with the real git."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_backup.fakeapi import FakeClaudeServer
from claude_backup.fakeapi.extras import Upload
from claude_backup.sync.extras.artifacts import reconstruct
from conftest import (
    Fake,
    assert_archive_matches,
    assert_git_healthy,
    git,
    make_model,
    sync,
    sync_in_process,
)


@pytest.fixture
def rich() -> Iterator[Fake]:
    """Six chats, uploads of every kind (some only in `account/files`, which pages every 2)."""
    model = make_model(chats=6)
    personal = model.accounts[0].orgs[0]
    chats = sorted(personal.chats)
    model.attach_upload(chats[0], "image", "cat.png")
    model.attach_upload(chats[0], "document", "thesis.pdf")
    model.attach_upload(chats[1], "blob", "data.bin")
    for kind in ("image", "document", "blob", "image", "document"):
        model.add_upload(personal, kind)
    with FakeClaudeServer(model) as server:
        server.files_page_size = 2
        yield Fake(model, server)


def org_dir(archive: Path, org_uuid: str) -> Path:
    (found,) = archive.glob(f"*/*-{org_uuid}")
    return found


def content_requests(fake: Fake) -> Counter[str]:
    """Requests for an upload's bytes, by file uuid."""
    counts: Counter[str] = Counter()
    for record in fake.server.request_log():
        parts = record.path.split("/")
        if "files" in parts and parts[-1] in ("contents", "preview", "thumbnail"):
            counts[parts[parts.index("files") + 1]] += 1
    return counts


def paths(fake: Fake, ending: str) -> list[tuple[str, str]]:
    return [(r.path, r.query) for r in fake.server.request_log() if r.path.endswith(ending)]


def uploads_of(fake: Fake, org_index: int = 0) -> list[Upload]:
    org = fake.model.accounts[0].orgs[org_index]
    return [u for u in fake.model.uploads.values() if u.org_uuid == org.uuid]


def last_message(archive: Path) -> str:
    return git(archive, "log", "-1", "--format=%B")


def test_each_upload_is_fetched_once(rich: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    result = sync(rich, archive)
    assert result.returncode == 0, result.stderr
    uploads = uploads_of(rich)
    assert len(uploads) == 8
    assert content_requests(rich) == Counter({u.uuid: 1 for u in uploads})
    assert any("cursor=" in query for _, query in paths(rich, "/account/files"))
    folder = org_dir(archive, uploads[0].org_uuid)
    for upload in uploads:
        meta = json.loads((folder / "files" / f"{upload.uuid}.json").read_bytes())
        assert meta["missing"] is False and meta["lossy"] is False
        assert (folder / "files" / meta["stored_as"]).read_bytes() == upload.data
    cat = next(u for u in uploads if u.name == "cat.png")
    assert (folder / "files" / cat.uuid / "cat.png").read_bytes().startswith(b"\x89PNG\r\n")
    thesis = next(u for u in uploads if u.name == "thesis.pdf")
    assert (folder / "files" / thesis.uuid / "thesis.pdf").read_bytes().startswith(b"%PDF-1.4")
    index = next(folder.glob("chat-files/*/index.json"))
    links = {u["file_name"]: u["file"] for u in json.loads(index.read_bytes())["uploads"]}
    assert (index.parent / links["cat.png"]).resolve() == (folder / "files" / cat.uuid / "cat.png")
    assert "file added: cat.png" in last_message(archive)
    assert_archive_matches(rich, archive)
    assert_git_healthy(archive)

    rich.server.reset_stats()
    head = git(archive, "rev-parse", "HEAD")
    assert sync(rich, archive).returncode == 0
    assert content_requests(rich) == Counter()
    assert git(archive, "rev-parse", "HEAD") == head

    chat = sorted(rich.model.accounts[0].orgs[0].chats)[2]
    new = rich.model.attach_upload(chat, "document", "new.pdf")
    rich.server.reset_stats()
    assert sync(rich, archive).returncode == 0
    assert content_requests(rich) == Counter({new.uuid: 1})
    assert (folder / "files" / new.uuid / "new.pdf").read_bytes() == new.data
    assert "file added: new.pdf" in last_message(archive)
    assert_git_healthy(archive)


def test_uploads_are_fetched_while_chats_still_arrive(tmp_path: Path) -> None:
    """Each chat's uploads are asked for as soon as the chat is stored, beside the requests
    for the next chats (not after all of them), and each still once."""
    model = make_model(chats=12)
    personal = model.accounts[0].orgs[0]
    for chat in sorted(personal.chats):
        model.attach_upload(chat, "document", "notes.pdf")
    with FakeClaudeServer(model, latency=0.02) as server:
        fake = Fake(model, server)
        archive = tmp_path / "archive"
        result = sync(fake, archive, "-c", "2")
        assert result.returncode == 0, result.stderr
        log = server.request_log()
        kinds = ["upload" if r.path.endswith("/contents") else r.kind for r in log]
        assert kinds.index("upload") < max(i for i, k in enumerate(kinds) if k == "detail")
        assert content_requests(fake) == Counter({u: 1 for u in fake.model.uploads})
        assert_archive_matches(fake, archive)
        assert_git_healthy(archive)


def test_a_gone_file_is_recorded_missing_and_not_retried(rich: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    uploads = {u.name: u for u in uploads_of(rich)}
    cat, paper = uploads["cat.png"], uploads["thesis.pdf"]
    rich.model.expire_upload(paper.uuid)
    rich.model.expire_upload(cat.uuid, keep_preview=True)
    result = sync(rich, archive)
    assert result.returncode == 0, result.stderr
    assert "recorded as missing" in result.stderr
    folder = org_dir(archive, paper.org_uuid)
    meta = json.loads((folder / "files" / f"{paper.uuid}.json").read_bytes())
    assert meta["missing"] is True and meta["stored_as"] is None
    assert not (folder / "files" / paper.uuid).exists()
    lossy = json.loads((folder / "files" / f"{cat.uuid}.json").read_bytes())
    assert lossy["lossy"] is True and lossy["source"] == "preview"
    assert (folder / "files" / lossy["stored_as"]).read_bytes().startswith(b"RIFF")
    message = last_message(archive)
    assert "file missing: thesis.pdf" in message and "cat.png (only a lossy preview)" in message
    assert_git_healthy(archive)

    rich.server.reset_stats()
    assert sync(rich, archive).returncode == 0
    assert content_requests(rich)[paper.uuid] == 0

    owner = sorted(rich.model.accounts[0].orgs[0].chats)[0]  # the chat that uses it changed
    rich.model.add_messages(owner, 1)
    rich.server.reset_stats()
    assert sync(rich, archive).returncode == 0
    assert content_requests(rich)[paper.uuid] == 1
    assert_git_healthy(archive)


def test_sandbox_outputs_are_fetched_when_their_chat_changes(rich: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    chats = sorted(rich.model.accounts[0].orgs[0].chats)
    chat = chats[3]
    rich.model.add_sandbox_turn(chat, {"report.csv": b"a,b\n1,2\n", "plot.py": b"print(1)\n"})
    assert sync(rich, archive).returncode == 0
    (outputs,) = archive.glob(f"*/*/chat-files/*-{chat}/sandbox/outputs")
    assert (outputs / "report.csv").read_bytes() == b"a,b\n1,2\n"
    assert (outputs / "plot.py").read_bytes() == b"print(1)\n"
    assert "sandbox output added: report.csv" in last_message(archive)
    listed = {path.split("/")[-3] for path, _ in paths(rich, "/wiggle/list-files")}
    assert listed == {chat, chats[1]}  # only chats that ran code or hold a sandbox upload

    rich.server.reset_stats()
    assert sync(rich, archive).returncode == 0
    assert paths(rich, "/wiggle/list-files") == []

    rich.model.add_messages(chat, 1)
    rich.server.reset_stats()
    assert sync(rich, archive).returncode == 0
    assert len(paths(rich, "/wiggle/list-files")) == 1
    assert paths(rich, "/wiggle/download-file") == []  # nothing new in the sandbox

    rich.model.add_sandbox_turn(chat, {"more.txt": b"more\n"})
    rich.server.reset_stats()
    assert sync(rich, archive).returncode == 0
    assert [q for _, q in paths(rich, "/wiggle/download-file")] == [
        "path=%2Fmnt%2Fuser-data%2Foutputs%2Fmore.txt"
    ]

    rich.model.expire_sandbox(chat)
    rich.model.add_messages(chat, 1)
    assert sync(rich, archive).returncode == 0
    assert (outputs / "report.csv").exists() and (outputs / "more.txt").exists()
    index = json.loads((outputs.parent.parent / "index.json").read_bytes())
    assert index["sandbox"]["available"] is False
    assert_git_healthy(archive)


def test_projects_renames_docs_and_deletions_land_in_history(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    model = fake.model
    org = model.accounts[0].orgs[0]
    project = model.add_project(org, "Thesis", "Answer in French.", "my thesis")
    doc = model.add_doc(project.uuid, "outline.md", "# Outline\n\n1. Intro\n")
    model.add_doc(project.uuid, "outline.md", "same name, another doc\n")
    logo = model.add_project_file(project.uuid, "image", "logo.png")
    model.set_memory(org, "Works on a thesis.", project.uuid)
    model.add_chat(org, "In the project", project_uuid=project.uuid)
    assert sync(fake, archive).returncode == 0
    (folder,) = archive.glob(f"*/*/projects/Thesis-{project.uuid}")
    assert (folder / "instructions.md").read_text() == "Answer in French."
    assert json.loads((folder / "project.json").read_bytes())["prompt_template"] == (
        "Answer in French."
    )
    assert (folder / "docs" / "outline.md").read_text() == "# Outline\n\n1. Intro\n"
    assert len(list((folder / "docs").iterdir())) == 2
    assert (folder / "memory.md").read_text() == "Works on a thesis.\n"
    (chat,) = json.loads((folder / "conversations.json").read_bytes())
    assert chat["name"] == "In the project"
    (item,) = json.loads((folder / "files.json").read_bytes())
    assert (folder / item["file"]).read_bytes() == logo.data
    assert "project added: Thesis" in last_message(archive)

    model.rename_project(project.uuid, "Dissertation")
    model.edit_doc(project.uuid, doc.uuid, "# Outline\n\n1. Introduction\n")
    model.set_instructions(project.uuid, "Answer in English.")
    assert sync(fake, archive).returncode == 0
    assert not folder.exists()
    (folder,) = archive.glob(f"*/*/projects/Dissertation-{project.uuid}")
    log = git(archive, "log", "--format=%B", "-2")
    assert 'project renamed "Thesis" → "Dissertation"' in log
    assert "project doc changed: outline.md" in log
    status = git(archive, "log", "-M", "--name-status", "--format=", "-2")
    assert f"Thesis-{project.uuid}/docs/outline.md" in status and "R" in status
    patch = git(archive, "log", "-p", "-1", "--", f"{folder.relative_to(archive)}/docs")
    assert "-1. Intro" in patch and "+1. Introduction" in patch

    model.delete_project(project.uuid)
    assert sync(fake, archive).returncode == 0
    assert not folder.exists()
    assert list(archive.glob(f"*/*/deleted-projects/Dissertation-{project.uuid}/project.json"))
    assert "project deleted: Dissertation" in last_message(archive)
    assert_git_healthy(archive)


def test_memory_changes_show_in_git_log_p(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    org = fake.model.accounts[0].orgs[0]
    fake.model.set_memory(org, "**Work**\nAda writes programs for the Analytical Engine.")
    assert sync(fake, archive).returncode == 0
    fake.model.set_memory(org, "**Work**\nAda writes notes on Bernoulli numbers.")
    assert sync(fake, archive).returncode == 0
    assert "memory updated" in last_message(archive)
    patch = git(archive, "log", "-p", "--", "*/memory.md")
    assert "-Ada writes programs for the Analytical Engine." in patch
    assert "+Ada writes notes on Bernoulli numbers." in patch
    memory = json.loads(next(archive.glob("*/*/memory.json")).read_bytes())
    assert memory["memory"].endswith("Bernoulli numbers.")
    assert_git_healthy(archive)


def artifact_tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in (folder / "artifacts").rglob("*")
        if p.is_file()
    }


def test_artifact_files_equal_the_reconstruction(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    model = fake.model
    chat = sorted(model.accounts[0].orgs[0].chats)[0]
    create = {"id": "plan", "type": "text/markdown", "title": "Plan", "command": "create"}
    model.add_artifact_turn(chat, [{**create, "content": "# Plan\n\n- step one\n"}])
    update = {"id": "plan", "command": "update", "old_str": "step one", "new_str": "step 1"}
    model.add_artifact_turn(chat, [update])
    code = {"id": "app", "type": "application/vnd.ant.code", "language": "python"}
    model.add_artifact_turn(chat, [{**code, "command": "rewrite", "content": "print(2)\n"}])
    model.add_legacy_turn(
        chat,
        'Old style:\n<antArtifact identifier="page" type="text/html" title="Page">\n'
        "<p>hi</p>\n</antArtifact>\n",
    )
    assert sync(fake, archive).returncode == 0
    (folder,) = archive.glob(f"*/*/chat-files/*-{chat}")
    assert (folder / "artifacts" / "plan.md").read_bytes() == b"# Plan\n\n- step 1\n"
    assert (folder / "artifacts" / "plan" / "v001.md").read_bytes() == b"# Plan\n\n- step one\n"
    assert (folder / "artifacts" / "app.py").read_bytes() == b"print(2)\n"
    assert (folder / "artifacts" / "page.html").read_bytes() == b"<p>hi</p>\n"
    for chat_file in archive.glob("*/*/chats/*.json"):
        expected = reconstruct(json.loads(chat_file.read_bytes()))
        found = list(archive.glob(f"*/*/chat-files/*-{chat_file.stem[-36:]}"))
        assert (artifact_tree(found[0]) if found else {}) == expected

    model.rename_chat(chat, "Renamed chat", bump_updated=True)
    assert sync(fake, archive).returncode == 0
    assert not folder.exists()
    (moved,) = archive.glob(f"*/*/chat-files/Renamed chat-{chat}")
    assert (moved / "artifacts" / "plan.md").read_bytes() == b"# Plan\n\n- step 1\n"
    assert_git_healthy(archive)

    model.delete_chat(chat)
    assert sync(fake, archive, "--prune-deleted").returncode == 0
    assert not moved.exists()
    assert_git_healthy(archive)


def test_files_and_projects_can_be_left_out(rich: Fake, tmp_path: Path) -> None:
    org = rich.model.accounts[0].orgs[0]
    project = rich.model.add_project(org, "Secret", "x")
    chat = sorted(org.chats)[3]
    rich.model.add_sandbox_turn(chat, {"r.txt": b"r\n"})
    archive = tmp_path / "archive"

    def run_sync(files: bool, projects: bool) -> None:
        report = sync_in_process(archive, rich.base_url, files=files, projects=projects)
        assert report.failures == []

    run_sync(files=False, projects=False)
    log = rich.server.request_log()
    assert not any("/files/" in r.path or "/wiggle/" in r.path for r in log)
    assert not any("/projects" in r.path or "/memory" in r.path for r in log)
    assert not list(archive.glob("*/*/projects")) and not list(archive.glob("*/*/files"))

    rich.server.reset_stats()
    run_sync(files=True, projects=True)
    assert len(content_requests(rich)) == 8
    assert list(archive.glob(f"*/*/projects/Secret-{project.uuid}/project.json"))
    assert list(archive.glob(f"*/*/chat-files/*-{chat}/sandbox/outputs/r.txt"))
    assert_git_healthy(archive)


def test_a_no_change_sync_asks_nothing_per_project(rich: Fake, tmp_path: Path) -> None:
    """Per organization the small answers (uploads listing, projects listing, memory, ...),
    nothing per project until the daily full pass; a fresh clone (which has no record of the
    last full pass) reads each project once more, and commits nothing."""
    org = rich.model.accounts[0].orgs[0]
    project = rich.model.add_project(org, "P", "x")
    rich.model.add_sandbox_turn(sorted(org.chats)[3], {"r.txt": b"r\n"})
    archive = tmp_path / "archive"
    assert sync(rich, archive).returncode == 0
    rich.server.reset_stats()
    assert sync(rich, archive).returncode == 0
    other = [r.path for r in rich.server.request_log() if r.kind == "other"]
    team = rich.model.accounts[0].orgs[1]
    for o in (org, team):
        for what in ("account/files", "projects", "memory"):
            assert sum(p == f"/api/organizations/{o.uuid}/{what}" for p in other) == 1
    assert not [p for p in other if f"projects/{project.uuid}" in p]
    assert sum(p.endswith("/memory") for p in other) == 2  # the organizations', not the project's

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(archive), str(clone))
    rich.server.reset_stats()
    assert sync(rich, clone).returncode == 0
    again = [r.path for r in rich.server.request_log() if r.kind == "other"]
    mine = sorted(p.split(f"projects/{project.uuid}")[-1] for p in again if project.uuid in p)
    assert mine == ["", "/conversations", "/docs"]  # files_count did not move: no files
    assert sum(p.endswith("/memory") for p in again) == 3  # and the project's memory
    assert git(clone, "status", "--porcelain") == ""
