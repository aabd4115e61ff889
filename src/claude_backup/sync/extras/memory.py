"""Claude's memory of the user, org-wide and per project: Markdown to read, JSON as answered.

Both files are rewritten only when the memory changed, so `git log -p memory.md` shows how it
changed over time.
"""

from __future__ import annotations

from typing import Any

from claude_backup.errors import ApiError
from claude_backup.model.canonical import json_bytes
from claude_backup.model.layout import MEMORY_JSON, MEMORY_MD, MEMORY_SETTINGS
from claude_backup.read.memory_mode import is_melange
from claude_backup.sync.extras.context import ExtrasContext, text_of

UNAVAILABLE = frozenset({403, 404, 410})


def unavailable(exc: ApiError) -> bool:
    """An optional feature this account or organization does not have (404, 410, 403)."""
    return exc.status in UNAVAILABLE


async def optional_json(
    ctx: ExtrasContext, path: str, params: dict[str, str] | None, what: str
) -> tuple[bool, Any]:
    """(answered, data): data is None when the feature is not available; a failure is recorded
    and gives (False, None)."""
    try:
        return True, await ctx.client.get_json(path, params, gone_on_404=True)
    except ApiError as exc:
        if unavailable(exc):
            return True, None
        ctx.failures.append(f"{what}: {exc}")
        return False, None


def memory_markdown(data: dict[str, Any]) -> bytes:
    text = text_of(data.get("memory"))
    return (text if not text or text.endswith("\n") else text + "\n").encode("utf-8", "replace")


async def sync_memory(
    ctx: ExtrasContext, org_uuid: str, folder: str, project_uuid: str | None = None
) -> None:
    params = {"project_uuid": project_uuid} if project_uuid else None
    what = f"memory of project {project_uuid}" if project_uuid else f"memory of {org_uuid}"
    _, data = await optional_json(ctx, f"/organizations/{org_uuid}/memory", params, what)
    if data is None:
        return
    if not isinstance(data, dict):
        ctx.failures.append(f"{what}: the API did not return a JSON object")
        return
    ctx.write(ctx.root / folder / MEMORY_MD, memory_markdown(data))
    ctx.write(ctx.root / folder / MEMORY_JSON, json_bytes(data))


SETTINGS_JSON = MEMORY_SETTINGS


async def sync_memory_settings(
    ctx: ExtrasContext, org_uuid: str, org_path: str, org_name: str
) -> None:
    """`<org>/memory-settings.json`: the memory mode, as answered."""
    path = f"/organizations/{org_uuid}/memory/settings"
    try:
        data = await ctx.client.get_json(path, None, gone_on_404=True)
    except ApiError as exc:
        if unavailable(exc):
            ctx.report.skip("memory settings", f"{path} answered HTTP {exc.status}")
        else:
            ctx.failures.append(f"memory settings of {org_name}: {exc}")
        return
    ctx.write(ctx.root / org_path / SETTINGS_JSON, json_bytes(data))
    if not isinstance(data, dict):
        ctx.report.odd("memory settings", f"{path} did not answer a JSON object; stored as is")
    elif is_melange(data):
        ctx.report.melange.append(org_name)
