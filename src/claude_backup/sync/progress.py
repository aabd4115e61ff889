"""What a sync shows while it runs. On a terminal: a live rich display (organizations, chats
listed, fetched/total, rate, time spent and left, retry waits) with one line per saved chat
saying what changed. On a pipe or in cron: plain lines. With --quiet or --json: nothing but
errors; details (an organization skipped) only with --verbose.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class PlainReporter:
    """Lines for pipes and logs: one per saved chat on stdout, notes on stderr."""

    def __init__(
        self,
        *,
        quiet: bool = False,
        verbose: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ):
        self.quiet = quiet
        self.verbose = verbose and not quiet
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def account_started(self, label: str) -> None:
        pass

    def listed(self, org_name: str, chats: int) -> None:
        pass

    def planned(self, fetches: int, unchanged: int) -> None:
        pass

    def chat_saved(self, uuid: str, title: str, kind: str = "") -> None:
        if not self.quiet:
            print(chat_line(uuid, title, kind), file=self.out, flush=True)

    def retrying(self, what: str, wait: float, reason: str) -> None:
        if not self.quiet:
            print(f"claude-backup: {reason}; retrying in {wait:.1f} s", file=self.err, flush=True)

    def note(self, message: str) -> None:
        if not self.quiet:
            print(f"claude-backup: {message}", file=self.err, flush=True)

    def detail(self, message: str) -> None:
        """A note worth showing only when asked (--verbose): nothing is wrong."""
        if self.verbose:
            self.note(message)

    def close(self) -> None:
        pass


class RichReporter(PlainReporter):
    """A live progress display on a terminal (stdout), chat lines printed above it."""

    def __init__(self, console: Console | None = None, *, verbose: bool = False) -> None:
        super().__init__(verbose=verbose)
        self.console = console or Console()
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("[dim]spent"),
            TimeElapsedColumn(),
            TextColumn("[dim]left"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
            console=self.console,
            transient=True,
        )
        self.progress.start()
        self.task: TaskID = self.progress.add_task("listing", total=None, rate="", status="")
        self.listed_chats = 0

    def account_started(self, label: str) -> None:
        self.listed_chats = 0
        self._update(description=f"{label}: listing", completed=0, total=None, status="")

    def listed(self, org_name: str, chats: int) -> None:
        self.listed_chats += chats
        self._update(status=f"{self.listed_chats} chats listed")

    def planned(self, fetches: int, unchanged: int) -> None:
        self._update(
            description="fetching", total=fetches, completed=0, status=f"{unchanged} up to date"
        )

    def chat_saved(self, uuid: str, title: str, kind: str = "") -> None:
        line = Text(chat_line(uuid, title, kind), no_wrap=True, overflow="ellipsis")
        self.progress.console.print(line, soft_wrap=False, crop=True)
        self.progress.advance(self.task)
        task = self.progress.tasks[0]
        speed = task.speed
        self._update(rate=f"{speed:.1f} chats/s" if speed else "", status="")

    def retrying(self, what: str, wait: float, reason: str) -> None:
        self._update(status=f"[yellow]waiting {wait:.1f} s: {reason}")

    def note(self, message: str) -> None:
        self.progress.console.print(f"claude-backup: {message}", style="dim", highlight=False)

    def close(self) -> None:
        self.progress.stop()

    def _update(self, **fields: Any) -> None:
        self.progress.update(self.task, **fields)


KIND_LABELS = {
    "new": "new",
    "updated": "updated",
    "branch": "branch",
    "renamed": "renamed",
    "restored": "restored",
}
KIND_WIDTH = max(len(label) for label in KIND_LABELS.values())


def chat_line(uuid: str, title: str, kind: str) -> str:
    """`<uuid>  <what changed>  <title>`: the uuid first, so lines stay aligned."""
    label = KIND_LABELS.get(kind, kind)
    return f"{uuid}  {label:<{KIND_WIDTH}}  {title}" if label else f"{uuid}  {title}"


def make_reporter(*, quiet: bool, json_output: bool, verbose: bool = False) -> PlainReporter:
    if quiet or json_output:
        return PlainReporter(quiet=True)
    if sys.stdout.isatty():
        return RichReporter(verbose=verbose)
    return PlainReporter(verbose=verbose)
