"""The command line: options in, one call to the sync, a summary and an exit code out."""

from __future__ import annotations

import importlib
import json
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer

from . import __version__
from .describe import one_line
from .errors import ClaudeBackupError, Interrupted

app = typer.Typer(
    name="claude-backup",
    help="A complete, private, git-versioned archive of your Claude.ai chats.",
    no_args_is_help=True,
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


@app.command()
def sync(
    archive: Annotated[
        Path | None,
        typer.Argument(
            help="The archive folder (a git repository). Default: $CLAUDE_BACKUP_ARCHIVE, "
            "else the archive you are in, else the config file's, else your user data folder.",
            show_default=False,
        ),
    ] = None,
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
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only errors.")] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable summary, nothing else.")
    ] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Fetch every new or changed chat and commit the changes to the archive.

    The session key is read from CLAUDE_SESSION_KEY, else from stdin (one key per line, one per
    account), else --session-key-file, else your browser's cookies. Settings come from flags,
    else CLAUDE_BACKUP_* variables, else the config file (see `claude-backup config show`).

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
        "prune_deleted": prune_deleted,
        "files": files,
        "projects": projects,
        "push": push,
        "remote": remote,
    }

    def work() -> int:
        from .sync_command import run_sync

        return run_sync(
            archive,
            flags,
            key_file=session_key_file,
            browser=browser,
            quiet=quiet,
            json_output=json_output,
        )

    run_command(work, debug, json_output=json_output)


def run_command(work: Callable[[], int], debug: bool, *, json_output: bool = False) -> NoReturn:
    """Run a command's `work`; turn our errors into one line on stderr and an exit code (and,
    with --json, a JSON object on stdout). Every command goes through here."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        code = work()
    except KeyboardInterrupt:
        code = _fail(
            Interrupted(
                "interrupted; the archive holds the last complete sync, and chats saved "
                "since then will be committed by the next sync"
            ),
            debug,
        )
    except ClaudeBackupError as exc:
        code = _fail(exc, debug)
        if json_output:
            typer.echo(json.dumps({"error": one_line(str(exc), 500), "exit_code": code}))
    except Exception as exc:  # a bug: still one line, and the traceback on request
        if debug:
            traceback.print_exc()
        typer.echo(
            f"claude-backup: internal error: {type(exc).__name__}: {one_line(str(exc), 300)} "
            "(run with --debug for details)",
            err=True,
        )
        code = 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    raise typer.Exit(code)


def _fail(exc: ClaudeBackupError, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    typer.echo(f"claude-backup: error: {one_line(str(exc), 500)}", err=True)
    return exc.exit_code


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _register_commands() -> None:
    """Commands kept in modules of their own; each module's `register(app)` adds them."""
    modules: list[str] = ["config_cli", "status_cli", "demo", "remote_cli", "read_cli"]
    for name in modules:
        importlib.import_module(f"{__package__}.{name}").register(app)


_register_commands()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # Ctrl-C outside a command's own handling (start-up, exit)
        sys.exit(Interrupted.exit_code)
    finally:
        # The work is over: a late Ctrl-C must not turn a finished sync into a failure.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    main()
