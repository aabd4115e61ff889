"""`export OUTDIR`: every chat of the archive as Markdown files or as a static website.

OUTDIR must be empty, new, or an earlier export (it holds our marker file): an export never
overwrites files it did not write. Pages of chats no longer in the archive are removed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from claude_backup.archive.files import write_atomic
from claude_backup.errors import ArchiveError, UsageError
from claude_backup.model.canonical import json_bytes
from claude_backup.model.layout import FILES
from claude_backup.model.naming import is_uuid, uuid_of
from claude_backup.read.markdown import BranchMode, chat_title, escape, format_time, render_chat
from claude_backup.read.parts import items, text
from claude_backup.read.source import Snapshot, load_chat, org_name

if TYPE_CHECKING:
    from claude_backup.read.html import Upload

MARKER = ".claude-backup-export.json"
Format = Literal["md", "html"]


FORMAT_NAMES = {"md": "Markdown", "html": "HTML"}
ARTICLES = {"md": "a", "html": "an"}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif")


def prepare(out: Path, archive: Path | None = None, fmt: Format = "html") -> None:
    """Check `out` may be written; mark it as an export of `fmt`. An export of the other
    format is refused: the two would mix in one folder."""
    if archive is not None and archive.resolve() in (out.resolve(), *out.resolve().parents):
        raise UsageError(f"{out} is inside the archive; export to a folder outside it")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; export needs a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"{out} is not empty and is not an earlier export; choose a new or empty folder"
        )
    earlier = earlier_format(out)
    if earlier is not None and earlier != fmt:
        raise UsageError(
            f"{out} holds {ARTICLES[earlier]} {FORMAT_NAMES[earlier]} export; export "
            f"{FORMAT_NAMES[fmt]} into another folder (the two would mix)"
        )
    write_atomic(out / MARKER, json_bytes({"export": "claude-backup", "format": fmt}))


def earlier_format(out: Path) -> Format | None:
    """The format of the export already in `out` (marker, else its index file), if any."""
    if not (out / MARKER).is_file():
        return None
    try:
        marked = json.loads((out / MARKER).read_bytes()).get("format")
    except (OSError, ValueError, AttributeError):
        marked = None
    if marked in ("md", "html"):
        return "md" if marked == "md" else "html"
    if (out / "index.html").is_file():
        return "html"
    return "md" if (out / "index.md").is_file() else None


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
    prepare(out, archive, fmt)
    files = snapshot.chat_files()
    orgs: dict[str, str] = {}
    if fmt == "html":
        from claude_backup.read.html import ChatEntry, write_site

        entries = []
        copied: set[str] = set()
        for file in files:
            chat = load_chat(snapshot, file)
            project = text(chat.get("project_uuid"))
            uploads = copy_uploads(chat, file.path, archive, out, copied) if archive else ()
            entries.append(
                ChatEntry(
                    chat,
                    file.uuid,
                    org_name(snapshot, file, orgs),
                    (projects or {}).get(project, project),
                    file.location.deleted,
                    file.path,
                    uploads,
                )
            )
        count = write_site(out, entries)
        _remove_stale(out / "chats", {f"{e.uuid}.html" for e in entries})
        _remove_stale_uploads(out / FILES_DIR, copied)
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


FILES_DIR = "files"


def copy_uploads(
    chat: Mapping[str, Any], chat_path: str, archive: Path, out: Path, copied: set[str]
) -> tuple[Upload, ...]:
    """The files the chat's messages name whose bytes the archive holds (`<org>/files/<uuid>/`),
    copied into the site's `files/<uuid>/` once; a file not downloaded is left out."""
    from claude_backup.read.html import Upload

    org_path = "/".join(chat_path.split("/")[:2])
    found: list[Upload] = []
    seen: set[str] = set()
    for message in items(chat.get("chat_messages")):
        refs = items(message.get("files_v2")) or items(message.get("files"))
        for ref in refs:
            uuid = text(ref.get("file_uuid"))
            if not is_uuid(uuid) or uuid in seen:
                continue
            seen.add(uuid)
            stored = _stored_upload(archive / org_path / FILES / uuid)
            if stored is None:
                continue
            target = out / FILES_DIR / uuid / stored.name
            if not target.is_file() or target.stat().st_size != stored.stat().st_size:
                write_atomic(target, stored.read_bytes())
            copied.add(uuid)
            kind = text(ref.get("file_kind"))
            image = kind == "image" or stored.suffix.lower() in IMAGE_SUFFIXES
            href = f"{FILES_DIR}/{uuid}/{quote(stored.name)}"
            found.append(Upload(text(ref.get("file_name")) or stored.name, href, image))
    return tuple(found)


def _stored_upload(folder: Path) -> Path | None:
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError:
        return None
    return files[0] if files else None


def _remove_stale_uploads(folder: Path, keep: set[str]) -> None:
    import shutil

    for path in _listing(folder):
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


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
