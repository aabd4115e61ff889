"""The command line: options in, one call to the sync, a summary and an exit code out."""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn
from urllib.parse import urlsplit

import typer

from . import __version__
from .describe import one_line
from .errors import ClaudeBackupError, Interrupted, PartialSync, UsageError

DEFAULT_BASE_URL = "https://claude.ai"

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


class LineReporter:
    """Plain lines: one per saved chat on stdout (unless quiet), notes on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def chat_saved(self, uuid: str, title: str) -> None:
        if not self.quiet:
            typer.echo(f"{uuid}  {title}")

    def note(self, message: str) -> None:
        typer.echo(f"claude-backup: {message}", err=True)


@app.command()
def sync(
    archive: Annotated[
        Path | None,
        typer.Argument(
            help="The archive folder (a git repository). Default: $CLAUDE_BACKUP_ARCHIVE, "
            "else the archive you are in, else your user data folder.",
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        str,
        typer.Option(envvar="CLAUDE_BACKUP_BASE_URL", help="Where the Claude.ai API lives."),
    ] = DEFAULT_BASE_URL,
    connections: Annotated[
        int, typer.Option("-c", "--connections", min=1, max=16, help="Requests in flight at once.")
    ] = 2,
    success_delay: Annotated[
        float,
        typer.Option("-d", "--success-delay", min=0, help="Seconds to pause after each success."),
    ] = 0.25,
    retries: Annotated[
        int, typer.Option("-r", "--retries", min=0, max=100, help="Retries of a failed request.")
    ] = 5,
    min_retry_delay: Annotated[
        float, typer.Option(min=0, help="Shortest wait before a retry, seconds.")
    ] = 1.0,
    max_retry_delay: Annotated[
        float, typer.Option(min=0, help="Longest wait before a retry, seconds.")
    ] = 60.0,
    timeout: Annotated[
        float, typer.Option(min=1, help="Give up on a silent connection after this many seconds.")
    ] = 60.0,
    session_key_file: Annotated[
        Path | None,
        typer.Option(help="A file holding session keys, one per line.", show_default=False),
    ] = None,
    browser: Annotated[
        str | None,
        typer.Option(help="Take the sessionKey cookie from this browser only.", show_default=False),
    ] = None,
    prune_deleted: Annotated[
        bool,
        typer.Option(
            help="Remove chats deleted on claude.ai from the tree (git history keeps them)."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only errors.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Fetch every new or changed chat and commit the changes to the archive.

    The session key is read from CLAUDE_SESSION_KEY, else from stdin (one key per line, one per
    account), else --session-key-file, else your browser's cookies. Example:

        wl-paste | claude-backup sync
    """
    from .client import Politeness
    from .keys import find_keys
    from .locate import find_archive
    from .sync import SyncSettings, run

    def work() -> int:
        url = _check_base_url(base_url)
        if max_retry_delay < min_retry_delay:
            raise UsageError("--max-retry-delay must be at least --min-retry-delay")
        keys = find_keys(key_file=session_key_file, browser=browser, base_url=url)
        settings = SyncSettings(
            archive=find_archive(archive),
            base_url=url,
            politeness=Politeness(
                connections=connections,
                success_delay=success_delay,
                retries=retries,
                min_retry_delay=min_retry_delay,
                max_retry_delay=max_retry_delay,
                timeout=timeout,
            ),
            prune_deleted=prune_deleted,
        )
        reporter = LineReporter(quiet)
        report = asyncio.run(run(keys, settings, reporter))
        for account in report.accounts:
            if not quiet:
                typer.echo(_account_line(account, settings.archive))
        if report.failures:
            for failure in report.failures:
                reporter.note(one_line(failure, 300))
            raise PartialSync(
                f"{len(report.failures)} item(s) could not be backed up; "
                "everything else was committed. Run sync again to retry them."
            )
        return 0

    run_command(work, debug)


def _account_line(account: object, archive: Path) -> str:
    from .sync import AccountReport

    assert isinstance(account, AccountReport)
    if account.commit is None:
        return f"{account.account}: no changes ({account.unchanged} chats up to date)"
    assert account.summary is not None
    counts = account.summary.counts()
    parts = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "files updated"
    return f"{account.account}: {parts}; committed {account.commit[:12]} in {archive}"


def _check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url must be an http(s) URL, not {url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UsageError("--base-url may use plain http only on this machine (the key is secret)")
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_command(work: Callable[[], int], debug: bool) -> NoReturn:
    """Run a command's `work`; turn our errors into one line on stderr and an exit code.
    Every command goes through here."""
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
    modules: list[str] = []
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
