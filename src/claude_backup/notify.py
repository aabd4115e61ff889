"""Telling someone how an unattended sync went: Apprise URLs (ntfy, Slack, Discord, Telegram,
e-mail, Matrix, JSON webhooks, ...), a shell command fed the message on stdin, and a
healthchecks-style ping (the URL on success, URL/fail on failure), so that silence itself
becomes an alarm. A message says what failed and what to do, never the session key; a
notification that cannot be delivered is a warning on stderr, never a failed sync."""

from __future__ import annotations

import logging
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from claude_backup.childenv import scrubbed_environ
from claude_backup.errors import (
    ApiError,
    ArchiveError,
    ArchiveLocked,
    AuthError,
    BlockedError,
    ClaudeBackupError,
    Interrupted,
    PartialSync,
    PushError,
    UnexpectedResponse,
    UsageError,
)
from claude_backup.keys import SessionKey
from claude_backup.text import one_line

Kind = Literal["failure", "warning", "success"]
COMMAND_TIMEOUT = 60.0
PING_TIMEOUT = 10.0
PING_TRIES = 3


@dataclass(frozen=True)
class Event:
    kind: Kind
    title: str
    body: str
    exit_code: int = 0

    def text(self) -> str:
        return f"{self.title}\n\n{self.body}\n"


@dataclass
class Alerts:
    """Where messages go. Empty: every method does nothing."""

    urls: Sequence[str] = ()
    command: str | None = None
    ping_url: str | None = None
    on_success: bool = False
    secrets: list[str] = field(default_factory=list)

    def watch(self, keys: Iterable[SessionKey]) -> None:
        """Keys whose values must never appear in a message, whatever happens."""
        self.secrets.extend(key.reveal() for key in keys)

    def failure(self, exc: BaseException, archive: Path | None) -> list[str]:
        event = failure_event(exc, archive)
        problems = self.send(event)
        problems += self.ping(success=False, body=event.text())
        return problems

    def success(self, summary: str) -> list[str]:
        problems = []
        if self.on_success:
            problems += self.send(Event("success", f"claude-backup: sync ok on {_host()}", summary))
        return problems + self.ping(success=True, body=summary)

    def warning(self, lines: Sequence[str], archive: Path) -> list[str]:
        body = "\n".join([*lines, f"archive: {archive}", f"machine: {_host()}"])
        return self.send(Event("warning", f"claude-backup: warning on {_host()}", body))

    def send(self, event: Event) -> list[str]:
        """Deliver `event` to every URL and the command; one line per delivery that failed."""
        event = Event(event.kind, self._hide(event.title), self._hide(event.body), event.exit_code)
        problems = [
            f"notification to {redact_url(u)} failed" for u in self.urls if not _apprise(u, event)
        ]
        if self.command:
            problem = run_command(self.command, event)
            if problem:
                problems.append(problem)
        return problems

    def ping(self, *, success: bool, body: str) -> list[str]:
        if not self.ping_url:
            return []
        url = self.ping_url if success else self.ping_url.rstrip("/") + "/fail"
        if _ping(url, self._hide(body)):
            return []
        return [f"ping to {redact_url(url)} failed"]

    def _hide(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<session key>")
        return text


def failure_event(exc: BaseException, archive: Path | None) -> Event:
    code = (
        exc.exit_code
        if isinstance(exc, ClaudeBackupError)
        else (Interrupted.exit_code if isinstance(exc, KeyboardInterrupt) else 1)
    )
    what = one_line(str(exc), 500) if str(exc) else type(exc).__name__
    if not isinstance(exc, (ClaudeBackupError, KeyboardInterrupt)):
        what = f"internal error: {type(exc).__name__}: {what}"
    lines = [what, f"what to do: {fix_for(exc)}"]
    if archive is not None:
        lines.append(f"archive: {archive}")
    lines.append(f"machine: {_host()}")
    return Event(
        "failure", f"claude-backup: sync failed on {_host()} (exit {code})", "\n".join(lines), code
    )


FIXES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (
        AuthError,
        "paste a fresh sessionKey with `claude-backup key set` "
        "(claude.ai, developer tools, Cookies, sessionKey)",
    ),
    (
        BlockedError,
        "claude.ai blocked the request (Cloudflare check or region); the next run tries again; "
        "if it repeats, run `claude-backup sync` by hand",
    ),
    (
        PartialSync,
        "everything else was committed and the next run retries the rest; "
        "`claude-backup status` shows the last result",
    ),
    (ArchiveLocked, "another sync of this archive was still running; if this repeats, one hangs"),
    (
        ArchiveError,
        "check the archive folder (disk full? permissions? moved?), then run `claude-backup sync`",
    ),
    (PushError, "the backup is committed locally; check the remote, then `claude-backup push`"),
    (
        (ApiError, UnexpectedResponse),
        "claude.ai answered with an error; the next run tries again; "
        "if it repeats, run `claude-backup sync --debug` by hand",
    ),
    (UsageError, "fix the scheduled command or the config file (`claude-backup config show`)"),
    (
        (Interrupted, KeyboardInterrupt),
        "the run was stopped before it finished; the next run completes its work",
    ),
)


def fix_for(exc: BaseException) -> str:
    """The next step for the person who reads the message."""
    for kind, fix in FIXES:
        if isinstance(exc, kind):
            return fix
    return "run `claude-backup sync --debug` by hand to see what went wrong"


def redact_url(url: str) -> str:
    """Scheme and host only: the rest of a notification URL is often a token."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}/…" if parts.scheme else "(a notification URL)"


def valid_notify_url(url: str) -> bool:
    import apprise

    _quiet_apprise()
    return apprise.Apprise.instantiate(url) is not None


def _apprise(url: str, event: Event) -> bool:
    import apprise

    _quiet_apprise()
    kinds = {
        "failure": apprise.NotifyType.FAILURE,
        "warning": apprise.NotifyType.WARNING,
        "success": apprise.NotifyType.SUCCESS,
    }
    sender = apprise.Apprise()
    if not sender.add(url):
        return False
    try:
        return bool(
            sender.notify(title=event.title, body=event.body, notify_type=kinds[event.kind])
        )
    except Exception:  # a plugin's bug must not turn a finished sync into a crash
        return False


def _quiet_apprise() -> None:
    """Apprise logs delivery errors, sometimes with the URL; we report them ourselves."""
    logger = logging.getLogger("apprise")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def run_command(command: str, event: Event) -> str | None:
    """Run `command` through the shell with the message on stdin and the session key out of
    its environment; a line describing the failure, or None."""
    env = scrubbed_environ(
        {
            "CLAUDE_BACKUP_EVENT": event.kind,
            "CLAUDE_BACKUP_EXIT_CODE": str(event.exit_code),
            "CLAUDE_BACKUP_TITLE": event.title,
        }
    )
    try:
        done = subprocess.run(
            command,
            shell=True,
            input=event.text(),
            text=True,
            env=env,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return f"--notify-command did not finish within {COMMAND_TIMEOUT:.0f} s"
    except OSError as exc:
        return f"--notify-command could not start: {exc.strerror}"
    if done.returncode != 0:
        said = one_line(done.stderr or done.stdout, 200)
        return f"--notify-command exited with {done.returncode}" + (f": {said}" if said else "")
    return None


def _ping(url: str, body: str) -> bool:
    if urlsplit(url).scheme not in ("http", "https"):
        return False
    for _ in range(PING_TRIES):
        request = urllib.request.Request(
            url, data=body[-10_000:].encode(), headers={"User-Agent": "claude-backup"}
        )
        try:
            with urllib.request.urlopen(request, timeout=PING_TIMEOUT) as answer:
                if 200 <= answer.status < 300:
                    return True
        except (urllib.error.URLError, OSError, ValueError):
            continue
    return False


def _host() -> str:
    return socket.gethostname() or "this machine"
