"""End to end: `show`, `log`, `search` and `export` of the installed CLI on an archive made by
several real syncs against the fake Claude.ai, checked against real git."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from claude_backup.fakeapi import FakeClaudeServer
from conftest import Fake, assert_git_healthy, chat_files, git, make_model, run_cli, sync


@dataclass
class History:
    archive: Path
    base_url: str
    renamed: str  # "Chat 1" renamed to "Lisbon notes"
    grown: str  # two turns added
    edited: str  # a prompt edited (new branch)
    deleted: str  # deleted on claude.ai before the third sync
    pruned: str  # deleted, and pruned by the second sync
    first: str  # sha of the first sync's commit


def read(history: History, *args: str) -> tuple[int, str, str]:
    result = run_cli(*args, "--archive", str(history.archive), base_url=history.base_url)
    return result.returncode, result.stdout, result.stderr


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    archive = tmp_path_factory.mktemp("read") / "archive"
    model = make_model(chats=6)
    chats = {c.name: c.uuid for a in model.accounts for o in a.orgs for c in o.chats.values()}
    with FakeClaudeServer(model) as server:
        fake = Fake(model, server)
        assert sync(fake, archive).returncode == 0
        first = git(archive, "rev-parse", "HEAD").strip()
        model.delete_chat(chats["Chat 5"])
        assert sync(fake, archive, "--prune-deleted").returncode == 0
        assert_git_healthy(archive)  # each sync committed everything it wrote
        model.rename_chat(chats["Chat 1"], "Lisbon notes", bump_updated=True)
        model.add_messages(chats["Chat 2"], turns=2)
        model.edit_branch(chats["Chat 4"])
        model.delete_chat(chats["Chat 3"])
        assert sync(fake, archive).returncode == 0
        assert_git_healthy(archive)
        yield History(
            archive,
            server.base_url,
            chats["Chat 1"],
            chats["Chat 2"],
            chats["Chat 4"],
            chats["Chat 3"],
            chats["Chat 5"],
            first,
        )


def test_show_now_and_at_an_earlier_sync(history: History) -> None:
    code, now, _ = read(history, "show", history.renamed)
    assert code == 0 and now.startswith("# Lisbon notes\n")
    code, then, _ = read(history, "show", history.renamed, "--at", history.first[:10])
    assert code == 0 and then.startswith("# Chat 1\n")
    assert f"As of: revision {history.first[:12]}" in then
    code, grown_then, _ = read(history, "show", history.grown, "--at", history.first)
    _, grown_now, _ = read(history, "show", history.grown)
    assert grown_now.count("## Human") == grown_then.count("## Human") + 2
    # HEAD~N counts commits; a date means the last sync made by then.
    commits = git(history.archive, "rev-list", "HEAD").split()
    _, parent, _ = read(history, "show", history.grown, "--at", "HEAD~1")
    assert parent == read(history, "show", history.grown, "--at", commits[1])[1]
    at_head = read(history, "show", history.grown, "--at", "HEAD")[1]
    assert read(history, "show", history.grown, "--at", "2099-01-01")[1] == at_head
    assert re.sub(r"- As of: .*\n", "", at_head) == grown_now
    code, _, err = read(history, "show", history.grown, "--at", "2001-01-01")
    assert code == 2 and "no sync that old" in err
    code, _, err = read(history, "show", history.grown, "--at", f"HEAD~{len(commits)}")
    assert code == 2 and err.count("\n") == 1


def test_show_at_gives_the_json_git_has(history: History) -> None:
    path = next(
        p
        for p in git(history.archive, "ls-tree", "-r", "--name-only", history.first).splitlines()
        if p.endswith(f"/chats/Chat 1-{history.renamed}.json")
    )
    stored = json.loads(git(history.archive, "show", f"{history.first}:{path}"))
    code, out, _ = read(
        history,
        "show",
        history.renamed,
        "--at",
        history.first,
        "--format",
        "json",
        "--branch",
        "all",
    )
    assert code == 0 and json.loads(out) == stored


def test_show_branches(history: History) -> None:
    path = chat_files(history.archive)[history.edited]
    chat = json.loads(path.read_text())
    _, every, _ = read(history, "show", history.edited, "--branch", "all")
    assert every.count("## ") == len(chat["chat_messages"])
    assert "⑂ Fork" in every and "the current branch" in every
    _, current, _ = read(history, "show", history.edited)
    assert "⑂ Fork" not in current and current.count("## ") < len(chat["chat_messages"])
    _, as_json, _ = read(history, "show", history.edited, "--format", "json")
    branch = json.loads(as_json)["chat_messages"]
    assert branch[-1]["uuid"] == chat["current_leaf_message_uuid"]
    assert current.count("## ") == len(branch)


def test_show_finds_chats_by_prefix_and_title(history: History) -> None:
    assert read(history, "show", history.renamed[:8])[1].startswith("# Lisbon notes")
    assert read(history, "show", "lisbon NOTES")[1].startswith("# Lisbon notes")
    code, _, err = read(history, "show", "Chat")
    assert code == 2 and "matches" in err and "give a uuid" in err
    code, _, err = read(history, "show", "no such chat anywhere")
    assert code == 2 and err.startswith("claude-backup: error: no chat matches")


def test_log_follows_a_rename(history: History) -> None:
    code, out, _ = read(history, "log", history.renamed)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Lisbon notes  {history.renamed}"
    events = lines[2:]
    assert len(events) == 2, out  # the pure-rename commit shows with its content commit
    assert re.search(rf"{history.first[:12]}  new \(\d+ messages\)", events[0])
    assert 'renamed "Chat 1" → "Lisbon notes"' in events[1]


def test_log_of_deleted_and_pruned_chats(history: History) -> None:
    code, out, _ = read(history, "log", history.deleted)
    assert code == 0
    kinds = [line.split("  ", 2)[2] for line in out.splitlines()[2:]]
    assert kinds[0].startswith("new") and kinds[1:] == ["deleted"]
    code, out, _ = read(history, "log", "Chat 5")  # gone from the tree: found in history
    assert code == 0 and out.startswith(f"Chat 5  {history.pruned}")
    kinds = [line.split("  ", 2)[2] for line in out.splitlines()[2:]]
    assert kinds[0].startswith("new") and kinds[1:] == ["pruned (deleted on claude.ai)"]


def test_search_current_and_all_history(history: History) -> None:
    code, out, _ = read(history, "search", "lisbon")
    assert code == 0 and history.renamed in out and "**Lisbon**" in out
    code, out, err = read(history, "search", "Chat 1")
    assert history.renamed not in out
    code, out, _ = read(history, "search", "--all-history", "Chat 1")
    assert code == 0 and history.renamed in out and "older version" in out
    code, out, _ = read(history, "search", "--all-history", "Chat 5")
    assert history.pruned in out and "no longer in the archive" in out
    code, out, err = read(history, "search", "zzzznotaword")
    assert code == 1 and out == "" and "no chat matches" in err


def test_search_words_all_must_match(history: History) -> None:
    chat = json.loads(chat_files(history.archive)[history.grown].read_text())
    words = chat["chat_messages"][-1]["content"][-1]["text"].split()[:2]
    code, out, _ = read(history, "search", *words)
    assert code == 0 and history.grown in out
    assert read(history, "search", words[0], "zzzznotaword")[0] == 1


def test_export_markdown(history: History, tmp_path: Path) -> None:
    out = tmp_path / "md"
    code, stdout, _ = read(history, "export", str(out), "--format", "md")
    assert code == 0 and "chats exported" in stdout
    files = sorted(p.name for p in out.rglob("*.md") if p.name != "index.md")
    chats = [*history.archive.glob("*/*/chats/*.json"), *history.archive.glob("*/*/deleted/*.json")]
    stored = sorted(p.name[:-5] + ".md" for p in chats)
    assert files == stored
    assert "Lisbon notes" in (out / "index.md").read_text()
    assert read(history, "export", str(out), "--format", "md")[0] == 0  # again: allowed
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep me")
    code, _, err = read(history, "export", str(busy))
    assert code == 2 and "not empty" in err and (busy / "mine.txt").read_text() == "keep me"
    code, _, err = read(history, "export", str(history.archive / "site"))
    assert code == 2 and "inside the archive" in err and not (history.archive / "site").exists()


def test_no_archive_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli(
        "show", "x", "--archive", str(tmp_path / "nothing"), base_url="http://127.0.0.1:9"
    )
    assert result.returncode == 7
    assert result.stderr.startswith("claude-backup: error: no claude-backup archive at")
    assert "Traceback" not in result.stderr and not (tmp_path / "nothing").exists()
