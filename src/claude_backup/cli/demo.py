"""`claude-backup demo`: the whole job against a simulated Claude.ai on 127.0.0.1, no key needed.

A first sync, then changes on the "server" (a rename, a new branch, new messages, a deletion),
a second sync, and the resulting git history: what the tool does, in a few seconds.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from claude_backup.childenv import scrubbed_environ
from claude_backup.cli.common import DebugOption, run_command

DEMO_KEY = "sk-ant-sid01-fake.demo.key"  # not a real key: the simulated server only


def demo(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="Where to create the demo archive (default: a new temp folder).",
            show_default=False,
        ),
    ] = None,
    chats: Annotated[int, typer.Option(min=1, max=500, help="Chats on the simulated server.")] = 12,
    debug: DebugOption = False,
) -> None:
    """Run a complete backup against a simulated Claude.ai and show the git history it makes."""

    def work() -> int:
        target = folder or Path(tempfile.mkdtemp(prefix="claude-backup-demo-")) / "archive"
        run_demo(target, chats)
        return 0

    run_command(work, debug)


def run_demo(archive: Path, chats: int) -> None:
    from claude_backup.cli.sync_run import notes
    from claude_backup.client import Politeness
    from claude_backup.errors import UsageError
    from claude_backup.fakeapi import FakeClaude, FakeClaudeServer, plus_of, populate_demo
    from claude_backup.keys import SessionKey
    from claude_backup.sync.progress import PlainReporter
    from claude_backup.sync.run import SyncSettings, run

    if archive.exists() and any(archive.iterdir()):
        raise UsageError(f"{archive} is not empty; the demo needs a new folder")
    model = FakeClaude(seed=42)
    account = populate_demo(model, DEMO_KEY, chats=chats)
    reporter = PlainReporter()
    with FakeClaudeServer(model) as server:
        settings = SyncSettings(
            archive=archive,
            base_url=server.base_url,
            politeness=Politeness(connections=4, success_delay=0, min_retry_delay=0.1),
        )
        key = [SessionKey(DEMO_KEY, "demo")]
        _say(
            f"1. First sync of {chats} chats from a simulated claude.ai at {server.base_url}: "
            "chats, uploads, projects, memory, profile, styles, skills, the artifact catalog, "
            "Claude Code sessions (the team organization has no skills: a 404, skipped; its "
            "memory is per-file)"
        )
        report = asyncio.run(run(key, settings, reporter))
        for line in notes(report, debug=True):
            typer.echo(f"claude-backup: {line}", err=True)

        personal = account.orgs[0]
        first, second, third, fourth = list(personal.chats.values())[:4]
        model.rename_chat(first.uuid, "Renamed on claude.ai")
        model.edit_branch(second.uuid)
        model.add_messages(third.uuid, 2)
        model.delete_chat(fourth.uuid)
        plus = plus_of(model)
        plus.set_profile(account, conversation_preferences="Answer in one paragraph.")
        skill = "release-notes"
        plus.edit_skill(personal, skill, {"SKILL.md": b"---\nname: release-notes\n---\nShort.\n"})
        session = plus.org(personal).sessions[0]
        plus.add_code_turns(personal, session.id, 1)
        _say(
            "2. On the server: one chat renamed, one prompt edited (a new branch), "
            "two new turns in another, one chat deleted; the profile preferences and a skill "
            "edited; a Claude Code session went on"
        )
        _say("3. Second sync: only what changed is fetched")
        asyncio.run(run(key, settings, reporter))
    _say("4. The history (git log --stat):")
    _show_log(archive)
    _say(f"The demo archive is in {archive}. Try: git -C '{archive}' log --follow -p -- '<file>'")


def _say(text: str) -> None:
    typer.secho(f"\n{text}", bold=True)


def _show_log(archive: Path) -> None:
    git = shutil.which("git")
    if git:
        command = [git, "-C", str(archive), "--no-pager", "log", "--stat=120"]
        subprocess.run(command, check=False, env=scrubbed_environ())
        return
    from claude_backup.archive.history import print_log

    print_log(archive)


def register(app: typer.Typer) -> None:
    app.command()(demo)
