"""`claude-backup status`: the archive at a glance (no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from claude_backup.cli.common import DebugOption, run_command


def status(
    archive: Annotated[
        Path | None,
        typer.Argument(help="The archive (default: found as for sync).", show_default=False),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    debug: DebugOption = False,
) -> None:
    """Last sync and its result, chats per organization, size, remotes and whether pushed."""

    def work() -> int:
        import json
        from dataclasses import asdict

        from claude_backup.archive.repository import Archive
        from claude_backup.archive.status import archive_status
        from claude_backup.config import load
        from claude_backup.errors import ArchiveError
        from claude_backup.locate import find_archive
        from claude_backup.text import human_size

        path = find_archive(archive, configured=load({})["archive"].value)
        if not (path / ".git").exists():
            raise ArchiveError(f"no archive at {path} yet; run `claude-backup sync` first")
        info = archive_status(Archive.open(path))
        if json_output:
            typer.echo(json.dumps(asdict(info), ensure_ascii=False))
            return 0
        typer.echo(f"archive: {info.path}")
        last = info.last_sync
        if last:
            result = last.get("result")
            detail = f" ({last.get('message')})" if result == "error" else ""
            typer.echo(f"last sync: {last.get('finished_at')}, {result}{detail}")
        if info.last_commit:
            typer.echo(f"last change: {info.last_commit['time']}, {info.last_commit['message']}")
        for org in info.organizations:
            typer.echo(
                f"  {org.account} / {org.organization}: {org.chats} chats, {org.deleted} deleted"
            )
        files, git = human_size(info.files_bytes), human_size(info.git_bytes)
        typer.echo(f"size: {files} of files, {git} in .git")
        if not info.remotes:
            typer.echo("remote: none (see `claude-backup push --help`)")
        for remote in info.remotes:
            typer.echo(f"remote {remote['name']}: {remote['url']} — {remote['state']}")
        return 0

    run_command(work, debug, json_output=json_output)


def register(app: typer.Typer) -> None:
    app.command()(status)
