"""`claude-backup sync`: its options; the run itself is in `sync_run`, imported when it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from claude_backup.cli.common import ArchiveArgument, ArchiveOption, DebugOption, run_command


def sync(
    archive: ArchiveArgument = None,
    archive_option: ArchiveOption = None,
    base_url: Annotated[
        str | None,
        typer.Option(help="Where the Claude.ai API lives. [default: https://claude.ai]"),
    ] = None,
    connections: Annotated[
        int | None,
        typer.Option("-c", "--connections", min=1, max=16, help="Requests in flight. [default: 2]"),
    ] = None,
    success_delay: Annotated[
        float | None,
        typer.Option(
            "-d",
            "--success-delay",
            min=0,
            help="Seconds to pause after each success. [default: 0.25]",
        ),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(
            "-r", "--retries", min=0, max=100, help="Retries of a failed request. [default: 5]"
        ),
    ] = None,
    min_retry_delay: Annotated[
        float | None, typer.Option(min=0, help="Shortest wait before a retry, s. [default: 1]")
    ] = None,
    max_retry_delay: Annotated[
        float | None, typer.Option(min=0, help="Longest wait before a retry, s. [default: 60]")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(min=1, help="Seconds before a silent connection fails. [default: 60]"),
    ] = None,
    http_client: Annotated[
        str | None,
        typer.Option(
            help="chrome: reach claude.ai with Chrome's TLS and HTTP/2 handshake; httpx: plain "
            "httpx, if chrome fails on your system. [default: chrome]",
            show_default=False,
        ),
    ] = None,
    session_key_file: Annotated[
        Path | None,
        typer.Option(help="A file holding session keys, one per line.", show_default=False),
    ] = None,
    browser: Annotated[
        str | None,
        typer.Option(help="Take the sessionKey cookie from this browser only.", show_default=False),
    ] = None,
    prune_deleted: Annotated[
        bool | None,
        typer.Option(
            "--prune-deleted/--keep-deleted",
            help="Remove chats deleted on claude.ai from the tree (history keeps them). "
            "[default: keep]",
            show_default=False,
        ),
    ] = None,
    files: Annotated[
        bool | None,
        typer.Option(
            "--files/--no-files",
            help="Download uploads and sandbox outputs. [default: yes]",
            show_default=False,
        ),
    ] = None,
    projects: Annotated[
        bool | None,
        typer.Option(
            "--projects/--no-projects",
            help="Back up projects: instructions, docs, files, memory. [default: yes]",
            show_default=False,
        ),
    ] = None,
    profile: Annotated[
        bool | None,
        typer.Option(
            "--profile/--no-profile",
            help="Back up profile preferences and custom styles. [default: yes]",
            show_default=False,
        ),
    ] = None,
    skills: Annotated[
        bool | None,
        typer.Option(
            "--skills/--no-skills",
            help="Back up your custom Skills, every file. [default: yes]",
            show_default=False,
        ),
    ] = None,
    catalog: Annotated[
        bool | None,
        typer.Option(
            "--catalog/--no-catalog",
            help="Back up the artifact catalog and published pages. [default: yes]",
            show_default=False,
        ),
    ] = None,
    code: Annotated[
        bool | None,
        typer.Option(
            "--code/--no-code",
            help="Back up Claude Code on the web transcripts. [default: yes]",
            show_default=False,
        ),
    ] = None,
    full_pass_hours: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Hours between full reads of every project (docs, chats, memory); in "
            "between, only projects whose listing changed are read. 0: every sync. "
            "[default: 24]",
        ),
    ] = None,
    push: Annotated[
        bool | None,
        typer.Option(
            "--push/--no-push",
            help="Push to the remote after a sync. [default: no]",
            show_default=False,
        ),
    ] = None,
    remote: Annotated[
        str | None,
        typer.Option(help="The remote --push pushes to (a name or URL). [default: origin]"),
    ] = None,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            help="Apprise URL to tell when the sync fails (repeatable): ntfy://, slack://, "
            "mailto://, json://... [default: config `notify`]",
            show_default=False,
        ),
    ] = None,
    notify_command: Annotated[
        str | None,
        typer.Option(
            help="Shell command run with the message on stdin when the sync fails.",
            show_default=False,
        ),
    ] = None,
    notify_success: Annotated[
        bool,
        typer.Option(
            "--notify-success",
            help="Notify after a successful sync too. [default: config `notify_success`]",
            show_default=False,
        ),
    ] = False,
    ping_url: Annotated[
        str | None,
        typer.Option(
            help="Healthchecks-style URL: pinged after a sync, URL/fail after a failure.",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only errors.")] = False,
    verbose: Annotated[
        bool,
        typer.Option("-v", "--verbose", help="Also print notes (an organization skipped, ...)."),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable summary, nothing else.")
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Fetch every new or changed chat and commit the changes to the archive.

    The session key is read from --session-key-file, else CLAUDE_SESSION_KEY, else stdin (one
    key per line, one per account), else your browser's cookies (--browser: that one only).
    Settings come from flags, else CLAUDE_BACKUP_* variables, else the config file (see
    `claude-backup config show`).

    Examples:

        wl-paste | claude-backup sync

        CLAUDE_SESSION_KEY=sk-ant-... claude-backup sync ~/claude-archive --push -q
    """
    flags = {
        "base_url": base_url,
        "connections": connections,
        "success_delay": success_delay,
        "retries": retries,
        "min_retry_delay": min_retry_delay,
        "max_retry_delay": max_retry_delay,
        "timeout": timeout,
        "http_client": http_client,
        "prune_deleted": prune_deleted,
        "files": files,
        "projects": projects,
        "profile": profile,
        "skills": skills,
        "catalog": catalog,
        "code": code,
        "full_pass_hours": full_pass_hours,
        "push": push,
        "remote": remote,
        "notify": tuple(notify) if notify else None,
        "notify_command": notify_command,
        "notify_success": notify_success or None,
        "ping_url": ping_url,
    }

    def work() -> int:
        from claude_backup.cli.sync_run import run_sync

        return run_sync(
            archive,
            archive_option,
            flags,
            key_file=session_key_file,
            browser=browser,
            quiet=quiet,
            verbose=verbose,
            json_output=json_output,
            debug=debug,
        )

    run_command(work, debug, json_output=json_output)


def register(app: typer.Typer) -> None:
    app.command()(sync)
