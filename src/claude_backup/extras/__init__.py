"""Everything in an account besides chat text: uploads, sandbox outputs, projects, memory and
artifacts. One entry point, `sync_extras`, called by the sync after the chats are stored.

Order of work: the local pass over changed chats (artifacts rebuilt, uploads collected), new
entries of `account/files`, the downloads, each changed chat's sandbox and index, then projects
and memory. Every request goes through the sync's `ClaudeClient` (its politeness and retries).
A failed item is reported and tried again next sync; a file that is gone is recorded, never
retried on every run, and never fails the sync.
"""

from __future__ import annotations

from ..layout import org_dir
from .chatfiles import DoneCache, finish, prepare, wanted_uploads
from .context import ExtrasContext, ExtrasReport
from .memory import sync_memory
from .projects import sync_projects
from .uploads import download_all, new_account_files


async def sync_extras(ctx: ExtrasContext) -> ExtrasReport:
    cache = DoneCache.load(ctx.root, ctx.account_uuid)
    work = prepare(ctx, cache)
    orgs = [(str(org["uuid"]), org_dir(ctx.account_path, dict(org))) for org in ctx.orgs]
    if ctx.settings.files:
        wanted = wanted_uploads(work)
        for org_uuid, org_path in orgs:
            wanted += await new_account_files(ctx, org_uuid, org_path)
        await download_all(ctx, wanted)
    await finish(ctx, work, cache)
    if ctx.settings.projects:  # --no-projects: neither projects nor memory
        for org_uuid, org_path in orgs:
            await sync_projects(ctx, org_uuid, org_path)
            await sync_memory(ctx, org_uuid, org_path)
    return ctx.report


__all__ = ["ExtrasContext", "ExtrasReport", "sync_extras"]
