"""What every command shares: running its work with errors turned into one line and an exit
code, and the options declared once."""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from claude_backup.errors import ClaudeBackupError, Interrupted
from claude_backup.text import one_line

if TYPE_CHECKING:
    from claude_backup.locate import Located

DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON, nothing else.")]
WHICH_ARCHIVE = (
    "Default: $CLAUDE_BACKUP_ARCHIVE, else the archive you are in, else the config file's, "
    "else the one used last, else your user data folder."
)
ArchiveOption = Annotated[
    Path | None,
    typer.Option(
        "--archive",
        "-a",
        metavar="PATH",
        help=f"The archive folder (a git repository). {WHICH_ARCHIVE}",
        show_default=False,
    ),
]
ArchiveArgument = Annotated[
    Path | None,
    typer.Argument(
        metavar="ARCHIVE",
        help="The archive folder, as with -a/--archive.",
        show_default=False,
    ),
]


def which_archive(
    positional: Path | None, option: Path | None, *, announce: bool = True
) -> Located:
    """The archive a command works on, named either way (`sync DIR` or `sync -a DIR`), found
    as locate.py says; an archive found without being named is said on stderr."""
    from claude_backup.errors import UsageError
    from claude_backup.locate import locate_archive

    if positional is not None and option is not None and positional != option:
        raise UsageError(f"two archives given ({positional} and --archive {option}); give one")
    located = locate_archive(option or positional)
    if announce and located.implicit:
        typer.echo(f"claude-backup: archive {located.path} ({located.source})", err=True)
    return located


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
    except BrokenPipeError:
        code = stdout_closed()
    except ClaudeBackupError as exc:
        code = _fail(exc, debug)
        if json_output and not exc.in_json_summary:
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


def stdout_closed() -> int:
    """Whoever read our output has gone (`search … | head -1`): stop quietly, as a pipe's
    writer does, with nothing on stderr. Later writes, and Python's own flush at exit, go to
    /dev/null instead of raising again. Exit 0: the reader took what it wanted."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 0


def _fail(exc: ClaudeBackupError, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    typer.echo(f"claude-backup: error: {one_line(str(exc), 500)}", err=True)
    return exc.exit_code


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
