"""`export OUTDIR`: every chat of the archive as Markdown files or as a static website.

OUTDIR must be empty, new, or an earlier export (it holds our marker file): an export never
overwrites files it did not write. Pages of chats no longer in the archive are removed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from claude_backup.archive.files import write_atomic
from claude_backup.errors import ArchiveError, UsageError
from claude_backup.model.canonical import json_bytes
from claude_backup.model.naming import uuid_of
from claude_backup.read.markdown import BranchMode, chat_title, escape, format_time, render_chat
from claude_backup.read.parts import text
from claude_backup.read.source import Snapshot, load_chat, org_name

MARKER = ".claude-backup-export.json"
Format = Literal["md", "html"]


def prepare(out: Path, archive: Path | None = None) -> None:
    if archive is not None and archive.resolve() in (out.resolve(), *out.resolve().parents):
        raise UsageError(f"{out} is inside the archive; export to a folder outside it")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; export needs a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"{out} is not empty and is not an earlier export; choose a new or empty folder"
        )
    write_atomic(out / MARKER, json_bytes({"export": "claude-backup"}))


def project_names(root: Path) -> dict[str, str]:
    """Project uuid -> name, from any `projects/<name>-<uuid>` file or folder in the archive."""
    names: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if ".git" in dirnames:
            dirnames.remove(".git")
        if os.path.basename(dirpath) != "projects":
            continue
        for name in [*dirnames, *filenames]:
            base = name.removesuffix(".json")
            uuid = uuid_of(base)
            if uuid:
                names[uuid] = base[: -len(uuid) - 1] or uuid
        dirnames.clear()
    return names


def export(
    snapshot: Snapshot,
    out: Path,
    fmt: Format,
    *,
    branch: BranchMode = "all",
    projects: dict[str, str] | None = None,
    archive: Path | None = None,
) -> int:
    """Render every chat into `out`; returns how many."""
    prepare(out, archive)
    files = snapshot.chat_files()
    orgs: dict[str, str] = {}
    if fmt == "html":
        from claude_backup.read.html import ChatEntry, write_site

        entries = []
        for file in files:
            chat = load_chat(snapshot, file)
            project = text(chat.get("project_uuid"))
            entries.append(
                ChatEntry(
                    chat,
                    file.uuid,
                    org_name(snapshot, file, orgs),
                    (projects or {}).get(project, project),
                    file.location.deleted,
                    file.path,
                )
            )
        count = write_site(out, entries)
        _remove_stale(out / "chats", {f"{e.uuid}.html" for e in entries})
        return count
    index: list[tuple[str, str, str, str]] = []
    for file in files:
        chat = load_chat(snapshot, file)
        name = file.path.removesuffix(".json") + ".md"
        org = org_name(snapshot, file, orgs)
        extra = [("Organization", org)]
        if file.location.deleted:
            extra.append(("Deleted on claude.ai", "yes"))
        write_atomic(out / name, render_chat(chat, branch, extra).encode("utf-8"))
        index.append((text(chat.get("updated_at")), chat_title(chat), org, name))
    write_atomic(out / "index.md", _index(index).encode("utf-8"))
    _remove_stale_markdown(out, {name for *_, name in index})
    return len(files)


def _index(rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["# Claude.ai archive", "", f"{len(rows)} chats, most recently updated first.", ""]
    lines += ["| Updated | Title | Organization |", "|---|---|---|"]
    for updated, title, org, name in sorted(rows, reverse=True):
        target = name.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        cell = escape(title)
        lines.append(f"| {format_time(updated)[:10]} | [{cell}]({target}) | {escape(org)} |")
    return "\n".join(lines) + "\n"


def _remove_stale(folder: Path, keep: set[str]) -> None:
    for path in _listing(folder):
        if path.name not in keep:
            _unlink(path)


def _remove_stale_markdown(out: Path, keep: set[str]) -> None:
    for path in out.glob("*/*/*/*.md"):
        if path.relative_to(out).as_posix() not in keep:
            _unlink(path)


def _listing(folder: Path) -> Iterable[Path]:
    return list(folder.iterdir()) if folder.is_dir() else []


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError as exc:
        raise ArchiveError(f"cannot remove {path}: {exc.strerror or exc}") from exc
