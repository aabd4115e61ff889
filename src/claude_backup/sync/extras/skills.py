"""Custom Skills: every skill you made, with every file, unpacked.

    <org>/skills/list-skills.json           `GET …/skills/list-skills` as it answered
    <org>/skills/<skill name>/SKILL.md ...  the files of each of your skills (`creator_type`
                                            "user"), from `download-dot-skill-file` (a zip)

A skill is downloaded when its list entry (its id changes with every edit, its `updated_at`)
differs from the one downloaded last, which `.git/claude-backup/extras.json` remembers. A skill
deleted on claude.ai leaves the tree (history keeps it). Anthropic's and plugins' skills are
not yours to lose: they stay in the raw list only.

The zip is untrusted: entries with absolute paths or `..` are skipped, names are made safe,
and a bundle is read up to `MAX_BYTES` unpacked (the service's own limit is under 30 MiB).
A download that is not a zip is stored as it came (`<name>.skill`) and reported.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from claude_backup.errors import ApiError
from claude_backup.model.layout import SKILLS, SKILLS_JSON, is_users_skill
from claude_backup.model.naming import clean_title, safe_relative
from claude_backup.sync.extras.context import ExtrasContext
from claude_backup.sync.extras.feature import fetch_listing, remove_others, text
from claude_backup.sync.extras.memory import unavailable
from claude_backup.sync.extras.paths import files_under, remove_folder, safe_file_name
from claude_backup.sync.tasks import pool

FEATURE = "skills"
FOLDER = SKILLS
RAW = SKILLS_JSON
MAX_BYTES = 100 * 1024 * 1024
MAX_FILES = 5000


def skill_folder_name(name: object, taken: set[str]) -> str:
    base = clean_title(name, 80)
    if base.lower() == RAW:
        base += "-skill"
    folder, n = base, 2
    while folder.lower() in taken:
        folder, n = f"{base}-{n}", n + 1
    taken.add(folder.lower())
    return folder


def fingerprint(skill: Mapping[str, Any]) -> str:
    return f"{text(skill.get('id'))}@{text(skill.get('updated_at'))}"


async def sync_skills(ctx: ExtrasContext, org_uuid: str, org_path: str) -> None:
    base = f"/organizations/{org_uuid}/skills"
    folder = f"{org_path}/{FOLDER}"
    skills = await fetch_listing(ctx, FEATURE, f"{base}/list-skills", f"{folder}/{RAW}", "skills")
    if skills is None:
        return
    mine = [s for s in skills if isinstance(s, Mapping) and is_users_skill(s) and text(s.get("id"))]
    mine.sort(key=lambda s: (text(s.get("name")), text(s.get("id"))))
    taken: set[str] = set()
    wanted = [(skill, f"{folder}/{skill_folder_name(skill.get('name'), taken)}") for skill in mine]
    done = ctx.state.skills_done(org_uuid)

    async def one(item: tuple[Mapping[str, Any], str]) -> None:
        skill, target = item
        mark, key = fingerprint(skill), target.rsplit("/", 1)[1]
        if done.get(key) == mark and files_under(ctx.root, target):
            return
        if await _download(ctx, base, skill, target):
            done[key] = mark
            ctx.state.dirty = True

    await pool(wanted, one, ctx.workers)
    kept = {target for _, target in wanted}
    for stale in sorted(subfolders(ctx.root / folder)):
        if f"{folder}/{stale}" not in kept:
            remove_folder(ctx.root, f"{folder}/{stale}")
    for stale in [k for k in done if f"{folder}/{k}" not in kept]:
        del done[stale]
        ctx.state.dirty = True


async def _download(ctx: ExtrasContext, base: str, skill: Mapping[str, Any], target: str) -> bool:
    name = text(skill.get("name")) or text(skill.get("id"))
    try:
        data = await ctx.get_bytes(
            f"{base}/download-dot-skill-file", {"skill_id": str(skill["id"])}
        )
    except ApiError as exc:
        if unavailable(exc):
            ctx.report.skip(f"{FEATURE} download", f"skill {name!r}: HTTP {exc.status}")
        else:
            ctx.failures.append(f"skill {name!r}: {exc}")
        return False
    try:
        files = unpack(data)
    except zipfile.BadZipFile:
        ctx.report.odd(FEATURE, f"skill {name!r} did not download as a zip; stored as is")
        rel = f"{target}/{safe_file_name(name, None, 'skill')}.skill"
        await ctx.save(ctx.root / rel, data)
        remove_others(ctx, target, {rel})
        return True
    keep: set[str] = set()
    for path, content in files.items():
        rel = f"{target}/{path}"
        await ctx.save(ctx.root / rel, content)
        keep.add(rel)
    remove_others(ctx, target, keep)
    ctx.report.skills += 1
    return True


def unpack(data: bytes) -> dict[str, bytes]:
    """The zip's files by safe relative path; a folder that holds everything (the skill's own
    name) is left out. Unsafe entries are skipped."""
    found: dict[str, bytes] = {}
    total = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist()[:MAX_FILES]:
            parts = safe_relative(info.filename)
            if info.is_dir() or parts is None:
                continue
            total += info.file_size
            if total > MAX_BYTES:
                raise zipfile.BadZipFile("the skill unpacks to more than the size limit")
            try:
                found["/".join(parts)] = archive.read(info)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
                raise zipfile.BadZipFile(str(exc)) from exc
    tops = {path.split("/", 1)[0] for path in found}
    if len(tops) == 1 and all("/" in path for path in found):
        found = {path.split("/", 1)[1]: content for path, content in found.items()}
    return found


def subfolders(path: Path) -> list[str]:
    try:
        return [e.name for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
