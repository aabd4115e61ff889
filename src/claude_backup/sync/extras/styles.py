"""Custom styles: the writing styles you defined (their prompt is what Claude follows).

    <org>/styles/list_styles.json           `GET …/list_styles` as it answered (defaults too)
    <org>/styles/<name>-<key>.md            each custom style: its summary and prompt

Anthropic's default styles are kept in the raw answer only; a style deleted on claude.ai
leaves the tree (history keeps it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claude_backup.model.layout import STYLES, STYLES_JSON
from claude_backup.sync.extras.context import ExtrasContext
from claude_backup.sync.extras.feature import (
    fetch_listing,
    named,
    remove_others,
    text,
    write_text,
)

FEATURE = "styles"
FOLDER = STYLES
RAW = STYLES_JSON


async def sync_styles(ctx: ExtrasContext, org_uuid: str, org_path: str) -> None:
    folder = f"{org_path}/{FOLDER}"
    path = f"/organizations/{org_uuid}/list_styles"
    custom = await fetch_listing(ctx, FEATURE, path, f"{folder}/{RAW}", "customStyles")
    if custom is None:
        return
    keep = {f"{folder}/{RAW}"}
    for style in custom:
        if not isinstance(style, Mapping):
            continue
        key = text(style.get("uuid")) or text(style.get("key")) or text(style.get("name"))
        if not key:
            continue
        rel = f"{folder}/{named(style.get('name'), key)}.md"
        write_text(ctx, rel, style_markdown(style))
        keep.add(rel)
    remove_others(ctx, folder, keep)


def style_markdown(style: Mapping[str, Any]) -> str:
    name = text(style.get("name")).strip() or "(unnamed style)"
    lines = [f"# {name}", ""]
    summary = text(style.get("summary")).strip()
    if summary:
        lines += [f"_{summary}_", ""]
    lines.append(text(style.get("prompt")).strip() or "_(no prompt)_")
    return "\n".join(lines) + "\n"
