"""The first hour of a new user (issue 19): each item a test, in-process where no process boundary
matters (typer's CliRunner against the fake Claude.ai on 127.0.0.1, real git on disk)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claude_backup.archive.repository import Archive
from claude_backup.archive.runlog import record_run, sync_running
from claude_backup.cli.app import app
from claude_backup.model.layout import MARKER
from conftest import FAST_FLAGS, KEY, Fake, assert_git_healthy, commit_count, git

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def cli(*args: str, fake: Fake | None = None, key: str | None = KEY, **kw: Any) -> Any:
    """The CLI in this process; the key in the environment unless `key` is None."""
    env = {"CLAUDE_SESSION_KEY": key or "", "CLAUDE_BACKUP_ARCHIVE": ""}
    if fake is not None:
        env["CLAUDE_BACKUP_BASE_URL"] = fake.base_url
    env.update(kw.pop("env", {}))
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False, **kw)


def sync(fake: Fake, archive: Path, *extra: str, **kw: Any) -> Any:
    return cli("sync", str(archive), *FAST_FLAGS, *extra, fake=fake, **kw)


def run_git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout


# -- 1. an empty git repository is a fine place for a new archive -----------------------------


@pytest.mark.parametrize("how", ["git init", "clone of an empty remote"])
def test_sync_into_an_empty_git_repository(fake: Fake, tmp_path: Path, how: str) -> None:
    archive = tmp_path / "archive"
    if how == "git init":
        archive.mkdir()
        run_git(archive, "init", "-q", "--initial-branch=master")
    else:
        run_git(tmp_path, "init", "-q", "--bare", "--initial-branch=master", "remote.git")
        run_git(tmp_path, "clone", "-q", "remote.git", "archive")
    first = sync(fake, archive)
    assert first.exit_code == 0, first.output
    assert (archive / MARKER).is_file()
    assert MARKER in git(archive, "ls-files")
    assert_git_healthy(archive)
    fake.model.add_chat(fake.model.accounts[0].orgs[0], "One more", turns=1)
    again = sync(fake, archive)
    assert again.exit_code == 0, again.output
    assert commit_count(archive) == 2
    assert cli("status", str(archive)).exit_code == 0
    if how != "git init":  # the clone's origin is the empty remote: push, then clone it back
        pushed = cli("push", str(archive))
        assert pushed.exit_code == 0, pushed.output
        run_git(tmp_path, "clone", "-q", "remote.git", "copy")
        assert (tmp_path / "copy" / MARKER).is_file()


def test_an_archive_that_lost_its_marker_is_recognised(
    fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "archive"
    assert sync(fake, archive).exit_code == 0
    run_git(archive, "rm", "-q", MARKER)
    run_git(archive, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "oops")
    monkeypatch.chdir(archive / next(p.name for p in archive.iterdir() if "@" in p.name))
    status = cli("status")  # found from a folder inside it, not some other archive
    assert status.exit_code == 0, status.output
    assert f"archive: {archive}" in status.output
    again = sync(fake, archive)
    assert again.exit_code == 0, again.output
    assert MARKER in git(archive, "ls-files")  # restored by the next commit


def test_a_foreign_git_repository_is_still_refused(fake: Fake, tmp_path: Path) -> None:
    repo = tmp_path / "code"
    repo.mkdir()
    run_git(repo, "init", "-q")
    (repo / "main.py").write_text("print(1)\n")
    run_git(repo, "add", "main.py")
    run_git(repo, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "code")
    result = sync(fake, repo)
    assert result.exit_code == 7 and "not a claude-backup archive" in result.output
    assert not (repo / MARKER).exists()


# -- 3. a bare remote whose HEAD names master --------------------------------------------------


def test_push_to_a_bare_remote_on_master_makes_clone_work(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    assert sync(fake, archive).exit_code == 0
    run_git(tmp_path, "init", "-q", "--bare", "--initial-branch=master", "remote.git")
    assert (
        cli("remote", "add", "origin", str(tmp_path / "remote.git"), "-a", str(archive)).exit_code
        == 0
    )
    pushed = cli("push", "-a", str(archive))
    assert pushed.exit_code == 0, pushed.output
    assert "HEAD to refs/heads/main" in pushed.output
    run_git(tmp_path, "clone", "-q", "remote.git", "copy")
    assert (tmp_path / "copy" / MARKER).is_file()
    assert run_git(tmp_path / "remote.git", "symbolic-ref", "HEAD").strip() == "refs/heads/main"


# -- 4, 5. which archive: remembered, said, named the same way everywhere ----------------------


def test_the_last_archive_is_remembered_and_named(
    fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "somewhere" / "claude-archive"
    assert sync(fake, archive).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    status = cli("status")
    assert status.exit_code == 0, status.output
    assert f"archive: {archive} (the archive used last)" in status.output
    shown = cli("search", "Chat")
    assert shown.exit_code == 0
    assert f"archive {archive} (the archive used last)" in shown.stderr
    assert "Chat" in shown.stdout


COMMANDS = [
    "sync",
    "status",
    "push",
    "show",
    "log",
    "search",
    "export",
    "import",
    "demo",
    "remote add",
    "remote set-url",
    "remote remove",
    "remote list",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_dash_a(command: str) -> None:
    result = cli(*command.split(), "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "-a, --archive PATH" in result.output


def test_sync_and_status_take_dash_a_and_refuse_two_archives(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "a"
    assert sync(fake, tmp_path / "unused", "-a", str(archive)).exit_code == 2
    result = cli("sync", "-a", str(archive), *FAST_FLAGS, fake=fake)
    assert result.exit_code == 0, result.output
    assert cli("status", "-a", str(archive)).exit_code == 0
    assert cli("status", "--archive", str(archive), str(archive)).exit_code == 0


# -- 6. what a sync did is reported even when what follows fails -------------------------------


def test_a_failed_push_still_prints_the_sync_summary(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "a"
    result = sync(fake, archive, "--push", "--remote", str(tmp_path / "missing.git"))
    assert result.exit_code == 9
    head = git(archive, "rev-parse", "HEAD").strip()
    assert re.search(rf"ada@example.com: 6 new chats.*; commit {head[:12]}", result.stdout)
    assert f"the sync's commit {head[:12]} is in the archive" in result.stderr
    assert "claude-backup push" in result.stderr


def test_a_rejected_second_key_keeps_the_first_accounts_report(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "a"
    keys = f"{KEY}\nsk-ant-sid01-not-a-known-key\n"
    result = cli("sync", str(archive), *FAST_FLAGS, fake=fake, key=None, input=keys)
    assert result.exit_code == 4
    head = git(archive, "rev-parse", "HEAD").strip()
    assert f"commit {head[:12]}" in result.stdout
    assert "line 2 of stdin" in result.stderr and "not-a-known-key" not in result.output
    last = json.loads((archive / ".git" / "claude-backup" / "last-sync.json").read_text())
    assert last["result"] == "error" and last["accounts"][0]["commit"] == head


# -- 8. status tells what happened -------------------------------------------------------------


def test_a_refused_concurrent_sync_is_not_recorded(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "a"
    assert sync(fake, archive).exit_code == 0
    record = archive / ".git" / "claude-backup" / "last-sync.json"
    before = record.read_bytes()
    with Archive.open(archive).lock(), sync_running(archive):
        refused = sync(fake, archive)
        during = cli("status", str(archive)).output
    assert refused.exit_code == 8
    assert record.read_bytes() == before
    assert "running now: a sync started" in during and ", ok" in during
    after = cli("status", str(archive)).output
    assert ", ok" in after and "running now" not in after
    (archive / ".git" / "claude-backup" / "running.json").write_text('{"pid": 999999999}')
    assert "running now" not in cli("status", str(archive)).output  # its process is gone


def test_status_after_ctrl_c_says_interrupted(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "a"
    assert sync(fake, archive).exit_code == 0
    record_run(archive, 0.0, error=KeyboardInterrupt())
    text = cli("status", str(archive)).output
    assert "interrupted (Ctrl-C or SIGTERM)" in text and "error ()" not in text


def test_status_tells_behind_from_diverged_and_refused(fake: Fake, tmp_path: Path) -> None:
    archive, remote = tmp_path / "a", tmp_path / "remote.git"
    assert sync(fake, archive).exit_code == 0
    run_git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    assert cli("remote", "add", "origin", str(remote), "-a", str(archive)).exit_code == 0
    assert cli("push", str(archive)).exit_code == 0
    assert "origin: " in cli("status", str(archive)).output
    assert "up to date" in cli("status", str(archive)).output
    fake.model.add_chat(fake.model.accounts[0].orgs[0], "Later", turns=1)
    assert sync(fake, archive).exit_code == 0
    assert "behind this archive" in cli("status", str(archive)).output
    # someone else pushes to the same remote: the next push is refused, status says why
    run_git(tmp_path, "clone", "-q", str(remote), "other")
    (tmp_path / "other" / "note.txt").write_text("x\n")
    run_git(tmp_path / "other", "add", "note.txt")
    run_git(tmp_path / "other", "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "x")
    run_git(tmp_path / "other", "push", "-q", "origin", "main")
    assert cli("push", str(archive)).exit_code == 9
    text = cli("status", str(archive)).output
    assert "the last push failed" in text and "lacks" in text
    run_git(archive, "fetch", "-q", "origin")
    os.remove(archive / ".git" / "claude-backup" / "last-push.json")
    assert "diverged" in cli("status", str(archive)).output


# -- 9. config show is valid TOML ----------------------------------------------------------------


def test_config_show_round_trips_as_toml(own_config: Path, tmp_path: Path) -> None:
    own_config.write_text('connections = 3\nremote = "backup"\narchive = "~/x y/ä"\n')
    shown = cli("config", "show").output
    parsed = tomllib.loads(shown)  # the whole output, comments and all
    assert parsed["connections"] == 3 and parsed["remote"] == "backup"
    assert parsed["success_delay"] == 0.25 and parsed["push"] is False
    own_config.write_text(shown)
    again = cli("config", "show")
    assert again.exit_code == 0, again.output
    assert tomllib.loads(again.output) == parsed
    assert cli("config").exit_code in (0, 2) and "show" in cli("config").output


# -- 12. help follows conventions ------------------------------------------------------------


@pytest.mark.parametrize("command", [*COMMANDS, "config show", "config", "remote"])
def test_help_is_conventional(command: str) -> None:
    text = cli(*command.split(), "--help", env={"COLUMNS": "200"}).output
    if command not in ("config", "remote"):  # groups; each of their commands has it
        assert text.count("--debug") == 1, text
    assert not re.search(r"<(bool|str|int|float|path|list)[^>]*>", text, re.IGNORECASE), text
    assert not re.search(r"\{[a-z]+\}", text), text
    options = re.split(r"\n  (?=-)", text.split("Options:")[-1])
    for option in options:
        if re.match(r"(-\w, )?--\S+ (N|NUMBER)\b", option):
            assert "[default:" in option, option


def test_show_takes_title_words_and_its_file_line_copies(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "a"
    fake.model.add_chat(fake.model.accounts[0].orgs[0], "Plan a trip to Lisbon_2026", turns=1)
    assert sync(fake, archive).exit_code == 0
    shown = cli("show", "Lisbon", "trip", "plan", "-a", str(archive))
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("# Plan a trip to Lisbon\\_2026")
    file_line = next(line for line in shown.stdout.splitlines() if line.startswith("- File:"))
    path = file_line.removeprefix("- File: ").strip("`")
    assert (archive / path).is_file()
    missing = cli("show", "Porto", "-a", str(archive))
    assert missing.exit_code == 2 and "claude-backup search Porto" in missing.stderr


def test_show_on_a_terminal_renders_the_html_it_cannot_fold() -> None:
    from claude_backup.cli.terminal import readable

    text = readable("Hi\n\n<details>\n<summary>Thinking</summary>\n\nhmm\n\n</details>\n")
    assert "<details>" not in text and "<summary>" not in text
    assert "**▸ Thinking**" in text and "hmm" in text


def test_search_and_log_print_json_with_absolute_paths(
    fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sync(fake, tmp_path / "a").exit_code == 0
    monkeypatch.chdir(tmp_path)
    found = json.loads(cli("search", "Chat", "-a", "a", "--json").stdout)
    assert found["archive"] == str(tmp_path / "a") and found["total"] == 6
    assert all(
        Path(hit["file"]).is_absolute() and Path(hit["file"]).is_file() for hit in found["hits"]
    )
    uuid = found["hits"][0]["chat"]
    history = json.loads(cli("log", uuid, "-a", "a", "--json").stdout)
    assert history["chat"] == uuid and history["events"][0]["what"].startswith("new")
    none = cli("search", "zzzz", "-a", "a", "--json")
    assert none.exit_code == 1 and json.loads(none.stdout)["total"] == 0


# -- 14. a first sync's output ------------------------------------------------------------------


def test_sync_output_is_quiet_about_skipped_orgs_and_counts_right(
    fake: Fake, tmp_path: Path
) -> None:
    first = sync(fake, tmp_path / "a")
    assert "skipping organization" not in first.output
    assert "6 new chats" in first.stdout
    assert re.search(r"^[0-9a-f-]{36}  new +Chat \d$", first.stdout, re.MULTILINE)
    fake.model.add_chat(fake.model.accounts[0].orgs[0], "Only one", turns=1)
    second = sync(fake, tmp_path / "a", "--verbose")
    assert "skipping organization 'API Console'" in second.stderr
    assert "1 new chat;" in second.stdout or second.stdout.count("1 new chat") == 1
    assert "1 new chats" not in second.stdout


def test_plurals() -> None:
    from claude_backup.sync.extras.context import ExtrasReport
    from claude_backup.text import plural

    assert plural(1, "chat") == "1 chat" and plural(2, "chat") == "2 chats"
    assert plural(0, "branch", "branches") == "0 branches"
    report = ExtrasReport(files=1, sandbox=1, artifacts=1)
    assert "1 file" in report.line() and "1 sandbox output " in report.line() + " "
    assert "1 artifact" in report.line() and "artifacts" not in report.line()


def test_demo_looks_like_a_real_account_and_shows_the_reading_commands(tmp_path: Path) -> None:
    result = cli("demo", str(tmp_path / "demo"), key=None)
    assert result.exit_code == 0, result.output
    text = result.output
    for shown in ("claude-backup show", "claude-backup log", "claude-backup search", "export"):
        assert shown in text
    assert "../../etc/passwd" not in text and "CON" not in text.split() and "x" * 50 not in text
    assert "\\3" not in text  # no octal-escaped paths from git log --stat
    assert len(text.splitlines()) < 90


# -- 15. a wrong key leaves nothing behind; a missing browser is named ----------------------------


def test_a_wrong_key_creates_no_archive(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "new"
    result = sync(fake, archive, key="sk-ant-sid01-wrong")
    assert result.exit_code == 4
    assert not archive.exists()


def test_a_named_browser_without_cookies_is_named(fake: Fake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = sync(fake, tmp_path / "a", "--browser", "firefox", key=None, env={"HOME": str(home)})
    assert result.exit_code == 4
    assert "firefox" in result.stderr.lower()
    assert not (tmp_path / "a").exists()


# -- 10. exports: Markdown and HTML never mix; uploads are copied ------------------------------


def test_markdown_and_html_exports_do_not_mix(fake: Fake, tmp_path: Path) -> None:
    archive, out = tmp_path / "a", tmp_path / "out"
    fake.model.attach_upload(next(iter(fake.model.accounts[0].orgs[0].chats)), "image", "p.png")
    assert sync(fake, archive).exit_code == 0
    html = cli("export", str(out), "-a", str(archive))
    assert html.exit_code == 0, html.output
    assert list((out / "files").glob("*/p.png"))  # the upload's bytes, beside the pages
    md = cli("export", str(out), "--format", "md", "-a", str(archive))
    assert md.exit_code == 2 and "holds an HTML export" in md.stderr
    assert not list(out.glob("*/*/*/*.md"))
    assert cli("export", str(out), "-a", str(archive)).exit_code == 0  # the same format again
    other = tmp_path / "md"
    assert cli("export", str(other), "--format", "md", "-a", str(archive)).exit_code == 0
    assert cli("export", str(other), "-a", str(archive)).exit_code == 2


# -- 11. what the docs promise ------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_every_folder_of_the_archive_is_private(fake: Fake, tmp_path: Path) -> None:
    chat = next(iter(fake.model.accounts[0].orgs[0].chats))
    fake.model.attach_upload(chat, "image", "p.png")
    fake.model.add_sandbox_turn(chat, {"out.csv": b"a,b\n"})
    project = fake.model.add_project(fake.model.accounts[0].orgs[0], "P", "Be brief.", "about")
    fake.model.add_doc(project.uuid, "notes.md", "# Notes\n")
    old = os.umask(0o022)
    try:
        assert sync(fake, tmp_path / "a").exit_code == 0
    finally:
        os.umask(old)
    folders = [p for p in (tmp_path / "a").rglob("*") if p.is_dir() and ".git" not in p.parts]
    names = {p.name for p in folders}
    assert {"files", "chat-files", "projects"} <= names
    loose = [p for p in folders if p.stat().st_mode & 0o077]
    assert loose == []


def test_the_faq_request_count_of_a_sync_with_no_changes(fake: Fake, tmp_path: Path) -> None:
    faq = (Path(__file__).parent.parent / "docs" / "faq.md").read_text(encoding="utf-8")
    faq = " ".join(faq.split())
    assert "2 requests plus 11 per organization" in faq
    assert "24 requests for an account with two organizations" in faq
    assert sync(fake, tmp_path / "a").exit_code == 0
    quiet = json.loads(sync(fake, tmp_path / "a", "--json").stdout)["accounts"][0]
    assert quiet["commit"] is None and quiet["requests"] == 2 + 11 * 2  # two chat organizations


def test_remote_set_url(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "a"
    assert sync(fake, archive).exit_code == 0
    assert (
        cli("remote", "add", "origin", str(tmp_path / "one.git"), "-a", str(archive)).exit_code == 0
    )
    again = cli("remote", "add", "origin", str(tmp_path / "two.git"), "-a", str(archive))
    assert again.exit_code == 2 and "remote set-url origin" in again.stderr
    changed = cli("remote", "set-url", "origin", str(tmp_path / "two.git"), "-a", str(archive))
    assert changed.exit_code == 0
    assert git(archive, "remote", "get-url", "origin").strip() == str(tmp_path / "two.git")
    assert cli("remote", "set-url", "nope", "x", "-a", str(archive)).exit_code == 2


@pytest.mark.parametrize(
    "command",
    ["sync", "status", "push", "search", "log", "export", "import", "config show", "remote list"],
)
def test_every_command_with_output_has_json(command: str) -> None:
    assert "--json" in cli(*command.split(), "--help").output


def test_export_json_names_absolute_paths(
    fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sync(fake, tmp_path / "a").exit_code == 0
    monkeypatch.chdir(tmp_path)
    result = cli("export", "site", "-a", "a", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["out"] == str(tmp_path / "site") and data["chats"] == 6
    assert Path(data["index"]).is_file() and data["archive"] == str(tmp_path / "a")
