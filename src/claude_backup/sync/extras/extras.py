"""Everything in an account besides chat text: uploads, sandbox outputs, projects, memory and
artifacts. One entry point, `Extras`, which the sync starts before fetching chats and finishes
after storing them.

Order of work: while the chats are fetched, each changed chat's local pass (artifacts rebuilt,
uploads collected) and then its network pass (its uploads, its sandbox, its index), the new
entries of `account/files`, projects and memory; once the chats are stored, the uploads only
that list names. Every request goes through the sync's `ClaudeClient` (its politeness and
retries). A failed item is reported and tried again next sync; a file that is gone is
recorded, never retried on every run, and never fails the sync.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any

from claude_backup.model.layout import org_dir
from claude_backup.model.records import StoredChat
from claude_backup.sync.extras.catalog import sync_catalog
from claude_backup.sync.extras.chatfiles import (
    ChatWork,
    LocalPass,
    finish_locally,
    needs_network,
    network_pass,
    remember_done,
    wanted_uploads,
)
from claude_backup.sync.extras.code_sessions import sync_code_sessions
from claude_backup.sync.extras.context import ExtrasContext, ExtrasReport, reported
from claude_backup.sync.extras.memory import sync_memory, sync_memory_settings
from claude_backup.sync.extras.profile import sync_profile
from claude_backup.sync.extras.projects import sync_projects
from claude_backup.sync.extras.skills import sync_skills
from claude_backup.sync.extras.styles import sync_styles
from claude_backup.sync.extras.uploads import Uploads, Wanted, lost_uploads, new_account_files
from claude_backup.sync.tasks import Tasks


class Extras:
    """One account's extras through a sync, started before the chats are fetched so that they
    keep the connections busy beside the chat requests: each chat's local pass runs as the
    sync stores it (`local_pass`, in the storing thread), then its network pass (uploads,
    sandbox, index.json) starts (`chat_stored`); the uploads listing (a cursor, one page after
    the other), projects and memory run from the start. `finish` does the rest once the chats
    are stored; `close` stops what still runs if the sync fails before."""

    def __init__(self, ctx: ExtrasContext) -> None:
        self.ctx = ctx
        self.local = LocalPass(
            ctx.root, ctx.account_uuid, ctx.settings.files, ctx.write, ctx.failures
        )
        self.orgs = [(str(org["uuid"]), org_dir(ctx.account_path, dict(org))) for org in ctx.orgs]
        self.org_names = {str(org["uuid"]): str(org.get("name") or org["uuid"]) for org in ctx.orgs}
        self._tasks = Tasks()
        self._uploads = Uploads(ctx, self._tasks)
        self._chat_slots = asyncio.Semaphore(ctx.workers)
        self._started: set[str] = set()
        self._listing: asyncio.Future[list[Wanted]] | None = None

    def start(self) -> None:
        if self.ctx.settings.files:
            self._listing = asyncio.ensure_future(self._list_account_files())
        settings, ctx = self.ctx.settings, self.ctx

        def add(what: str, work: Awaitable[None]) -> None:
            self._tasks.add(self._isolated(what, work))

        if settings.profile:
            add("profile", sync_profile(ctx))
        for org_uuid, org_path in self.orgs:
            if settings.projects:  # --no-projects: neither projects nor memory
                self._tasks.add(self._projects_and_memory(org_uuid, org_path))
            if settings.profile:
                add(f"styles of organization {org_uuid}", sync_styles(ctx, org_uuid, org_path))
            if settings.skills:
                add(f"skills of organization {org_uuid}", sync_skills(ctx, org_uuid, org_path))
            if settings.catalog:
                add(f"artifacts of organization {org_uuid}", sync_catalog(ctx, org_uuid, org_path))
            if settings.code:
                what = f"Claude Code sessions of organization {org_uuid}"
                add(what, sync_code_sessions(ctx, org_uuid, org_path))

    async def _isolated(self, what: str, work: Awaitable[None]) -> None:
        """One kind of item: if it cannot be stored, that is reported and the rest goes on."""
        with reported(self.ctx.failures, what):
            await work

    async def _projects_and_memory(self, org_uuid: str, org_path: str) -> None:
        with reported(self.ctx.failures, f"projects of organization {org_uuid}"):
            await sync_projects(self.ctx, org_uuid, org_path)
        with reported(self.ctx.failures, f"memory of organization {org_uuid}"):
            await sync_memory(self.ctx, org_uuid, org_path)
            await sync_memory_settings(self.ctx, org_uuid, org_path, self.org_names[org_uuid])

    async def _list_account_files(self) -> list[Wanted]:
        found: list[Wanted] = []
        for org_uuid, org_path in self.orgs:
            found += lost_uploads(self.ctx.root, org_uuid, org_path)
            found += await new_account_files(self.ctx, org_uuid, org_path)
        return found

    def local_pass(self, uuid: str, chat: StoredChat, data: Mapping[str, Any]) -> ChatWork | None:
        """A chat just written: its artifacts and folder, and its index too when it has nothing
        to fetch; the work left for `chat_stored`. Safe from worker threads."""
        work = self.local.chat(uuid, chat, data)
        if work is None or needs_network(self.ctx, work):
            return work
        finish_locally(self.ctx, work)
        self._started.add(uuid)  # set.add holds the GIL: safe from threads
        return None

    def chat_stored(self, work: ChatWork | None) -> None:
        """Start the network pass of a chat whose local pass is done. Raises the first failure
        of the extras so far (a full disk, say), so the sync stops fetching."""
        self._tasks.raise_failure()
        if work is not None:
            self._begin(work)

    def _begin(self, work: ChatWork) -> None:
        uuid = work.record["uuid"]
        if uuid in self._started:
            return
        self._started.add(uuid)
        # the chat's uploads are asked for now, so chats come before the account's file list
        wanted = wanted_uploads([work]) if self.ctx.settings.files else []
        uploads = [self._uploads.want(item) for item in wanted]
        self._tasks.add(self._network_pass(work, asyncio.gather(*uploads)))

    async def _network_pass(self, work: ChatWork, uploads: Awaitable[Any]) -> None:
        await uploads  # without a slot: a chat waiting for its uploads holds nothing
        async with self._chat_slots:
            with reported(self.ctx.failures, f"files of chat {work.record['uuid']}"):
                await network_pass(self.ctx, work)

    async def finish(self, chats: Mapping[str, StoredChat]) -> ExtrasReport:
        """`chats`: the account's stored chats where they are now."""
        ctx = self.ctx
        ctx.chats = chats
        work = self.local.complete(chats)
        ctx.report.artifacts += self.local.artifacts
        for item in work:
            self._begin(item)
        if self._listing is not None:
            for wanted in await self._listing:
                self._uploads.want(wanted)
        await self._tasks.wait()
        remember_done(ctx, work, self.local.cache)
        ctx.state.save()
        return ctx.report

    async def close(self) -> None:
        if self._listing is not None and not self._listing.done():
            self._listing.cancel()
            await asyncio.gather(self._listing, return_exceptions=True)
        await self._tasks.cancel()


__all__ = ["ChatWork", "Extras", "ExtrasContext", "ExtrasReport", "LocalPass"]
