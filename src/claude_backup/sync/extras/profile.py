"""Profile preferences: what Claude is told about you in every chat ("What personal
preferences should Claude consider in responses?"), your work function and locale.

    <account>/profile/account_profile.json   `GET /api/account_profile` as it answered
    <account>/profile/preferences.md         the same, to read: preferences, work, locale

The endpoint belongs to the account, not an organization: asked once per sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claude_backup.model.layout import PROFILE, PROFILE_JSON, PROFILE_MD
from claude_backup.sync.extras.context import ExtrasContext
from claude_backup.sync.extras.feature import fetch_feature, text, write_json, write_text

FEATURE = "profile"
FOLDER = PROFILE
RAW = PROFILE_JSON
READABLE = PROFILE_MD


async def sync_profile(ctx: ExtrasContext) -> None:
    answered, data = await fetch_feature(ctx, FEATURE, "/account_profile")
    if not answered:
        return
    folder = f"{ctx.account_path}/{FOLDER}"
    write_json(ctx, f"{folder}/{RAW}", data)
    if not isinstance(data, Mapping):
        ctx.report.odd(FEATURE, "/account_profile did not answer a JSON object; stored as is")
        return
    write_text(ctx, f"{folder}/{READABLE}", profile_markdown(data))


def profile_markdown(data: Mapping[str, Any]) -> str:
    """The profile as a page: the preferences verbatim, then the other fields."""
    lines = ["# Profile preferences", ""]
    preferences = text(data.get("conversation_preferences")).strip()
    lines += [preferences or "_(none set)_", ""]
    work = text(data.get("work_function")).strip()
    locale = text(data.get("locale")).strip()
    topics = data.get("onboarding_topics")
    if work:
        lines.append(f"- Work function: {work}")
    if locale:
        lines.append(f"- Locale: {locale}")
    if isinstance(topics, list) and topics:
        lines.append(f"- Topics: {', '.join(str(t) for t in topics)}")
    return "\n".join(lines).rstrip() + "\n"
