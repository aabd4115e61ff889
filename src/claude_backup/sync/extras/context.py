"""What the extras need from a sync, what they report back, and small shared helpers."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from claude_backup.archive.files import (
    archive_error,
    inside_archive,
    make_dirs,
    remove_empty_parents,
)
from claude_backup.client import ClaudeClient
from claude_backup.errors import UnstorableItem, is_item_failure
from claude_backup.model import jsonvalue
from claude_backup.model.layout import TEMP_PREFIX
from claude_backup.model.records import StoredChat
from claude_backup.sync.extras.remembered import ExtrasState
from claude_backup.text import human_size, one_line, plural

T = TypeVar("T")


class Settings(Protocol):
    @property
    def files(self) -> bool: ...
    @property
    def projects(self) -> bool: ...
    @property
    def prune_deleted(self) -> bool: ...
    @property
    def profile(self) -> bool: ...
    @property
    def skills(self) -> bool: ...
    @property
    def catalog(self) -> bool: ...
    @property
    def code(self) -> bool: ...
    @property
    def full_pass_hours(self) -> float: ...


class Notes(Protocol):
    def note(self, message: str) -> None: ...


@dataclass
class ExtrasReport:
    """What the extras did in one sync; `line()` is the part of the summary about it."""

    files: int = 0  # uploads downloaded
    missing: int = 0  # uploads found gone (recorded as missing)
    lossy: int = 0  # uploads only available as a lossy preview
    sandbox: int = 0  # sandbox outputs downloaded
    bytes: int = 0  # bytes downloaded, all kinds
    projects: int = 0  # projects stored
    artifacts: int = 0  # artifacts written from chats that changed
    skills: int = 0  # skills downloaded (new or changed)
    code_sessions: int = 0  # Claude Code sessions whose transcript was fetched
    project_full_pass: bool = False  # this sync re-read every project (the daily pass)
    skipped: dict[str, str] = field(default_factory=dict)  # feature -> why (a 404 or 403)
    unexpected: dict[str, str] = field(default_factory=dict)  # feature -> what was odd
    melange: list[str] = field(default_factory=list)  # orgs whose memory is per-file

    def skip(self, feature: str, reason: str) -> None:
        """A feature this account does not have: noted once per sync (shown with --debug)."""
        self.skipped.setdefault(feature, reason)

    def odd(self, feature: str, what: str) -> None:
        """An answer of a shape we do not know: stored raw, reported once per sync."""
        self.unexpected.setdefault(feature, what)

    def line(self) -> str:
        parts = []
        if self.files:
            parts.append(plural(self.files, "file"))
        if self.sandbox:
            parts.append(plural(self.sandbox, "sandbox output"))
        if parts:
            parts[-1] += f" ({human_size(self.bytes)})"
        if self.missing:
            parts.append(f"{self.missing} missing")
        if self.lossy:
            parts.append(f"{self.lossy} only as preview")
        if self.artifacts:
            parts.append(plural(self.artifacts, "artifact"))
        if self.skills:
            parts.append(plural(self.skills, "skill"))
        if self.code_sessions:
            parts.append(plural(self.code_sessions, "Claude Code session"))
        return ", ".join(parts)


@dataclass
class ExtrasContext:
    """Everything one account's extras need. `chats`: the account's stored chats, scanned
    after this sync's chat moves (so paths are current), known once the chats are stored."""

    root: Path
    client: ClaudeClient
    account_uuid: str
    account_path: str
    orgs: Sequence[Mapping[str, Any]]
    settings: Settings
    reporter: Notes
    failures: list[str]
    write: Callable[[Path, bytes], bytes | None]  # a file of the archive: `Archive.write_file`
    place: Callable[[Path, Path], bytes]  # a downloaded file to its place: `Archive.place_file`
    chats: Mapping[str, StoredChat] = field(default_factory=dict)  # set once they are stored
    report: ExtrasReport = field(default_factory=ExtrasReport)
    state: ExtrasState = field(default_factory=ExtrasState)  # hints kept between syncs

    @property
    def workers(self) -> int:
        """Twice the connections: while one worker writes what it downloaded, another's request
        takes its connection (the client never has more than `connections` in flight)."""
        return 2 * max(1, self.client.politeness.connections)

    async def save(self, path: Path, data: bytes) -> None:
        """Write a file made in memory in a thread (it is hashed and compressed there too)."""
        await asyncio.to_thread(self.write, path, data)

    async def get_bytes(self, path: str, params: dict[str, str] | None = None) -> bytes:
        """A small answer that is needed in memory (a zip to unpack); files to store go
        through `download`, in constant memory."""
        data = await self.client.get_bytes(path, params)
        self.report.bytes += len(data)
        return data

    async def download(self, path: str, params: dict[str, str] | None, dest: Path) -> Download:
        """Download a file to `dest` in constant memory, whatever its size: streamed to a
        temporary file beside it, then hashed, stored for the commit and moved into place in
        a thread (so the event loop goes on reading). Gone and ApiError as the client raises."""
        dest = inside_archive(self.root, dest)
        make_dirs(dest.parent)
        temp = dest.with_name(f"{TEMP_PREFIX}{os.getpid()}-{next(_TEMP_NUMBERS)}")
        try:
            try:
                size = await self.client.download_to(path, temp, params)
            except OSError as exc:
                raise archive_error(exc, dest) from exc
            sha256 = await asyncio.to_thread(_sha256_of, temp)
            await asyncio.to_thread(self.place, temp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            remove_empty_parents(self.root, dest.parent)  # no folder left for nothing
            raise
        self.report.bytes += size
        return Download(size, sha256)


@dataclass(frozen=True)
class Download:
    size: int
    sha256: str


_TEMP_NUMBERS = itertools.count()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def reported(failures: list[str], what: str) -> Iterator[None]:
    """Run the storing of one item; if it fails for reasons of its own (`is_item_failure`),
    report it in `failures` and go on: one bad item never stops the rest."""
    try:
        yield
    except Exception as exc:
        if not is_item_failure(exc):
            raise
        failures.append(f"{what}: {describe_failure(exc)}")


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, UnstorableItem):
        return str(exc)
    return f"cannot be stored ({type(exc).__name__}: {one_line(str(exc), 200)})"


def read_json(path: Path) -> Any:
    """A JSON file's value, or None when it is missing or unreadable."""
    try:
        return jsonvalue.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""
