"""The artifact catalog: which of your artifacts exist, which are published, and where.

    <org>/artifact-catalog/user_artifacts.json        `GET …/user_artifacts` (every page,
                                                      `artifacts` joined in order)
    <org>/artifact-catalog/published_artifacts.json   `GET …/published_artifacts` as answered
    <org>/artifact-catalog/catalog.md                 both as a table: title, type, chat,
                                                      visibility, public page

The API serves no artifact content: the content stays rebuilt from each chat, in
`chat-files/<chat>/artifacts/`. An artifact remixed from someone else's page may have no chat
of yours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claude_backup.model.layout import CATALOG
from claude_backup.sync.extras.context import ExtrasContext
from claude_backup.sync.extras.feature import fetch_feature, text, write_json, write_text

FOLDER = CATALOG
PAGE = 50
MAX_PAGES = 2000
PUBLIC_PAGE = "https://claude.ai/public/artifacts/"


async def sync_catalog(ctx: ExtrasContext, org_uuid: str, org_path: str) -> None:
    base = f"/organizations/{org_uuid}"
    folder = f"{org_path}/{FOLDER}"
    artifacts = await _user_artifacts(ctx, f"{base}/user_artifacts", folder)
    if artifacts is not None:
        write_json(ctx, f"{folder}/user_artifacts.json", {"artifacts": artifacts})
    answered, published = await fetch_feature(
        ctx, "published artifacts", f"{base}/published_artifacts"
    )
    if answered:
        write_json(ctx, f"{folder}/published_artifacts.json", published)
        if not isinstance(published, list):
            ctx.report.odd("published artifacts", "not a list; stored as is")
    if artifacts is not None or answered:
        pages = published if isinstance(published, list) else []
        write_text(ctx, f"{folder}/catalog.md", catalog_markdown(artifacts or [], pages))


async def _user_artifacts(ctx: ExtrasContext, path: str, folder: str) -> list[Any] | None:
    """Every item of the paged catalog, or None when it is not available, failed or came in
    a shape we do not know (then it is stored as it came)."""
    items: list[Any] = []
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        params = {"limit": str(PAGE), "offset": str(len(items))}
        answered, page = await fetch_feature(ctx, "artifact catalog", path, params)
        if not answered:
            return None
        found = page.get("artifacts") if isinstance(page, Mapping) else None
        if not isinstance(found, list):
            ctx.report.odd("artifact catalog", "user_artifacts has no artifacts list")
            write_json(ctx, f"{folder}/user_artifacts.json", page)
            return None
        new = [a for a in found if _key(a) not in seen]
        seen.update(_key(a) for a in new)
        items += new
        if not new or not page.get("next_cursor"):
            break
    return items


def _key(item: Any) -> str:
    return text(item.get("uuid")) if isinstance(item, Mapping) else repr(item)


def catalog_markdown(artifacts: list[Any], published: list[Any]) -> str:
    lines = ["# Artifact catalog", ""]
    rows = [a for a in artifacts if isinstance(a, Mapping)]
    if rows:
        lines += ["| Title | Type | Chat | Visibility | Public page |", "|---|---|---|---|---|"]
        for item in rows:
            public = text(item.get("latest_published_artifact_uuid"))
            lines.append(
                "| "
                + " | ".join(
                    _cell(v)
                    for v in (
                        item.get("title") or item.get("artifact_identifier"),
                        item.get("artifact_type"),
                        _chat(item),
                        item.get("visibility"),
                        f"{PUBLIC_PAGE}{public}" if public else "",
                    )
                )
                + " |"
            )
        lines.append("")
    pages = [p for p in published if isinstance(p, Mapping)]
    if pages:
        lines += ["## Published pages", ""]
        for page in pages:
            uuid = text(page.get("published_artifact_uuid"))
            state = " (deleted)" if page.get("deleted") else ""
            title = _cell(page.get("title") or page.get("artifact_identifier"))
            lines.append(f"- {title}{state}: {PUBLIC_PAGE}{uuid} (chat {_cell(_chat(page))})")
        lines.append("")
    if not rows and not pages:
        lines += ["_(no artifacts listed)_", ""]
    return "\n".join(lines)


def _chat(item: Mapping[str, Any]) -> str:
    name = text(item.get("chat_conversation_name"))
    uuid = text(item.get("chat_conversation_uuid"))
    return f"{name} ({uuid})" if name and uuid else name or uuid


def _cell(value: object) -> str:
    return " ".join(str(value if value is not None else "").split()).replace("|", "\\|")
