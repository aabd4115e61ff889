"""Projects: a folder per project with its JSON, instructions, knowledge docs, files and memory.

    projects/<name>-<uuid>/project.json          the project as the API describes it
    projects/<name>-<uuid>/instructions.md       its instructions (`prompt_template`)
    projects/<name>-<uuid>/docs/<file name>      each knowledge doc's text; docs.json lists them
    projects/<name>-<uuid>/files.json            binary project files, linked to ../../files/
    projects/<name>-<uuid>/conversations.json    which chats belong to it
    projects/<name>-<uuid>/memory.md, .json      Claude's memory within the project

The detail and chat list are fetched again when the project's `updated_at` (or name) changes;
docs, files and memory on every sync, because editing them may not touch `updated_at`. A
renamed project's folder moves; a deleted one moves to `deleted-projects/` (or leaves the tree
with --prune-deleted: history keeps it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claude_backup.archive.files import move
from claude_backup.model.canonical import json_bytes
from claude_backup.model.layout import DELETED_PROJECTS, PROJECTS
from claude_backup.model.naming import is_uuid
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
        await _sync_project(ctx, org_uuid, org_path, folder, item)

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
    ctx: ExtrasContext, org_uuid: str, org_path: str, folder: str, item: Mapping[str, Any]
) -> None:
    uuid = str(item["uuid"])
    base = f"/organizations/{org_uuid}/projects/{uuid}"
    what = f"project {text_of(item.get('name')) or uuid}"
    stored = read_json(ctx.root / folder / PROJECT_JSON)
    fresh = isinstance(stored, dict) and all(
        stored.get(k) == item.get(k) for k in ("updated_at", "name")
    )
    if not fresh:
        ok, detail = await optional_json(ctx, base, None, what)
        _, chats = await optional_json(ctx, f"{base}/conversations", None, f"chats of {what}")
        if not ok or not isinstance(detail, dict):
            return  # failed, or deleted since the listing
        if isinstance(chats, list):
            ctx.write(ctx.root / folder / "conversations.json", json_bytes(_chat_list(chats)))
        instructions = text_of(detail.get("prompt_template")).encode("utf-8", "replace")
        ctx.write(ctx.root / folder / INSTRUCTIONS, instructions)
        ctx.write(ctx.root / folder / PROJECT_JSON, json_bytes(detail))
    await _sync_docs(ctx, base, folder, what)
    if ctx.settings.files:
        await _sync_files(ctx, org_uuid, org_path, base, folder, what)
    await sync_memory(ctx, org_uuid, folder, uuid)
    ctx.report.projects += 1


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
        if file_name.lower() in taken:
            stem, dot, ext = file_name.rpartition(".")
            file_name = f"{stem}-{doc['uuid']}.{ext}" if dot else f"{file_name}-{doc['uuid']}"
        taken.add(file_name.lower())
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
