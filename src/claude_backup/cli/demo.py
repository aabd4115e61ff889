"""`claude-backup demo`: the whole job against a simulated Claude.ai on 127.0.0.1, no key needed.

A first sync, then changes on the "server" (a rename, a new branch, new messages, a deletion),
a second sync, the short history, and the reading commands (`show`, `log`, `search`, `export`)
run on the result: what the tool does, in a few seconds.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from claude_backup.childenv import scrubbed_environ
from claude_backup.cli.common import ArchiveOption, DebugOption, run_command

DEMO_KEY = "sk-ant-sid01-fake.demo.key"  # not a real key: the simulated server only


def demo(
    folder: Annotated[
        Path | None,
        typer.Argument(
            metavar="ARCHIVE",
            help="Where to create the demo archive (default: a new temp folder).",
            show_default=False,
        ),
    ] = None,
    archive: ArchiveOption = None,
    chats: Annotated[
        int, typer.Option(min=1, max=500, metavar="N", help="Chats on the simulated server.")
    ] = 12,
    debug: DebugOption = False,
) -> None:
    """Run a complete backup against a simulated Claude.ai, then read the archive it made."""

    def work() -> int:
        from claude_backup.errors import UsageError

        if folder is not None and archive is not None and folder != archive:
            raise UsageError(f"two archives given ({folder} and --archive {archive}); give one")
        given = folder or archive
        target = given or Path(tempfile.mkdtemp(prefix="claude-backup-demo-")) / "archive"
        run_demo(target.absolute(), chats)
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
        model.rename_chat(first.uuid, "Lisbon itinerary, final", bump_updated=True)
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
    _say("4. The history: one commit per sync that changed something")
    _git(archive, "--no-pager", "log", "--format=%h  %ad  %s", "--date=format:%H:%M:%S")
    title = "Lisbon itinerary"
    _say("5. Reading the archive, offline")
    _run(f"claude-backup show {title}", ["show", title, "-a", str(archive)], lines=14)
    _run(f"claude-backup log {title}", ["log", title, "-a", str(archive)])
    _run("claude-backup search sourdough", ["search", "sourdough", "-a", str(archive)])
    site = archive.parent / "website"
    _run(
        f"claude-backup export {site}",
        ["export", str(site), "-a", str(archive)],
    )
    _say(f"The demo archive is in {archive}; it is a plain git repository. Try:")
    typer.echo(f"  claude-backup status -a '{archive}'")
    typer.echo(f"  claude-backup show --branch all '{second.name}' -a '{archive}'")
    typer.echo(f"  git -C '{archive}' log --stat")


def _say(text: str) -> None:
    typer.secho(f"\n{text}", bold=True)


def _run(shown: str, args: list[str], *, lines: int = 0) -> None:
    """One of our commands, as a user would type it, and (the start of) its output."""
    typer.secho(f"$ {shown}", dim=True)

    archive = Path(args[args.index("-a") + 1])
    # its own config folder: the demo must not become the archive used last
    env = scrubbed_environ({"CLAUDE_BACKUP_CONFIG": str(archive.parent / "config.toml")})
    env.pop("CLAUDE_BACKUP_ARCHIVE", None)
    result = subprocess.run(
        [sys.executable, "-m", "claude_backup", *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    output = result.stdout.splitlines()
    shown_lines = output[:lines] if lines else output
    for line in shown_lines:
        typer.echo(f"  {line}")
    if len(output) > len(shown_lines):
        typer.echo(f"  … ({len(output) - len(shown_lines)} more lines)")
    if result.returncode != 0:
        typer.echo(f"  {result.stderr.strip()}", err=True)


def _git(archive: Path, *args: str) -> None:
    import shutil

    git = shutil.which("git")
    if git:
        subprocess.run([git, "-C", str(archive), *args], check=False, env=scrubbed_environ())
        return
    from claude_backup.archive.history import print_log

    print_log(archive)


def register(app: typer.Typer) -> None:
    app.command()(demo)
