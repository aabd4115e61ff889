"""Uploaded files: each downloaded once, stored by its uuid beside a JSON of what we know of it.

Where the bytes come from, best first (§2.7): the document's own `document_asset.url`, the
file's `contents`, the chat's sandbox (blobs), and for images the lossy `preview` as a last
resort (then `lossy` says so). A file every source answers 404/410 for is recorded as
missing; it is tried again only when a chat using it changes. The metadata file is written
after the bytes, so it is the mark of a finished download, as long as the bytes it names are
there: an upload whose bytes were deleted (by the user, by a commit of theirs) is downloaded
again.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claude_backup.archive.files import is_relative_inside
from claude_backup.errors import ApiError, Gone
from claude_backup.model.canonical import json_bytes
from claude_backup.model.layout import FILES, SANDBOX_ROOT
from claude_backup.model.naming import is_uuid
from claude_backup.sync.extras.context import ExtrasContext, read_json, reported, text_of
from claude_backup.sync.extras.paths import safe_file_name, upload_file, upload_meta
from claude_backup.sync.tasks import Tasks

ACCOUNT_FILES_PAGE = 100
MAX_PAGES = 10_000
_API_PATH = re.compile(r"^/api(/[A-Za-z0-9._~\-/]+)$")


@dataclass(frozen=True)
class Wanted:
    """An upload to have: where it belongs, what the API said of it, which chat used it."""

    org_uuid: str
    org_path: str
    ref: Mapping[str, Any]
    chat_uuid: str | None = None
    retry_missing: bool = False

    @property
    def uuid(self) -> str:
        return str(self.ref.get("file_uuid"))


def file_refs(chat: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every upload a chat's messages reference (`files_v2`, else `files`), once, in order."""
    seen: dict[str, Mapping[str, Any]] = {}
    messages = chat.get("chat_messages")
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, Mapping):
            continue
        for key in ("files_v2", "files"):
            refs = message.get(key)
            for ref in refs if isinstance(refs, list) else []:
                if isinstance(ref, Mapping) and is_uuid(ref.get("file_uuid")):
                    seen.setdefault(str(ref["file_uuid"]), ref)
    return list(seen.values())


def metadata(root: Path, org_path: str, file_uuid: str) -> dict[str, Any] | None:
    data = read_json(root / upload_meta(org_path, file_uuid))
    return data if isinstance(data, dict) else None


def _stored_at(org_path: str, meta: Mapping[str, Any] | None) -> str | None:
    stored = meta.get("stored_as") if meta else None  # read back from the archive: untrusted
    return f"{org_path}/{FILES}/{stored}" if is_relative_inside(stored) else None


def link(
    root: Path, org_path: str, folder: str, ref: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """How a chat's or project's listing names an upload it uses (`file` relative to its
    `folder`); and whether we hold the upload or know it is gone."""
    uuid = str(ref.get("file_uuid"))
    meta = metadata(root, org_path, uuid)
    stored = _stored_at(org_path, meta)
    entry = {
        "file_uuid": uuid,
        "file_name": text_of(ref.get("file_name")),
        "file_kind": ref.get("file_kind"),
        "file": os.path.relpath(stored, folder).replace(os.sep, "/") if stored else None,
        "missing": bool(meta and meta.get("missing")),
    }
    return entry, meta is not None


def _api_path(url: object) -> str | None:
    """A URL the API gave us, as a path for our client; anything off the API host is refused
    (the session key must never be sent elsewhere)."""
    match = _API_PATH.match(url) if isinstance(url, str) else None
    if match is None or ".." in match.group(1).split("/"):
        return None
    return match.group(1)


def sources(item: Wanted) -> list[tuple[str, str, dict[str, str] | None]]:
    """(source name, API path, params) to try in order."""
    ref, org, uuid = item.ref, item.org_uuid, item.uuid
    contents = f"/organizations/{org}/files/{uuid}/contents"
    found: list[tuple[str, str, dict[str, str] | None]] = []
    asset = ref.get("document_asset")
    asset_path = _api_path(asset.get("url")) if isinstance(asset, Mapping) else None
    if asset_path is not None:
        found.append(("document_asset", asset_path, None))
    if asset_path != contents:
        found.append(("contents", contents, None))
    path = ref.get("path")
    if item.chat_uuid and isinstance(path, str) and path.startswith(SANDBOX_ROOT):
        wiggle = f"/organizations/{org}/conversations/{item.chat_uuid}/wiggle/download-file"
        found.append(("sandbox", wiggle, {"path": path}))
    if ref.get("file_kind") == "image":
        preview = _api_path(ref.get("preview_url")) or f"/{org}/files/{uuid}/preview"
        found.append(("preview", preview, None))
    return found


def _have(root: Path, org_path: str, meta: Mapping[str, Any]) -> bool:
    """Does the archive hold the upload `meta` describes (or know it is gone)?"""
    if meta.get("missing"):
        return True
    stored = _stored_at(org_path, meta)
    return stored is not None and (root / stored).is_file()


def lost_uploads(root: Path, org_uuid: str, org_path: str) -> list[Wanted]:
    """Uploads whose metadata is here but whose bytes are not: to download again (what the
    metadata kept of the API's reference says where from)."""
    folder = root / org_path / FILES
    try:
        names = {entry.name: entry.is_dir(follow_symlinks=False) for entry in os.scandir(folder)}
    except OSError:
        return []
    lost: list[Wanted] = []
    for name in sorted(names):
        uuid = name.removesuffix(".json")
        if uuid == name or not is_uuid(uuid):
            continue
        if names.get(uuid) and _holds_files(folder / uuid):
            continue  # its folder holds the bytes
        meta = metadata(root, org_path, uuid)
        ref = meta.get("api") if meta is not None else None
        if meta is not None and isinstance(ref, Mapping) and not _have(root, org_path, meta):
            lost.append(Wanted(org_uuid, org_path, {**ref, "file_uuid": uuid}))
    return lost


def _holds_files(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(entry.is_file(follow_symlinks=False) for entry in entries)
    except OSError:
        return False


async def download(ctx: ExtrasContext, item: Wanted) -> None:
    """Store one upload unless we have it (or know it is missing and may not retry)."""
    meta = metadata(ctx.root, item.org_path, item.uuid)
    retry = meta is not None and meta.get("missing") and item.retry_missing
    if meta is not None and not retry and _have(ctx.root, item.org_path, meta):
        return
    name = text_of(item.ref.get("file_name"))
    org = item.org_path
    tried: list[str] = []
    for source, path, params in sources(item):
        stored = _stored_name(item, source)
        try:
            got = await ctx.download(path, params, ctx.root / upload_file(org, item.uuid, stored))
        except Gone:
            tried.append(source)
            continue
        except ApiError as exc:
            ctx.failures.append(f"file {item.uuid} ({name or 'unnamed'}): {exc}")
            return
        record = _describe(item, source, f"{item.uuid}/{stored}")
        record.update(size=got.size, sha256=got.sha256)
        # the metadata last: the mark of a finished download
        await asyncio.to_thread(
            ctx.write, ctx.root / upload_meta(org, item.uuid), json_bytes(record)
        )
        ctx.report.files += 1
        if source == "preview":
            ctx.report.lossy += 1
        return
    if meta is None or not meta.get("missing"):
        ctx.report.missing += 1
        ctx.reporter.note(f"file {name or item.uuid} is gone on claude.ai; recorded as missing")
    record = _describe(item, None, None)
    record.update(missing=True, note=f"not found (404/410) at: {', '.join(tried)}")
    ctx.write(ctx.root / upload_meta(item.org_path, item.uuid), json_bytes(record))


def _stored_name(item: Wanted, source: str) -> str:
    mime = item.ref.get("mime_type") or item.ref.get("file_type")
    name = safe_file_name(item.ref.get("file_name"), mime, "file")
    return name.rsplit(".", 1)[0] + ".preview.webp" if source == "preview" else name


def _describe(item: Wanted, source: str | None, stored_as: str | None) -> dict[str, Any]:
    ref = item.ref
    return {
        "file_uuid": item.uuid,
        "file_name": ref.get("file_name"),
        "file_kind": ref.get("file_kind"),
        "created_at": ref.get("created_at"),
        "api": dict(ref),
        "stored_as": stored_as,
        "source": source,
        "lossy": source == "preview",
        "missing": False,
    }


async def download_all(ctx: ExtrasContext, wanted: list[Wanted]) -> None:
    """Download what is wanted, each file once (the first reference wins)."""
    tasks = Tasks()
    uploads = Uploads(ctx, tasks)
    for item in wanted:
        uploads.want(item)
    try:
        await tasks.wait()
    finally:
        await tasks.cancel()


class Uploads:
    """Each upload downloaded once in a sync, for whoever wants it first: a chat as soon as it
    is stored (its reference says most, and may add the sandbox as a source), the account's
    file list last. At most `ctx.workers` at a time, so few downloaded files wait to be
    written whatever the disk's speed."""

    def __init__(self, ctx: ExtrasContext, tasks: Tasks) -> None:
        self.ctx = ctx
        self.tasks = tasks
        self._slots = asyncio.Semaphore(ctx.workers)
        self._started: dict[tuple[str, str], asyncio.Future[None]] = {}

    def want(self, item: Wanted) -> asyncio.Future[None]:
        """The download of `item`'s file, started now unless it was already."""
        key = (item.org_uuid, item.uuid)
        started = self._started.get(key)
        if started is None:
            started = self._started[key] = self.tasks.add(self._download(item))
        return started

    async def _download(self, item: Wanted) -> None:
        async with self._slots:
            name = text_of(item.ref.get("file_name")) or "unnamed"
            with reported(self.ctx.failures, f"file {item.uuid} ({name})"):
                await download(self.ctx, item)


async def new_account_files(ctx: ExtrasContext, org_uuid: str, org_path: str) -> list[Wanted]:
    """Uploads `account/files` lists that we do not have. The list is newest first, so paging
    stops at the first page holding nothing new."""
    path = f"/organizations/{org_uuid}/account/files"
    found: list[Wanted] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        params = {"limit": str(ACCOUNT_FILES_PAGE)}
        if cursor:
            params["cursor"] = cursor
        try:
            data = await ctx.client.get_json(path, params, gone_on_404=True)
        except Gone:
            return found  # no such list for this organization
        except ApiError as exc:
            ctx.failures.append(f"uploaded files of organization {org_uuid}: {exc}")
            return found
        items = data.get("files") if isinstance(data, dict) else None
        if not isinstance(items, list):
            ctx.failures.append(f"{path}: the file list has an unknown shape")
            return found
        new = [
            Wanted(org_uuid, org_path, item)
            for item in items
            if isinstance(item, Mapping)
            and is_uuid(item.get("file_uuid"))
            and metadata(ctx.root, org_path, str(item["file_uuid"])) is None
        ]
        found.extend(new)
        cursor = data.get("next_cursor")
        if not new or not isinstance(cursor, str) or not cursor:
            break
    return found
