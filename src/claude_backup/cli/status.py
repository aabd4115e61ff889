"""`claude-backup status`: the archive at a glance (no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from claude_backup.cli.common import (
    ArchiveArgument,
    ArchiveOption,
    DebugOption,
    JsonOption,
    run_command,
    which_archive,
)


def status(
    archive: ArchiveArgument = None,
    archive_option: ArchiveOption = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Health check for monitors: exit 0 if the last sync succeeded within "
            "--max-age, else non-zero; one line either way.",
        ),
    ] = False,
    max_age: Annotated[
        str,
        typer.Option(
            metavar="AGE", help="With --check: how old the last good sync may be (90m, 26h, 2d)."
        ),
    ] = "26h",
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Last sync and its result, the key's age, chats per organization, size, remotes.

    With --check, only whether the last sync succeeded recently enough, for cron-based monitors
    and scripts: `claude-backup status --check --max-age 26h || notify-me`.
    """

    if check:
        run_command(lambda: _check(archive, archive_option, max_age), debug)

    def work() -> int:
        import json
        from dataclasses import asdict

        from claude_backup.archive.repository import Archive
        from claude_backup.archive.status import archive_status
        from claude_backup.errors import ArchiveError
        from claude_backup.read.memory_mode import MELANGE_NOTE, melange_orgs
        from claude_backup.text import human_size

        located = which_archive(archive, archive_option, announce=False)
        path = located.path.absolute()
        if not (path / ".git").exists():
            raise ArchiveError(
                f"no archive at {path} ({located.source}) yet; run `claude-backup sync "
                f"{path}` first, or name yours with -a"
            )
        info = archive_status(Archive.open(path))
        per_file = melange_orgs(path)
        if json_output:
            out = {**asdict(info), "memory_per_file": per_file}
            typer.echo(json.dumps(out, ensure_ascii=False))
            return 0
        how = "" if located.source == "given" else f" ({located.source})"
        typer.echo(f"archive: {info.path}{how}")
        if info.running:
            since = info.running.get("started_at")
            typer.echo(f"running now: a sync started {since} (process {info.running.get('pid')})")
        last = info.last_sync
        if last:
            typer.echo(f"last sync: {last.get('finished_at')}, {last_sync_text(last)}")
        else:
            typer.echo("last sync: none recorded")
        for line in key_lines(last):
            typer.echo(line)
        if info.last_commit:
            typer.echo(f"last change: {info.last_commit['time']}, {info.last_commit['message']}")
        for org in info.organizations:
            typer.echo(
                f"  {org.account} / {org.organization}: {org.chats} chats, {org.deleted} deleted"
            )
        if per_file:
            names = ", ".join(folder.split("/")[-1][:-37] or folder for folder in per_file)
            typer.echo(f"note: {MELANGE_NOTE} ({names})")
        files, git = human_size(info.files_bytes), human_size(info.git_bytes)
        typer.echo(f"size: {files} of files, {git} in .git")
        if not info.remotes:
            typer.echo("remote: none (see `claude-backup push --help`)")
        for remote in info.remotes:
            typer.echo(f"remote {remote['name']}: {remote['url']} — {remote['state']}")
        typer.echo(schedule_line(path))
        return 0

    run_command(work, debug, json_output=json_output)


def last_sync_text(last: dict[str, Any]) -> str:
    result = last.get("result")
    if result == "interrupted":
        return "interrupted (Ctrl-C or SIGTERM); the next sync commits what it had saved"
    if result == "error":
        return f"error, exit code {last.get('exit_code')}: {last.get('message') or 'no message'}"
    if result == "partial":
        return "partial: some items failed and will be retried (exit code 3)"
    return str(result)


def schedule_line(archive: Path) -> str:
    """Whether `schedule install` set up a job for this archive (as recorded; no probing)."""
    from claude_backup.schedule.record import load

    saved = load() or {}
    if saved.get("archive") and Path(saved["archive"]) == archive.absolute():
        return f"schedule: {saved.get('backend')}, {saved.get('when')}"
    return "schedule: none (see `claude-backup schedule install`)"


def key_lines(last: dict[str, Any] | None) -> list[str]:
    """The age of the keys the last sync used, as recorded then, judged now."""
    from claude_backup.keyage import KeyAge, now_utc

    now = now_utc()
    lines = []
    for data in (last or {}).get("keys") or []:
        age = KeyAge.from_json(data) if isinstance(data, dict) else None
        if age is not None:
            warning = age.warning(now)
            lines.append(f"warning: {warning}" if warning else age.describe(now))
    return lines


def _check(archive: Path | None, archive_option: Path | None, max_age: str) -> int:
    from claude_backup.archive.health import check_health

    path = which_archive(archive, archive_option, announce=False).path.absolute()
    healthy, line = check_health(path, max_age)
    typer.echo(line)
    return 0 if healthy else 1


def register(app: typer.Typer) -> None:
    app.command()(status)
