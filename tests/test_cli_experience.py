"""The everyday experience: progress on a terminal, plain lines on a pipe, --json, quiet,
config precedence, status, the demo."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

from claude_backup import __version__
from conftest import CLI, KEY, Fake, commit_count, git, run_cli, sync


def run_in_terminal(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin/stdout/stderr; return its exit code and screen
    output (escape codes included)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(10), output.decode("utf-8", "replace")


def cli_env(fake: Fake, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_")}
    env.update(CLAUDE_SESSION_KEY=KEY, CLAUDE_BACKUP_BASE_URL=fake.base_url, **extra)
    return env


def test_terminal_shows_live_progress_and_a_summary(fake: Fake, tmp_path: Path) -> None:
    fake.server.latency = 0.02
    env = cli_env(fake, COLUMNS="100", TERM="xterm-256color")
    code, screen = run_in_terminal([CLI, "sync", str(tmp_path / "a"), "-d", "0"], env)
    assert code == 0, screen
    assert "\x1b[" in screen  # a live display, not plain lines
    assert "fetching" in screen and "6/6" in screen and "chats/s" in screen
    assert "spent" in screen and "left" in screen  # the bar's two times say which is which
    for chat in fake.model.accounts[0].orgs[0].chats.values():
        assert re.search(rf"{chat.uuid}  new +{chat.name}", screen)
    assert re.search(r"ada@example.com: 6 new chats(; [^\n]*)?; commit [0-9a-f]{12}", screen)
    assert KEY not in screen


def test_pipe_gets_plain_lines(fake: Fake, tmp_path: Path) -> None:
    result = sync(fake, tmp_path / "a")
    assert result.returncode == 0
    assert "\x1b[" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len([line for line in lines if "  Chat " in line]) == 6
    assert re.match(r"ada@example.com: 6 new chats(; .*)?; commit [0-9a-f]{12}$", lines[-2])
    assert lines[-1].startswith("done in ")


def test_quiet_prints_nothing_on_success(fake: Fake, tmp_path: Path) -> None:
    result = sync(fake, tmp_path / "a", "-q")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def test_json_summary(fake: Fake, tmp_path: Path) -> None:
    result = sync(fake, tmp_path / "a", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    account = summary["accounts"][0]
    assert account["changes"] == {"new": 6} and account["fetched"] == 6
    assert account["commit"] == git(tmp_path / "a", "rev-parse", "HEAD").strip()
    assert summary["exit_code"] == 0 and summary["failures"] == 0
    again = json.loads(sync(fake, tmp_path / "a", "--json").stdout)
    assert again["accounts"][0]["commit"] is None and again["accounts"][0]["unchanged"] == 6
    failed = sync(fake, tmp_path / "a", "--json", key="sk-ant-sid01-nope")
    assert failed.returncode == 4 and json.loads(failed.stdout)["exit_code"] == 4


def test_config_file_env_and_flags_in_that_order(fake: Fake, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("connections = 3\nretries = 7\nprune_deleted = true\n")
    env = {"CLAUDE_BACKUP_CONFIG": str(config), "CLAUDE_BACKUP_RETRIES": "9"}
    shown = run_cli("config", "show", "--json", base_url=fake.base_url, extra_env=env)
    settings = json.loads(shown.stdout)["settings"]
    assert settings["connections"] == {"value": 3, "source": f"config file {config}"}
    assert settings["retries"] == {"value": 9, "source": "env CLAUDE_BACKUP_RETRIES"}
    assert settings["prune_deleted"]["value"] is True
    assert settings["success_delay"] == {"value": 0.25, "source": "default"}
    assert KEY not in shown.stdout
    text = run_cli("config", "show", base_url=fake.base_url, extra_env=env).stdout
    assert "connections     = 3" in text and "# env CLAUDE_BACKUP_RETRIES" in text

    fake.server.latency = 0.02
    for i in range(10):
        fake.model.add_chat(fake.model.accounts[0].orgs[0], f"more {i}")
    archive = tmp_path / "a"
    assert (
        run_cli("sync", str(archive), "-d", "0", base_url=fake.base_url, extra_env=env).returncode
        == 0
    )
    assert fake.server.max_in_flight == 3
    bad = tmp_path / "bad.toml"
    bad.write_text("connections = 0\n")
    result = run_cli(
        "sync", str(archive), base_url=fake.base_url, extra_env={"CLAUDE_BACKUP_CONFIG": str(bad)}
    )
    assert result.returncode == 2 and "bad value for connections" in result.stderr


def test_status_reports_last_sync_counts_and_remote(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "a"
    assert sync(fake, archive).returncode == 0
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(archive, "remote", "add", "origin", "https://me:secret-token@example.invalid/x.git")
    result = run_cli("status", str(archive), "--json", base_url=fake.base_url)
    info = json.loads(result.stdout)
    assert info["last_sync"]["result"] == "ok"
    assert {o["organization"]: o["chats"] for o in info["organizations"]} == {
        "ada@example.com's Organization": 4,
        "Team Org": 2,
    }
    assert info["remotes"] == [
        {
            "name": "origin",
            "url": "https://me:***@example.invalid/x.git",
            "state": "never pushed from here",
        }
    ]
    text = run_cli("status", str(archive), base_url=fake.base_url).stdout
    assert "last sync:" in text and "Team Org: 2 chats, 0 deleted" in text
    assert "secret-token" not in text
    failed = sync(fake, archive, key="sk-ant-sid01-nope")
    assert failed.returncode == 4
    info = json.loads(run_cli("status", str(archive), "--json", base_url=fake.base_url).stdout)
    assert info["last_sync"]["result"] == "error" and info["last_sync"]["exit_code"] == 4


def test_demo_runs_the_whole_job_without_a_key(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    result = run_cli(
        "demo", str(target), base_url="http://127.0.0.1:9", key=None, process=True
    )  # git log writes to the process's own stdout
    assert result.returncode == 0, result.stderr
    assert commit_count(target) >= 2
    assert "Second sync" in result.stdout and "renamed" in result.stdout
    assert "1 deleted" in result.stdout and "claude-backup show" in result.stdout
    git(target, "fsck", "--full")


def test_version_and_help(tmp_path: Path) -> None:
    assert run_cli("--version", base_url="http://127.0.0.1:9").stdout.strip() == (
        f"claude-backup {__version__}"
    )
    help_text = run_cli("sync", "--help", base_url="http://127.0.0.1:9").stdout
    for flag in (
        "--connections",
        "--success-delay",
        "--retries",
        "--min-retry-delay",
        "--max-retry-delay",
        "--base-url",
        "--prune-deleted",
        "--json",
        "--quiet",
    ):
        assert flag in help_text
    assert "--session-key " not in help_text  # never on the command line


def test_sync_push_pushes_after_the_commit(fake: Fake, tmp_path: Path) -> None:
    archive = tmp_path / "a"
    assert sync(fake, archive).returncode == 0
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(bare)], check=True)
    git(archive, "remote", "add", "origin", str(bare))
    fake.model.add_messages(next(iter(fake.model.accounts[0].orgs[0].chats)), 1)
    result = sync(fake, archive, "--push")
    assert result.returncode == 0, result.stderr
    head = git(archive, "rev-parse", "HEAD").strip()
    assert (
        subprocess.run(
            ["git", "-C", str(bare), "rev-parse", "main"], capture_output=True, text=True
        ).stdout.strip()
        == head
    )
    info = json.loads(run_cli("status", str(archive), "--json", base_url=fake.base_url).stdout)
    assert info["remotes"][0]["state"] == "up to date"

    git(archive, "remote", "set-url", "origin", str(tmp_path / "missing.git"))
    fake.model.add_messages(next(iter(fake.model.accounts[0].orgs[0].chats)), 1)
    failed = sync(fake, archive, "--push")
    assert failed.returncode == 9, failed.stderr
    assert git(archive, "rev-parse", "HEAD").strip() != head  # the sync's commit stands
    assert git(archive, "status", "--porcelain") == ""


def test_show_on_a_terminal_renders_instead_of_printing_html(fake: Fake, tmp_path: Path) -> None:
    """On a terminal, `show` renders the chat (folded blocks open, no raw `<details>`), paged
    through $PAGER when long; piped, it prints the Markdown as stored."""
    archive = tmp_path / "a"
    assert sync(fake, archive).returncode == 0
    piped = run_cli("show", "Chat 1", "-a", str(archive), base_url=fake.base_url, process=True)
    assert "<details>" in piped.stdout  # the fake's chats hold thinking and tool blocks
    env = cli_env(fake, COLUMNS="100", LINES="40", TERM="xterm-256color", PAGER="cat")
    code, screen = run_in_terminal([CLI, "show", "Chat 1", "-a", str(archive)], env)
    assert code == 0, screen
    assert "<details>" not in screen and "<summary>" not in screen
    assert "▸" in screen and "Chat 1" in screen
