"""The `claude-backup` command: the typer app, its commands registered from one module each."""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer

from claude_backup import __version__
from claude_backup.cli import config, demo, key, read, remote, schedule, status, sync, verify
from claude_backup.cli.common import stdout_closed
from claude_backup.cli.helpstyle import conventional_help
from claude_backup.errors import Interrupted

conventional_help()
app = typer.Typer(
    name="claude-backup",
    help="A complete, private, git-versioned archive of your Claude.ai chats.",
    no_args_is_help=True,
    rich_markup_mode=None,  # click's plain help: CHAT, INTEGER, [default: 2], as git and click do
    pretty_exceptions_enable=False,  # its tracebacks show local variables: never the key
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"claude-backup {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Back up every chat of your Claude.ai account into a git repository you own."""


for _module in (sync, config, status, demo, remote, read, key, schedule, verify):
    _module.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # Ctrl-C outside a command's own handling (start-up, exit)
        sys.exit(Interrupted.exit_code)
    except BrokenPipeError:  # output cut short outside a command (`--help | head -1`)
        sys.exit(stdout_closed())
    finally:
        # The work is over: a late Ctrl-C must not turn a finished sync into a failure.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    main()
