"""Files Claude wrote in a chat's code-execution sandbox ("wiggle"), stored under the chat.

Only chats whose JSON shows sandbox work are asked (a listing per chat would double the
requests of a first sync), and only when the chat changed since its sandbox was last listed.
Uploads the sandbox also shows (`/mnt/user-data/uploads/`) are the chat's uploads, stored
with the other uploads. A file we already have (same path, size and date) is not downloaded
again; files that disappear from the sandbox stay in the archive.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from claude_backup.archive.files import is_relative_inside
from claude_backup.errors import ApiError, Gone, UnstorableItem
from claude_backup.model.layout import SANDBOX, SANDBOX_ROOT
from claude_backup.model.naming import PathClaims
from claude_backup.sync.extras.context import ExtrasContext, text_of
from claude_backup.sync.extras.paths import files_under, sandbox_relative

SANDBOX_TOOLS = frozenset({"bash_tool", "create_file", "str_replace", "present_files"})
UPLOADS_PREFIX = SANDBOX_ROOT + "uploads/"


def uses_sandbox(chat: Mapping[str, Any]) -> bool:
    """Whether a chat ran code or wrote files (a sandbox tool call, or a sandbox file)."""
    messages = chat.get("chat_messages")
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, Mapping):
            continue
        blocks = message.get("content")
        for block in blocks if isinstance(blocks, list) else []:
            if (
                isinstance(block, Mapping)
                and block.get("type") == "tool_use"
                and block.get("name") in SANDBOX_TOOLS
            ):
                return True
        refs = message.get("files_v2")
        for ref in refs if isinstance(refs, list) else []:
            if isinstance(ref, Mapping) and text_of(ref.get("path")).startswith(SANDBOX_ROOT):
                return True
    return False


def _listing(data: Any) -> list[dict[str, Any]]:
    """files_metadata items; a bare `files` list of paths when there is no metadata."""
    if not isinstance(data, Mapping):
        return []
    meta = data.get("files_metadata")
    if isinstance(meta, list) and meta:
        return [dict(m) for m in meta if isinstance(m, Mapping) and isinstance(m.get("path"), str)]
    paths = data.get("files")
    return [{"path": p} for p in paths if isinstance(p, str)] if isinstance(paths, list) else []


async def fetch_sandbox(
    ctx: ExtrasContext,
    org_uuid: str,
    chat_uuid: str,
    folder: str,
    previous: Mapping[str, Any] | None,
    fetched_for: Mapping[str, Any],
) -> dict[str, Any] | None:
    """The chat's new sandbox record (index.json's "sandbox"), or None after a failure."""
    base = f"/organizations/{org_uuid}/conversations/{chat_uuid}/wiggle"
    old_files = previous.get("files") if isinstance(previous, Mapping) else None
    known = {
        f["path"]: f
        for f in (old_files if isinstance(old_files, list) else [])
        if isinstance(f, Mapping) and isinstance(f.get("path"), str)
    }
    names = _Names(ctx.root, folder, known)
    entries = {path: {**f, "stored_as": names.stored_as(f) or None} for path, f in known.items()}
    try:
        data = await ctx.client.get_json(f"{base}/list-files", {"prefix": ""}, gone_on_404=True)
    except Gone:
        return {"fetched_for": dict(fetched_for), "available": False, "files": [*entries.values()]}
    except ApiError as exc:
        ctx.failures.append(f"sandbox of chat {chat_uuid}: {exc}")
        return None
    for item in _listing(data):
        path = item["path"]
        if path.startswith(UPLOADS_PREFIX):
            continue
        before = known.get(path)
        same = before is not None and all(
            before.get(k) == item.get(k) for k in ("size", "created_at")
        )
        stored_as = names.stored_as(before)
        missing = before is None or before.get("missing")
        if same and stored_as and not missing and (ctx.root / folder / stored_as).is_file():
            continue
        stored_as = stored_as or names.new(path)
        entry = {**item, "stored_as": stored_as, "missing": False}
        try:
            await ctx.download(
                f"{base}/download-file", {"path": path}, ctx.root / folder / stored_as
            )
        except Gone:
            entry["missing"] = True
        except ApiError as exc:
            ctx.failures.append(f"sandbox file {path} of chat {chat_uuid}: {exc}")
            return None
        except UnstorableItem as exc:
            ctx.failures.append(f"sandbox file {path} of chat {chat_uuid}: {exc}")
            continue
        else:
            ctx.report.sandbox += 1
        entries[path] = entry
    files = [entries[p] for p in sorted(entries)]
    return {"fetched_for": dict(fetched_for), "available": True, "files": files}


class _Names:
    """Where each sandbox file is stored, below the chat's folder. What `index.json` says is
    untrusted (a path leading out of `sandbox/` is forgotten: the file is stored anew), and
    new names collide with nothing stored before on any file system (`PathClaims`)."""

    def __init__(self, root: Path, folder: str, known: Mapping[str, Mapping[str, Any]]) -> None:
        self.claims = PathClaims()
        self._valid: set[str] = set()
        for entry in known.values():
            stored = text_of(entry.get("stored_as"))
            if is_relative_inside(stored) and stored.startswith(f"{SANDBOX}/"):
                self._valid.add(stored)
                self.claims.add(stored)
        prefix = len(folder) + 1
        self._orphans = {rel[prefix:] for rel in files_under(root, f"{folder}/{SANDBOX}")}
        self._orphans -= self._valid
        for rel in self._orphans:
            self.claims.add(rel)

    def stored_as(self, entry: Mapping[str, Any] | None) -> str:
        """Where a file listed before is stored, if that is a valid place."""
        stored = text_of(entry.get("stored_as")) if entry else ""
        return stored if stored in self._valid else ""

    def new(self, path: str) -> str:
        natural = f"{SANDBOX}/{sandbox_relative(path)}"
        if natural in self._orphans:  # stored by a run whose index.json was lost
            self._orphans.discard(natural)
            return natural
        return self.claims.claim(natural)
