"""Our exceptions, and the exit code each one ends the program with.

    ClaudeBackupError                 1  anything we could not do
    ├── UsageError                    2  a bad option or argument
    ├── PartialSync                   3  some chats failed; the rest were committed
    ├── AuthError                     4  no session key, or the server rejected it
    ├── BlockedError                  5  Cloudflare challenge or a region redirect
    ├── ApiError                      6  one request failed (an error status, retries used up)
    │   ├── RetryableApiError         -  429, 5xx, reset, timeout, bad JSON: retried first
    │   └── Gone                      -  a chat or file vanished (404/410): handled, not shown
    ├── UnexpectedResponse            6  HTML where JSON belongs, a redirect: ends the run
    ├── ArchiveError                  7  the archive cannot be written or is not ours
    │   ├── CommittedButFailed        7  the sync's commit landed; a step after it failed
    │   ├── ArchiveLocked             8  another sync holds the archive
    │   ├── OutsideArchive            7  a folder of ours is a symbolic link: nothing written
    │   └── UnstorableItem            -  one item's name or path is impossible: reported (3)
    ├── PushError                     9  the push to a git remote failed; the local commit stands
    ├── VerifyFailed                 10  `verify` found something missing or inconsistent
    └── Interrupted                 130  Ctrl-C or SIGTERM

The CLI turns each into one line on stderr and its exit code; a traceback only with --debug.
Messages never contain the session key: nothing here is ever given one.
"""

from __future__ import annotations


class ClaudeBackupError(Exception):
    """Base of every error the CLI reports as one line."""

    exit_code = 1
    in_json_summary = False  # already told in a --json summary: no second JSON object


class UsageError(ClaudeBackupError):
    exit_code = 2


class PartialSync(ClaudeBackupError):
    """Some chats could not be backed up; everything else was committed."""

    exit_code = 3


class AuthError(ClaudeBackupError):
    exit_code = 4


class BlockedError(ClaudeBackupError):
    exit_code = 5


class _FromRequest(ClaudeBackupError):
    """An error about one request: carries its HTTP status (if any) and URL path."""

    exit_code = 6

    def __init__(self, message: str, *, status: int | None = None, path: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.path = path


class ApiError(_FromRequest):
    """One request failed: an error status, or retries used up."""


class RetryableApiError(ApiError):
    """A fault worth retrying: 429, 5xx, a reset connection, a timeout, a truncated body."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, path=path)
        self.retry_after = retry_after


class Gone(ApiError):
    """A chat listed a moment ago, or a file, is gone (404/410): a chat counts as deleted."""


class UnexpectedResponse(_FromRequest):
    """Not what an API answers: an HTML page where JSON belongs, a redirect. Ends the run."""


class ArchiveError(ClaudeBackupError):
    exit_code = 7


class CommittedButFailed(ArchiveError):
    """The commit landed (the backup is safe), then a step after it failed: updating the git
    index, packing, the last-sync record. Those are redone by the next sync."""


class ArchiveLocked(ArchiveError):
    exit_code = 8


class OutsideArchive(ArchiveError):
    """A write would leave the archive folder (through a symbolic link): the sync stops before
    anything is committed, so nothing is written elsewhere and nothing drops out of HEAD."""


class UnstorableItem(ArchiveError):
    """One item cannot be stored here (a path too long, a folder in the way, a name the file
    system refuses, a path read from the archive leading out of it). The sync reports it
    and goes on; uncaught it is an archive error."""


def is_item_failure(exc: BaseException) -> bool:
    """Whether an error storing one item concerns that item only, so the sync reports it and
    goes on: an `UnstorableItem`, or anything unforeseen that the item's data caused (a
    ValueError, a RecursionError, ...). Not the archive's own failures (a full disk), not our
    errors that end a run, not an interruption."""
    if isinstance(exc, UnstorableItem):
        return True
    return isinstance(exc, Exception) and not isinstance(exc, (ClaudeBackupError, OSError))


class Interrupted(ClaudeBackupError):
    exit_code = 130


class PushError(ClaudeBackupError):
    """A push to a git remote failed (unreachable, refused, not a fast-forward).

    The archive's branch and files are untouched: a push never rewrites local history.
    """

    exit_code = 9


class VerifyFailed(ClaudeBackupError):
    """`claude-backup verify` found the archive incomplete or inconsistent (each problem is
    printed above the error line)."""

    exit_code = 10
