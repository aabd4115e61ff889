"""Everything in an account besides chat text: uploads, sandbox outputs, projects, memory and
artifacts. One entry point, `Extras`, which the sync starts before fetching chats and finishes
after storing them.

Order of work: while the chats are fetched, the local pass over each changed chat (artifacts
rebuilt, uploads collected) and the new entries of `account/files`; then the downloads, each
changed chat's sandbox and index, then projects and memory. Every request goes through the
sync's `ClaudeClient` (its politeness and retries). A failed item is reported and tried again
next sync; a file that is gone is recorded, never retried on every run, and never fails the
sync.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from ..layout import org_dir
from ..plan import StoredChat
from .chatfiles import LocalPass, finish, wanted_uploads
from .context import ExtrasContext, ExtrasReport
from .memory import sync_memory
from .projects import sync_projects
from .uploads import Wanted, download_all, new_account_files


class Extras:
    """One account's extras through a sync. Started before the chats are fetched: the local
    pass takes each chat as the sync stores it, and the uploads listing (a cursor, one page
    after the other) runs beside the chat requests. `finish` does the rest once the chats are
    stored; `close` stops what is still running if the sync fails before."""

    def __init__(self, ctx: ExtrasContext) -> None:
        self.ctx = ctx
        self.local = LocalPass(ctx.root, ctx.account_uuid, ctx.settings.files)
        self.orgs = [(str(org["uuid"]), org_dir(ctx.account_path, dict(org))) for org in ctx.orgs]
        self._listing: asyncio.Future[list[Wanted]] | None = None

    def start(self) -> None:
        if self.ctx.settings.files:
            self._listing = asyncio.ensure_future(self._list_account_files())

    async def _list_account_files(self) -> list[Wanted]:
        found: list[Wanted] = []
        for org_uuid, org_path in self.orgs:
            found += await new_account_files(self.ctx, org_uuid, org_path)
        return found

    async def finish(self, chats: Mapping[str, StoredChat]) -> ExtrasReport:
        """`chats`: the account's stored chats where they are now."""
        ctx = self.ctx
        ctx.chats = chats
        work = self.local.complete(chats)
        ctx.report.artifacts += self.local.artifacts
        if self._listing is not None:
            listed = await self._listing
            await download_all(ctx, wanted_uploads(work) + listed)
        await finish(ctx, work, self.local.cache)
        if ctx.settings.projects:  # --no-projects: neither projects nor memory
            for org_uuid, org_path in self.orgs:
                await sync_projects(ctx, org_uuid, org_path)
                await sync_memory(ctx, org_uuid, org_path)
        return ctx.report

    async def close(self) -> None:
        if self._listing is not None and not self._listing.done():
            self._listing.cancel()
            await asyncio.gather(self._listing, return_exceptions=True)


__all__ = ["Extras", "ExtrasContext", "ExtrasReport", "LocalPass"]
