"""Shared by the account's smaller parts (profile, styles, skills, catalog, Claude Code):
an optional endpoint asked once, written raw, and the state kept between syncs.

An endpoint that answers 404, 410 or 403 is a feature this account does not have (not on its
plan, not rolled out, renamed): skipped quietly, noted once per sync for --debug. Any other
failure is reported and tried again next sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claude_backup.archive.files import move
from claude_backup.errors import ApiError, AuthError
from claude_backup.model.canonical import json_bytes
from claude_backup.model.naming import clean_title, entry_name, is_uuid
from claude_backup.sync.extras.context import ExtrasContext
from claude_backup.sync.extras.memory import unavailable
from claude_backup.sync.extras.paths import files_under


async def fetch_feature(
    ctx: ExtrasContext,
    feature: str,
    path: str,
    params: dict[str, str] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> tuple[bool, Any]:
    """(answered, data). Not answered: the feature is missing here (noted) or the request
    failed (recorded); then nothing stored should change."""
    try:
        if headers is not None:
            data = await ctx.client.get_json_outside_api(path, params, headers)
        else:
            data = await ctx.client.get_json(path, params, gone_on_404=True)
    except AuthError:
        if headers is None:
            raise  # the session key itself: the sync stops, as for chats
        # beside /api (Claude Code), a 401 may only mean this API wants other credentials
        ctx.report.skip(feature, f"{path.split('?')[0]} refused the session key (401)")
        return False, None
    except ApiError as exc:
        if unavailable(exc):
            ctx.report.skip(feature, f"{path.split('?')[0]} answered HTTP {exc.status}")
        else:
            ctx.failures.append(f"{feature}: {exc}")
        return False, None
    return True, data


async def fetch_listing(
    ctx: ExtrasContext, feature: str, path: str, raw: str, key: str
) -> list[Any] | None:
    """The list under `key` in what `path` answers, after the whole answer is written raw to
    `raw`. None: not answered (nothing stored should change), or the answer has no such list
    (stored as is, reported)."""
    answered, data = await fetch_feature(ctx, feature, path)
    if not answered:
        return None
    write_json(ctx, raw, data)
    listed = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(listed, list):
        ctx.report.odd(feature, f"{path.rsplit('/', 1)[-1]} has no {key} list; stored as is")
        return None
    return listed


def write_json(ctx: ExtrasContext, rel: str, data: Any) -> None:
    ctx.write(ctx.root / rel, json_bytes(data))


def write_text(ctx: ExtrasContext, rel: str, text: str) -> None:
    ending = "" if not text or text.endswith("\n") else "\n"
    ctx.write(ctx.root / rel, (text + ending).encode("utf-8", "replace"))


def remove_others(ctx: ExtrasContext, folder: str, keep: set[str]) -> None:
    """Remove the files below `folder` that are not in `keep` (paths relative to the root)."""
    for stale in sorted(files_under(ctx.root, folder) - keep):
        move(ctx.root, stale, None)


def named(title: object, ident: str) -> str:
    """`<safe title>-<id>`: one safe path component, unique by the id (a uuid or another id,
    such as a skill's or a Claude Code session's)."""
    if is_uuid(ident):
        return entry_name(title, ident, max_bytes=48)
    return f"{clean_title(title, 48)}-{clean_title(ident, 64)}"


def text(value: object) -> str:
    return value if isinstance(value, str) else ""
