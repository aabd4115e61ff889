"""`claude-backup push` and `claude-backup remote add|remove|list`: the archive off-machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from claude_backup.cli.common import DebugOption, run_command

ArchiveArg = Annotated[
    Path | None,
    typer.Argument(
        help="The archive folder. Default: $CLAUDE_BACKUP_ARCHIVE, else the archive you are in, "
        "else your user data folder.",
        show_default=False,
    ),
]


def push(
    archive: ArchiveArg = None,
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
    debug: DebugOption = False,
) -> None:
    """Push the archive's main branch to a private git remote.

    For an https remote, put your user name in the URL and a token in $CLAUDE_BACKUP_GIT_TOKEN,
    or let a git credential helper answer. Example:

        claude-backup remote add origin git@github.com:me/claude-archive.git
        claude-backup push
    """
    from claude_backup.archive.remote import push_archive
    from claude_backup.locate import find_archive

    def work() -> int:
        result = push_archive(find_archive(archive), remote, force=force)
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

    run_command(work, debug)


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
    archive: ArchiveArg = None,
    debug: DebugOption = False,
) -> None:
    """Add a remote to push to. Credentials are never stored: no password in the URL."""
    from claude_backup.archive.remote import add_remote, redact
    from claude_backup.locate import find_archive

    def work() -> int:
        stored = add_remote(find_archive(archive), name, url)
        typer.echo(f"{name}\t{redact(stored)}")
        return 0

    run_command(work, debug)


@remote_app.command("remove")
def remote_remove(
    name: Annotated[str, typer.Argument(help="The remote's name.")],
    archive: ArchiveArg = None,
    debug: DebugOption = False,
) -> None:
    """Forget a remote (the remote repository itself is left alone)."""
    from claude_backup.archive.remote import remove_remote
    from claude_backup.locate import find_archive

    def work() -> int:
        remove_remote(find_archive(archive), name)
        return 0

    run_command(work, debug)


@remote_app.command("list")
def remote_list(archive: ArchiveArg = None, debug: DebugOption = False) -> None:
    """Show each remote's name and URL (passwords hidden)."""
    from claude_backup.archive.remote import remotes_of
    from claude_backup.locate import find_archive

    def work() -> int:
        for name, url in sorted(remotes_of(find_archive(archive)).items()):
            typer.echo(f"{name}\t{url}")
        return 0

    run_command(work, debug)


def register(app: typer.Typer) -> None:
    app.command()(push)
    app.add_typer(remote_app)
