"""Projects: a folder per project with its JSON, instructions, knowledge docs, files and memory.

    projects/<name>-<uuid>/project.json          the project as the API describes it
    projects/<name>-<uuid>/instructions.md       its instructions (`prompt_template`)
    projects/<name>-<uuid>/docs/<file name>      each knowledge doc's text; docs.json lists them
    projects/<name>-<uuid>/files.json            binary project files, linked to ../../files/
    projects/<name>-<uuid>/conversations.json    which chats belong to it
    projects/<name>-<uuid>/memory.md, .json      Claude's memory within the project

The project listing is read every sync. A project whose listing entry changed (a rename, new
instructions: its `updated_at` moves) is read whole: detail, chats, docs, files, memory. The
rest costs nothing, except in the full pass, at most once per `full_pass_hours` (a day
by default) per organization, because a knowledge doc's edit, a chat added to the project or
its memory do not move `updated_at`: then each project's detail, docs, chats and memory are
read, the docs' content decides which files change, and the files are read when
`files_count` changed (a project file never changes under its uuid). A renamed project's
folder moves; a deleted one moves to `deleted-projects/` (or leaves the tree with
--prune-deleted: history keeps it).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from claude_backup.archive.files import move
from claude_backup.model.canonical import json_bytes
from claude_backup.model.layout import DELETED_PROJECTS, PROJECTS
from claude_backup.model.naming import is_uuid, name_key
from claude_backup.sync.extras.context import ExtrasContext, read_json, text_of
from claude_backup.sync.extras.memory import optional_json, sync_memory
from claude_backup.sync.extras.paths import (
    files_under,
    find_folders,
    place_folder,
    project_folder,
    remove_folder,
    safe_file_name,
)
from claude_backup.sync.extras.uploads import Wanted, download_all, link
from claude_backup.sync.tasks import pool

PROJECT_JSON = "project.json"
INSTRUCTIONS = "instructions.md"
DOCS = "docs"


async def sync_projects(ctx: ExtrasContext, org_uuid: str, org_path: str) -> None:
    failures = len(ctx.failures)
    full = full_pass_due(ctx, org_uuid)
    await _sync_projects(ctx, org_uuid, org_path, full)
    if full and len(ctx.failures) == failures:
        ctx.state.full_pass_done(org_uuid)
        ctx.report.project_full_pass = True


def full_pass_due(ctx: ExtrasContext, org_uuid: str) -> bool:
    hours = ctx.settings.full_pass_hours
    return time.time() - ctx.state.last_full_pass(org_uuid) >= hours * 3600


async def _sync_projects(ctx: ExtrasContext, org_uuid: str, org_path: str, full: bool) -> None:
    path = f"/organizations/{org_uuid}/projects"
    answered, items = await optional_json(ctx, path, None, f"projects of {org_uuid}")
    if not answered or items is None:
        return  # failed (recorded) or not available: keep what we have
    if not isinstance(items, list):
        ctx.failures.append(f"{path}: the project list has an unknown shape")
        return
    live = {str(p["uuid"]): p for p in items if isinstance(p, Mapping) and is_uuid(p.get("uuid"))}
    current = find_folders(ctx.root / org_path / PROJECTS)
    deleted = find_folders(ctx.root / org_path / DELETED_PROJECTS)

    async def one(item: Mapping[str, Any]) -> None:
        uuid = str(item["uuid"])
        old = (
            f"{org_path}/{PROJECTS}/{current[uuid]}"
            if uuid in current
            else f"{org_path}/{DELETED_PROJECTS}/{deleted[uuid]}"
            if uuid in deleted
            else None
        )
        folder = project_folder(org_path, item.get("name"), uuid)
        place_folder(ctx.root, old, folder)
        await _sync_project(ctx, org_uuid, org_path, folder, item, full)

    await pool(list(live.values()), one, ctx.workers)
    for uuid, name in current.items():
        if uuid in live:
            continue
        old = f"{org_path}/{PROJECTS}/{name}"
        if ctx.settings.prune_deleted:
            remove_folder(ctx.root, old)
        else:
            place_folder(ctx.root, old, f"{org_path}/{DELETED_PROJECTS}/{name}")


async def _sync_project(
    ctx: ExtrasContext,
    org_uuid: str,
    org_path: str,
    folder: str,
    item: Mapping[str, Any],
    full: bool,
) -> None:
    uuid = str(item["uuid"])
    base = f"/organizations/{org_uuid}/projects/{uuid}"
    what = f"project {text_of(item.get('name')) or uuid}"
    stored = read_json(ctx.root / folder / PROJECT_JSON)
    changed = not listed_same(stored, item) or _lost(ctx.root / folder)
    if not changed and not full:
        return  # the listing entry says nothing moved: no request until the full pass
    ok, detail = await optional_json(ctx, base, None, what)
    if not ok or not isinstance(detail, dict):
        return  # failed, or deleted since the listing
    _, chats = await optional_json(ctx, f"{base}/conversations", None, f"chats of {what}")
    if isinstance(chats, list):
        ctx.write(ctx.root / folder / "conversations.json", json_bytes(_chat_list(chats)))
    instructions = text_of(detail.get("prompt_template")).encode("utf-8", "replace")
    ctx.write(ctx.root / folder / INSTRUCTIONS, instructions)
    await _sync_docs(ctx, base, folder, what)
    before = stored if isinstance(stored, dict) else {}
    files_moved = changed or before.get("files_count") != detail.get("files_count")
    if ctx.settings.files and (files_moved or not (ctx.root / folder / "files.json").exists()):
        await _sync_files(ctx, org_uuid, org_path, base, folder, what)
    await sync_memory(ctx, org_uuid, folder, uuid)
    # written last: a sync that stops before this point finds the entry changed and goes again
    ctx.write(ctx.root / folder / PROJECT_JSON, json_bytes(detail))
    ctx.report.projects += 1


def _lost(folder: Path) -> bool:
    """Is a file of the project deleted here (its instructions, a doc its docs.json lists)?
    Then it is fetched again now, not at the next full pass."""
    if not (folder / INSTRUCTIONS).is_file():
        return True
    docs = read_json(folder / "docs.json")
    for entry in docs if isinstance(docs, list) else []:
        name = entry.get("file") if isinstance(entry, dict) else None
        if isinstance(name, str) and not (folder / name).is_file():
            return True
    return False


def listed_same(stored: object, item: Mapping[str, Any]) -> bool:
    """Whether the stored detail agrees with the listing entry on every field both have (the
    detail holds more; `updated_at` must be among them)."""
    if not isinstance(stored, dict) or "updated_at" not in item:
        return False
    return all(stored.get(k) == v for k, v in item.items() if k in stored or k == "updated_at")


def _chat_list(chats: list[Any]) -> list[dict[str, Any]]:
    found = [
        {"uuid": c["uuid"], "name": text_of(c.get("name"))}
        for c in chats
        if isinstance(c, Mapping) and is_uuid(c.get("uuid"))
    ]
    return sorted(found, key=lambda c: c["uuid"])


async def _sync_docs(ctx: ExtrasContext, base: str, folder: str, what: str) -> None:
    ok, docs = await optional_json(ctx, f"{base}/docs", None, f"docs of {what}")
    if not ok or not isinstance(docs, list):
        return
    entries: list[dict[str, Any]] = []
    taken: set[str] = set()
    items = [d for d in docs if isinstance(d, Mapping) and is_uuid(d.get("uuid"))]
    items.sort(key=lambda d: (text_of(d.get("created_at")), str(d["uuid"])))
    for doc in items:
        content = doc.get("content")
        if not isinstance(content, str):
            _, full = await optional_json(ctx, f"{base}/docs/{doc['uuid']}", None, what)
            content = full.get("content") if isinstance(full, dict) else None
            if not isinstance(content, str):
                continue
        name = doc.get("file_name") or doc.get("filename")
        file_name = safe_file_name(name, "text/plain", "document")
        if name_key(file_name) in taken:  # one file on macOS or Windows: by case or NFC/NFD
            stem, dot, ext = file_name.rpartition(".")
            file_name = f"{stem}-{doc['uuid']}.{ext}" if dot else f"{file_name}-{doc['uuid']}"
        taken.add(name_key(file_name))
        ctx.write(ctx.root / folder / DOCS / file_name, content.encode("utf-8", "replace"))
        meta = {k: v for k, v in doc.items() if k != "content"}
        entries.append({**meta, "file": f"{DOCS}/{file_name}"})
    wanted = {f"{folder}/{e['file']}" for e in entries}
    for stale in sorted(files_under(ctx.root, f"{folder}/{DOCS}") - wanted):
        move(ctx.root, stale, None)
    ctx.write(ctx.root / folder / "docs.json", json_bytes(entries))


async def _sync_files(
    ctx: ExtrasContext, org_uuid: str, org_path: str, base: str, folder: str, what: str
) -> None:
    ok, files = await optional_json(ctx, f"{base}/files", None, f"files of {what}")
    if not ok or not isinstance(files, list):
        return
    refs = [f for f in files if isinstance(f, Mapping) and is_uuid(f.get("file_uuid"))]
    await download_all(ctx, [Wanted(org_uuid, org_path, ref) for ref in refs])
    listing = [link(ctx.root, org_path, folder, ref)[0] for ref in refs]
    ctx.write(ctx.root / folder / "files.json", json_bytes(listing))
