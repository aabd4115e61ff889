"""`claude-backup push` and `claude-backup remote add|remove|list`: the archive off-machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from claude_backup.cli.common import (
    ArchiveArgument,
    ArchiveOption,
    DebugOption,
    JsonOption,
    run_command,
    which_archive,
)


def push(
    archive: ArchiveArgument = None,
    archive_option: ArchiveOption = None,
    remote: Annotated[
        str | None,
        typer.Option(
            "--remote",
            help="A remote's name, a URL (ssh, https, git, file) or a path. Default: origin.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(help="Overwrite the remote's branch even if it has commits we lack."),
    ] = False,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Push the archive's main branch to a private git remote.

    For an https remote, put your user name in the URL and a token in $CLAUDE_BACKUP_GIT_TOKEN,
    or let a git credential helper answer. Example:

        claude-backup remote add origin git@github.com:me/claude-archive.git
        claude-backup push
    """

    def work() -> int:
        import json

        from claude_backup.archive.remote import push_archive
        from claude_backup.locate import remember

        root = which_archive(archive, archive_option, announce=not json_output).path.absolute()
        result = push_archive(root, remote, force=force)
        remember(root)
        if json_output:
            data = {
                "archive": str(root),
                "remote": result.remote,
                "branch": result.branch,
                "old": result.old,
                "new": result.new,
                "forced": result.forced,
                "note": result.note,
            }
            typer.echo(json.dumps(data, ensure_ascii=False))
            return 0
        if result.note:
            typer.echo(f"claude-backup: {result.note}", err=True)
        if not result.changed:
            typer.echo(f"{result.remote} is up to date ({result.branch} {result.new[:12]})")
        elif result.old is None:
            typer.echo(f"pushed {result.branch} {result.new[:12]} to {result.remote} (new branch)")
        else:
            how = "forced" if result.forced else "pushed"
            typer.echo(
                f"{how} {result.branch} {result.old[:12]}..{result.new[:12]} to {result.remote}"
            )
        return 0

    run_command(work, debug, json_output=json_output)


remote_app = typer.Typer(
    name="remote",
    help="The archive's git remotes (the same list `git remote` shows).",
    no_args_is_help=True,
)


@remote_app.command("add")
def remote_add(
    name: Annotated[str, typer.Argument(help="The remote's name, e.g. origin.")],
    url: Annotated[
        str, typer.Argument(help="Where it is: an ssh, https, git or file URL, or a path.")
    ],
    archive: ArchiveArgument = None,
    archive_option: ArchiveOption = None,
    debug: DebugOption = False,
) -> None:
    """Add a remote to push to. Credentials are never stored: no password in the URL."""
    _set(name, url, archive, archive_option, debug, replace=False)


@remote_app.command("set-url")
def remote_set_url(
    name: Annotated[str, typer.Argument(help="The remote's name, e.g. origin.")],
    url: Annotated[str, typer.Argument(help="Its new URL: ssh, https, git, file, or a path.")],
    archive: ArchiveArgument = None,
    archive_option: ArchiveOption = None,
    debug: DebugOption = False,
) -> None:
    """Change where a remote is, as `git remote set-url` does."""
    _set(name, url, archive, archive_option, debug, replace=True)


def _set(
    name: str,
    url: str,
    archive: Path | None,
    archive_option: Path | None,
    debug: bool,
    *,
    replace: bool,
) -> None:
    from claude_backup.archive.remote import add_remote, redact

    def work() -> int:
        root = which_archive(archive, archive_option).path
        stored = add_remote(root, name, url, replace=replace)
        typer.echo(f"{name}\t{redact(stored)}")
        return 0

    run_command(work, debug)


@remote_app.command("remove")
def remote_remove(
    name: Annotated[str, typer.Argument(help="The remote's name.")],
    archive: ArchiveArgument = None,
    archive_option: ArchiveOption = None,
    debug: DebugOption = False,
) -> None:
    """Forget a remote (the remote repository itself is left alone)."""
    from claude_backup.archive.remote import remove_remote

    def work() -> int:
        remove_remote(which_archive(archive, archive_option).path, name)
        return 0

    run_command(work, debug)


@remote_app.command("list")
def remote_list(
    archive: ArchiveArgument = None,
    archive_option: ArchiveOption = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Show each remote's name and URL (passwords hidden)."""
    from claude_backup.archive.remote import remotes_of

    def work() -> int:
        import json

        remotes = remotes_of(which_archive(archive, archive_option, announce=not json_output).path)
        if json_output:
            typer.echo(json.dumps(dict(sorted(remotes.items())), ensure_ascii=False))
            return 0
        for name, url in sorted(remotes.items()):
            typer.echo(f"{name}\t{url}")
        return 0

    run_command(work, debug, json_output=json_output)


def register(app: typer.Typer) -> None:
    app.command()(push)
    app.add_typer(remote_app)
