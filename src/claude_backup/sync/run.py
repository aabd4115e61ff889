"""One sync: for each account, list, plan, fetch, write, commit. The only module that knows the
client, the planner and the archive together.

Order of work (a crash at any point is harmless): folders of renamed organizations move first;
changed chats are fetched and each written atomically as it arrives; deletions move files;
then the commit is made from the files on disk, and the branch moves once. An interrupted run
leaves complete files behind, which the next run counts as already fetched and commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from claude_backup.archive.files import (
    archive_error,
    move,
    start_flush_to_disk,
    symlink_message,
)
from claude_backup.archive.repository import Archive
from claude_backup.archive.runlog import sync_running
from claude_backup.client import ClaudeClient, Politeness
from claude_backup.errors import (
    ApiError,
    AuthError,
    ClaudeBackupError,
    CommittedButFailed,
    Gone,
    OutsideArchive,
    UnexpectedResponse,
    UnstorableItem,
)
from claude_backup.keys import SessionKey, write_back_key
from claude_backup.model import jsonvalue
from claude_backup.model.canonical import json_bytes
from claude_backup.model.changes import FileChange
from claude_backup.model.layout import (
    ACCOUNT_FILE,
    CHAT_FILES,
    CHATS,
    DELETED,
    DELETED_PROJECTS,
    FILES,
    ORG_FILE,
    PROJECTS,
    account_dir,
    chat_path,
    org_dir,
    org_folder,
)
from claude_backup.model.messages import NewChat, Summary
from claude_backup.model.naming import is_uuid, uuid_of
from claude_backup.model.records import ChatRecord, OrgListing, StoredChat
from claude_backup.sync.commits import plan_commits
from claude_backup.sync.extras.chatfiles import ChatWork
from claude_backup.sync.extras.context import ExtrasContext, ExtrasReport, reported
from claude_backup.sync.extras.extras import Extras
from claude_backup.sync.extras.remembered import ExtrasState
from claude_backup.sync.plan import Fetch, Move, Rename, SyncPlan, plan_sync
from claude_backup.sync.scan import StateCache, scan_account
from claude_backup.sync.tasks import gather_or_cancel
from claude_backup.text import one_line
from claude_backup.transport.clients import DEFAULT_HTTP_CLIENT

CHAT_CAPABILITY = "chat"
OUR_FOLDERS = frozenset(
    {CHATS, DELETED, CHAT_FILES, FILES, PROJECTS, DELETED_PROJECTS}
)  # what an organization's folder holds


@dataclass(frozen=True)
class SyncSettings:
    archive: Path
    base_url: str
    politeness: Politeness = field(default_factory=Politeness)
    prune_deleted: bool = False
    files: bool = True  # uploads, sandbox outputs
    projects: bool = True  # projects, their knowledge and instructions
    profile: bool = True  # profile preferences and custom styles
    skills: bool = True  # custom Skills, every file
    catalog: bool = True  # published artifacts and the artifact catalog
    code: bool = True  # Claude Code on the web session transcripts
    full_pass_hours: float = 24.0  # how often every project is read in full
    http_client: str = DEFAULT_HTTP_CLIENT  # chrome or httpx (transport/clients.py)
    key_file: Path | None = None  # where keys came from, if a file: renewed keys go back there


class Reporter(Protocol):
    """Told what happens, as it happens (progress.py shows it)."""

    def account_started(self, label: str) -> None: ...
    def listed(self, org_name: str, chats: int) -> None: ...
    def planned(self, fetches: int, unchanged: int) -> None: ...
    def chat_saved(self, uuid: str, title: str, kind: str = "") -> None: ...
    def detail(self, message: str) -> None: ...
    def retrying(self, what: str, wait: float, reason: str) -> None: ...
    def note(self, message: str) -> None: ...


@dataclass
class AccountReport:
    account: str
    commit: str | None = None
    summary: Summary | None = None
    fetched: int = 0
    unchanged: int = 0
    requests: int = 0
    retries: int = 0
    key_renewed: bool = False  # the server renewed the session key during this sync
    failures: list[str] = field(default_factory=list)
    extras: ExtrasReport = field(default_factory=ExtrasReport)
    listing_gaps: list[str] = field(default_factory=list)  # listings short of count_all
    after_commit: str | None = None  # what failed after the commit landed (CommittedButFailed)


@dataclass
class SyncReport:
    accounts: list[AccountReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[str]:
        return [f for a in self.accounts for f in a.failures]


async def run(
    keys: Sequence[SessionKey],
    settings: SyncSettings,
    reporter: Reporter,
) -> SyncReport:
    """Back up every account whose key is given into one archive; one commit per account.

    The first key is checked with the server before the archive is opened, so a wrong key
    leaves no new folder behind. An error in a later account keeps the earlier accounts'
    commits: it is raised as `AccountFailed`, which carries the report so far."""
    started = time.monotonic()
    report = SyncReport()
    archive: Archive | None = None
    cache: StateCache | None = None
    with contextlib.ExitStack() as stack:
        try:
            for number, key in enumerate(keys, start=1):
                client = ClaudeClient(
                    settings.base_url,
                    key,
                    settings.politeness,
                    http_client=settings.http_client,
                    on_retry=lambda what, wait, exc: reporter.retrying(
                        what, wait, one_line(str(exc), 120)
                    ),
                    on_key_renewed=lambda old, new: keep_renewed_key(
                        settings.key_file, old, new, reporter
                    ),
                )
                async with client:
                    try:
                        account = await client.account()
                    except AuthError as exc:
                        if len(keys) > 1:
                            raise AuthError(
                                f"the key on {key.where} (key {number}): {exc}"
                            ) from exc
                        raise
                    if archive is None:
                        archive = Archive.open(settings.archive)
                        stack.enter_context(archive.lock())
                        stack.enter_context(sync_running(archive.root))
                        cache = StateCache.load(archive.private_dir / "chats.json")
                        stack.callback(cache.save)
                    assert cache is not None
                    sync = AccountSync(archive, cache, client, settings, reporter)
                    report.accounts.append(await sync.run(account))
        except ClaudeBackupError as exc:
            if report.accounts:
                report.seconds = time.monotonic() - started
                raise AccountFailed(exc, report) from exc
            raise
    report.seconds = time.monotonic() - started
    return report


class AccountFailed(ClaudeBackupError):
    """An account failed after earlier ones were committed: their report, and the error."""

    def __init__(self, error: ClaudeBackupError, report: SyncReport) -> None:
        super().__init__(str(error))
        self.error = error
        self.report = report
        self.exit_code = error.exit_code


def keep_renewed_key(
    key_file: Path | None, old: SessionKey, new: SessionKey, reporter: Reporter
) -> None:
    """A renewed key the server accepted: written back where the old one came from, the
    --session-key-file or the keyring or key file of `claude-backup key set` (the environment,
    stdin and a browser cannot be written to)."""
    if key_file is None or old.source != str(key_file):
        from claude_backup.keystore import KEYRING_SOURCE, key_file_path, store_renewed_key

        if old.source in (KEYRING_SOURCE, str(key_file_path())) and not store_renewed_key(
            old, new.reveal()
        ):
            reporter.note(f"the renewed session key could not be saved to {old.source}")
        return
    try:
        written = write_back_key(key_file, old, new)
    except OSError as exc:
        reporter.note(f"could not write the renewed session key to {key_file}: {exc.strerror}")
        return
    if not written:
        reporter.note(f"{key_file} changed during the sync; the renewed session key was not saved")


class AccountSync:
    def __init__(
        self,
        archive: Archive,
        cache: StateCache,
        client: ClaudeClient,
        settings: SyncSettings,
        reporter: Reporter,
    ) -> None:
        self.archive = archive
        self.root = archive.root
        self.cache = cache
        self.client = client
        self.settings = settings
        self.reporter = reporter
        self.stored: dict[str, StoredChat] = {}
        self.written: dict[str, StoredChat] = {}  # chats written by this sync, where they are
        self.new_chats: dict[bytes, NewChat] = {}  # blob -> what it says, for chats new here
        self.remembered = ExtrasState.of_archive(self.root)

    async def run(self, account: dict[str, Any]) -> AccountReport:
        account_uuid = account.get("uuid")
        if not is_uuid(account_uuid):
            raise UnexpectedResponse("/account: the account has no valid uuid", path="/account")
        assert isinstance(account_uuid, str)
        report = AccountReport(one_line(account.get("email_address")) or account_uuid)
        self.reporter.account_started(report.account)
        account_path = account_dir(account)
        refuse_linked_folders(self.root, account_uuid)
        self._rename_folder(self.root, account_uuid, account_path)
        orgs = self._chat_orgs(account)
        for org in orgs:
            self._rename_folder(self.root / account_path, str(org["uuid"]), org_folder(org))
        self.archive.write_file(self.root / account_path / ACCOUNT_FILE, json_bytes(account))
        listings = await self._list(account_path, orgs, report)
        for org in orgs:
            path = self.root / org_dir(account_path, org) / ORG_FILE
            self.archive.write_file(path, json_bytes(org))

        state = scan_account(self.root, account_uuid, self.cache)
        self.stored = state.chats
        for stray in state.strays:
            move(self.root, stray, None)
        plan = plan_sync(listings, state.chats, prune_deleted=self.settings.prune_deleted)
        for rename in plan.renames:
            if not self._rename_locally(rename):  # unreadable copy: fetch it instead
                plan.fetches.append(Fetch(rename.uuid, rename.org_path, "renamed", rename.old_path))
        self.reporter.planned(len(plan.fetches), plan.unchanged)
        report.unchanged = plan.unchanged
        report.failures.extend(f"chat {u!r} has no valid uuid" for u in plan.invalid)
        extras = Extras(
            ExtrasContext(
                root=self.root,
                client=self.client,
                account_uuid=account_uuid,
                account_path=account_path,
                orgs=orgs,
                settings=self.settings,
                reporter=self.reporter,
                failures=report.failures,
                write=self.archive.write_file,
                state=self.remembered,
                place=self.archive.place_file,
            )
        )
        extras.start()
        try:
            moves = [*plan.moves, *await self._fetch_all(plan, report, extras)]
            for item in moves:
                move(self.root, item.old_path, item.new_path)
            report.extras = await extras.finish(self._stored_now(state.chats, moves))
        finally:
            await extras.close()

        report.requests, report.retries = self.client.requests, self.client.retries
        report.key_renewed = self.client.key_renewed
        self._commit(account, account_uuid, report)
        return report

    def _stored_now(
        self, before: dict[str, StoredChat], moves: list[Move]
    ) -> dict[str, StoredChat]:
        """The account's stored chats after this sync's writes and moves (what scanning the
        folders again would find, without a second scan of every chat file)."""
        chats = dict(before)
        for item in moves:
            chat = chats.pop(item.uuid, None)
            if chat is not None and item.new_path is not None:
                deleted = item.new_path.split("/")[-2] == DELETED
                chats[item.uuid] = StoredChat(chat.record, item.new_path, chat.org_uuid, deleted)
        chats.update(self.written)
        return chats

    def _chat_orgs(self, account: dict[str, Any]) -> list[dict[str, Any]]:
        orgs: list[dict[str, Any]] = []
        memberships = account.get("memberships")
        for membership in memberships if isinstance(memberships, list) else []:
            org = membership.get("organization") if isinstance(membership, dict) else None
            if not isinstance(org, dict) or not is_uuid(org.get("uuid")):
                continue
            capabilities = org.get("capabilities")
            if not isinstance(capabilities, list) or CHAT_CAPABILITY not in capabilities:
                self.reporter.detail(
                    f"skipping organization {one_line(org.get('name'))!r} ({org['uuid']}): "
                    "it has no chat capability"
                )
                continue
            orgs.append(org)
        return orgs

    def _rename_folder(self, parent: Path, uuid: str, name: str) -> None:
        """Give the folder of an account or organization its current name (it was renamed)."""
        target = parent / name
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(parent):
                if entry.name == name or uuid_of(entry.name) != uuid or not entry.is_dir():
                    continue
                if target.exists():
                    for child in Path(entry.path).rglob("*"):
                        if child.is_file():
                            rel = child.relative_to(entry.path)
                            move(parent, str(Path(entry.name) / rel), str(Path(name) / rel))
                else:
                    os.replace(entry.path, target)
                old_prefix = str(Path(entry.path).relative_to(self.root)).replace(os.sep, "/")
                new_prefix = str(target.relative_to(self.root)).replace(os.sep, "/")
                self.cache.rename_prefix(old_prefix + "/", new_prefix + "/")

    async def _list(
        self, account_path: str, orgs: list[dict[str, Any]], report: AccountReport
    ) -> list[OrgListing]:
        async def one(org: dict[str, Any]) -> OrgListing | None:
            try:
                items = await self.client.list_chats(str(org["uuid"]))
                items, complete = await self._complete(org, items, report)
            except ApiError as exc:
                report.failures.append(f"organization {one_line(org.get('name'))!r}: {exc}")
                return None
            chats = tuple(ChatRecord.from_json(item) for item in items)
            self.reporter.listed(one_line(org.get("name")), len(chats))
            return OrgListing(str(org["uuid"]), org_dir(account_path, org), chats, complete)

        results = await gather_or_cancel([one(org) for org in orgs])
        return [r for r in results if r is not None]

    async def _complete(
        self, org: dict[str, Any], items: list[dict[str, Any]], report: AccountReport
    ) -> tuple[list[dict[str, Any]], bool]:
        """The listing checked against `count_all`, and whether it is complete: when it is
        short, the chats are listed again page by page and both listings joined; a gap that
        stays is reported once (a gap no larger than one a second listing could not close
        before is not listed again)."""
        org_uuid, name = str(org["uuid"]), one_line(org.get("name"))
        try:
            count = await self.client.count_chats(org_uuid)
        except (ApiError, UnexpectedResponse):
            return items, True  # no count here: nothing to check the listing against
        seen = {str(item.get("uuid")) for item in items}
        if count is None or count <= len(seen):
            self.remembered.set_gap(org_uuid, 0)
            return items, True
        if count - len(seen) <= self.remembered.known_gap(org_uuid):
            return items, False
        try:
            again = await self.client.list_chats_paged(org_uuid)
        except ApiError as exc:
            report.listing_gaps.append(
                f"organization {name!r}: count_all says {count} chats, the listing shows "
                f"{len(seen)}; listing again page by page failed ({exc})"
            )
            return items, False
        merged = items + [i for i in again if str(i.get("uuid")) not in seen]
        found = len(merged) - len(items)
        still = count - len({str(item.get("uuid")) for item in merged})
        self.remembered.set_gap(org_uuid, max(still, 0))
        if still > 0:
            report.listing_gaps.append(
                f"organization {name!r}: count_all says {count} chats, the listing shows "
                f"{count - still} even when paged again ({found} found by paging)"
            )
        else:
            report.listing_gaps.append(
                f"organization {name!r}: the chat listing came back {count - len(seen)} short "
                f"of count_all ({count}); paging again found them"
            )
        return merged, still <= 0

    async def _fetch_all(self, plan: SyncPlan, report: AccountReport, extras: Extras) -> list[Move]:
        queue: asyncio.Queue[Fetch] = asyncio.Queue()
        for item in plan.fetches:
            queue.put_nowait(item)
        gone: list[Move] = []

        async def worker() -> None:
            # Each chat is stored while the worker already waits for the next one, so storing
            # never leaves a connection idle; one chat at most is pending per worker.
            storing: asyncio.Future[None] | None = None
            try:
                while not queue.empty():
                    item = queue.get_nowait()
                    chat = await self._fetch_chat(item, report, gone)
                    if storing is not None:
                        await storing
                    storing = None
                    if chat is not None:
                        storing = asyncio.ensure_future(
                            self._store_chat(item, chat, report, extras)
                        )
                if storing is not None:
                    await storing
            finally:
                if storing is not None and not storing.done():
                    storing.cancel()
                    with contextlib.suppress(BaseException):
                        await storing

        workers = max(1, min(self.settings.politeness.connections, len(plan.fetches)))
        await gather_or_cancel([worker() for _ in range(workers)])
        return gone

    def _rename_locally(self, item: Rename) -> bool:
        """Give the stored chat its new name and file, as a fetch would; False if the stored
        copy cannot be read."""
        try:
            chat = jsonvalue.loads((self.root / item.old_path).read_bytes())
        except (OSError, ValueError):
            return False
        if not isinstance(chat, dict):
            return False
        chat["name"] = item.name
        try:
            self.archive.write_file(self.root / item.new_path, json_bytes(chat))
        except UnstorableItem:
            return False
        record = ChatRecord.from_json({**chat, "uuid": item.uuid})
        self.cache.record(item.new_path, os.lstat(self.root / item.new_path), record)
        if item.old_path != item.new_path:
            move(self.root, item.old_path, None)
        org_uuid = self.stored[item.uuid].org_uuid
        self.written[item.uuid] = StoredChat(record, item.new_path, org_uuid, False)
        self.reporter.chat_saved(item.uuid, one_line(item.name) or "(untitled)", "renamed")
        return True

    async def _fetch_chat(
        self, item: Fetch, report: AccountReport, gone: list[Move]
    ) -> dict[str, Any] | None:
        """The chat, or None when it failed (reported) or is gone (then it goes to `gone`)."""
        org_uuid = uuid_of(item.org_path.rsplit("/", 1)[-1])
        assert org_uuid is not None
        try:
            return await self.client.get_chat(org_uuid, item.uuid)
        except Gone:
            if item.old_path is not None and item.reason != "restored":
                name = self.stored[item.uuid].record.name
                target = (
                    None
                    if self.settings.prune_deleted
                    else chat_path(item.org_path, name, item.uuid, deleted=True)
                )
                gone.append(Move(item.uuid, item.old_path, target))
        except ApiError as exc:
            report.failures.append(f"chat {item.uuid}: {exc}")
        return None

    async def _store_chat(
        self, item: Fetch, chat: dict[str, Any], report: AccountReport, extras: Extras
    ) -> None:
        """Write the chat (and store it for the commit), then start its extras."""
        record = ChatRecord.from_json({**chat, "uuid": item.uuid})
        path = chat_path(item.org_path, record.name, item.uuid)
        org_uuid = uuid_of(item.org_path.rsplit("/", 1)[-1])
        assert org_uuid is not None
        stored = StoredChat(record, path, org_uuid, False)
        # written, compressed into the pending pack and given its local extras in a thread, so
        # neither a slow disk nor compression holds up reading other responses
        saved: tuple[os.stat_result, ChatWork | None] | None = None
        title = one_line(record.name) or "(untitled)"
        with reported(report.failures, f"chat {item.uuid} ({title})"):
            saved = await asyncio.to_thread(
                self._save_chat, item.uuid, stored, chat, extras, item.old_path is None
            )
        if saved is None:  # reported: the stored copy (if any) stays, the next sync tries again
            return
        st, work = saved
        self.cache.record(path, st, record)
        if item.old_path is not None and item.old_path != path:
            move(self.root, item.old_path, None)
        report.fetched += 1
        self.reporter.chat_saved(item.uuid, title, item.reason)
        self.written[item.uuid] = stored
        extras.chat_stored(work)

    def _save_chat(
        self, uuid: str, stored: StoredChat, chat: dict[str, Any], extras: Extras, new: bool
    ) -> tuple[os.stat_result, ChatWork | None]:
        sha = self.archive.write_file(self.root / stored.path, json_bytes(chat))
        if new and sha is not None:
            self.new_chats[sha] = NewChat.of(chat)
        st = os.lstat(self.root / stored.path)
        return st, extras.local_pass(uuid, stored, chat)

    def _commit(self, account: dict[str, Any], account_uuid: str, report: AccountReport) -> None:
        try:
            changes = [c for c in self.archive.changes() if _belongs_to(c, account_uuid)]
            if not changes:
                return
            start_flush_to_disk()  # what was written goes to disk while the commit is made
            steps, summary = plan_commits(changes, self.archive.read_blob, self.new_chats)
            try:
                commit = self.archive.commit(steps, author=_author(account))
            except CommittedButFailed as exc:  # the backup is safe: go on with other accounts
                head = self.archive.head()
                assert head is not None
                commit, report.after_commit = head, str(exc)
        except OSError as exc:
            raise archive_error(exc, self.archive.git_dir) from exc
        report.commit = commit.decode()
        report.summary = summary


def refuse_linked_folders(root: Path, account_uuid: str) -> None:
    """Stop before anything is written if a folder of ours is a symbolic link (the user moved
    it elsewhere): the account's folder, an organization's, or chats/, chat-files/, files/,
    ... inside one. Writing through it would put files outside the archive, and the commit,
    which sees no files there, would drop every chat from HEAD."""
    for account in _entries(root):
        if uuid_of(account.name) != account_uuid:
            continue
        if account.is_symlink():
            raise OutsideArchive(symlink_message(root, Path(account.path)))
        for org in _entries(Path(account.path)):
            if uuid_of(org.name) is None:
                continue
            if org.is_symlink():
                raise OutsideArchive(symlink_message(root, Path(org.path)))
            for inner in _entries(Path(org.path)):
                if inner.name in OUR_FOLDERS and inner.is_symlink():
                    raise OutsideArchive(symlink_message(root, Path(inner.path)))


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:
        return []


def _belongs_to(change: FileChange, account_uuid: str) -> bool:
    """A change is this account's unless it lies in another account's folder."""
    top = change.path.split("/", 1)[0] if "/" in change.path else None
    owner = uuid_of(top) if top else None
    return owner is None or owner == account_uuid


def _author(account: dict[str, Any]) -> str:
    email = one_line(account.get("email_address"), 200).replace("<", "").replace(">", "")
    name = one_line(account.get("full_name") or account.get("display_name") or email, 200)
    name = name.replace("<", "").replace(">", "") or "claude.ai user"
    return f"{name} <{email or 'unknown'}>"


__all__ = ["AccountReport", "ClaudeBackupError", "SyncReport", "SyncSettings", "run"]
