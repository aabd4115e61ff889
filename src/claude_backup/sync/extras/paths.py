"""Where uploads, chat files, projects and memory live in an organization's folder.

    <org>/files/<file uuid>.json                   what we know of an upload (and if it is missing)
    <org>/files/<file uuid>/<file name>            its original bytes, stored once
    <org>/chat-files/<title>-<chat uuid>/          what belongs to one chat, beside chats/:
        index.json                                 uploads it uses (links), sandbox listing
        artifacts/...                              its artifacts, rebuilt from the chat's JSON
        sandbox/outputs/...                        files Claude wrote with code execution
    <org>/projects/<name>-<project uuid>/          project.json, instructions.md, docs/, ...
    <org>/deleted-projects/<name>-<project uuid>/  a project deleted on claude.ai
    <org>/memory.md, <org>/memory.json             Claude's memory of you

Nothing here is inside `chats/` or `deleted/`: those hold only chat files.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import shutil
from pathlib import Path

from pathvalidate import sanitize_filename

from claude_backup.archive.files import archive_error, inside_archive, make_dirs
from claude_backup.model.layout import CHAT_FILES, DELETED_PROJECTS, FILES, PROJECTS, SANDBOX_ROOT
from claude_backup.model.naming import clean_title, folder_name, uuid_of

_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")
COMPONENT_MAX_BYTES = 100  # a file or folder name we make from a server's name
SANDBOX_PATH_MAX_BYTES = 400  # a sandbox file's path below its chat's sandbox/ folder


def org_path_of_chat(chat_path: str) -> str:
    """`<account>/<org>` of `<account>/<org>/chats/<file>.json`."""
    return chat_path.rsplit("/", 2)[0]


def upload_meta(org_path: str, file_uuid: str) -> str:
    return f"{org_path}/{FILES}/{file_uuid}.json"


def upload_file(org_path: str, file_uuid: str, stored_name: str) -> str:
    return f"{org_path}/{FILES}/{file_uuid}/{stored_name}"


def chat_folder(org_path: str, title: object, chat_uuid: str) -> str:
    return f"{org_path}/{CHAT_FILES}/{folder_name(title, chat_uuid)}"


def project_folder(org_path: str, title: object, uuid: str, *, deleted: bool = False) -> str:
    kind = DELETED_PROJECTS if deleted else PROJECTS
    return f"{org_path}/{kind}/{folder_name(title, uuid)}"


def safe_file_name(name: object, mime: object = None, fallback: str = "file") -> str:
    """A portable file name that keeps the extension: `Report (final).pdf` stays readable;
    at most `COMPONENT_MAX_BYTES` (a long name is cut before its extension)."""
    text = name if isinstance(name, str) else ""
    text = text.replace("/", "_").replace("\\", "_")
    match = _EXTENSION.search(text)
    ext = match.group(0).lower() if match and match.start() > 0 else ""
    stem = text[: match.start()] if ext and match else text
    if not ext and isinstance(mime, str):
        ext = mimetypes.guess_extension(mime.split(";")[0].strip()) or ""
    budget = COMPONENT_MAX_BYTES - len(ext.encode("utf-8"))
    stem = clean_title(stem, budget) if stem.strip(" .-_") else fallback
    return str(sanitize_filename(stem + ext, replacement_text="_", platform="universal"))


def sandbox_relative(path: str) -> str:
    """A sandbox path made a safe relative path: `/mnt/user-data/outputs/a.csv` ->
    `outputs/a.csv`, `/home/claude/x.py` -> `other/home/claude/x.py`. A path longer than any
    file system takes keeps its first folder and its file name; the folders between become
    one, named by a hash of them (`outputs/long-path-1a2b3c4d5e6f/deep.txt`)."""
    inside = path.startswith(SANDBOX_ROOT)
    rest = path[len(SANDBOX_ROOT) :] if inside else path
    parts = [p for p in rest.split("/") if p not in ("", ".", "..")]
    if not parts:
        return "unnamed"
    if not inside:
        parts.insert(0, "other")
    folders = [clean_title(p, COMPONENT_MAX_BYTES) for p in parts[:-1]]
    name = safe_file_name(parts[-1])
    relative = "/".join([*folders, name])
    if len(relative.encode("utf-8")) <= SANDBOX_PATH_MAX_BYTES:
        return relative
    digest = hashlib.sha256("/".join(parts[1:-1]).encode("utf-8", "surrogatepass")).hexdigest()
    return "/".join([*folders[:1], f"long-path-{digest[:12]}", name])


def find_folders(parent: Path) -> dict[str, str]:
    """uuid -> folder name, for folders named `<title>-<uuid>` in `parent`."""
    found: dict[str, str] = {}
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return found
    for entry in sorted(entries, key=lambda e: e.name):
        uuid = uuid_of(entry.name)
        if uuid is not None and entry.is_dir(follow_symlinks=False):
            found.setdefault(uuid, entry.name)
    return found


def place_folder(root: Path, old: str | None, new: str) -> None:
    """Move a folder (relative to root) to its new name; merge if the target exists (what is
    there already wins: it is newer). A link in the old folder's place is left alone."""
    if old is None or old == new:
        return
    source = inside_archive(root, old)
    if source.is_symlink() or not source.is_dir():
        return
    target = inside_archive(root, new)
    try:
        make_dirs(target.parent)
        if not target.exists():
            os.replace(source, target)
            return
        for folder, _, names in os.walk(source):  # never into a linked folder
            for name in sorted(names):
                child = Path(folder) / name
                dest = target / child.relative_to(source)
                if not os.path.lexists(dest):
                    make_dirs(dest.parent)
                    os.replace(child, dest)
        shutil.rmtree(root / old)
    except OSError as exc:
        raise archive_error(exc, root / old) from exc


def remove_folder(root: Path, rel: str) -> None:
    try:
        shutil.rmtree(inside_archive(root, rel))
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise archive_error(exc, root / rel) from exc


def files_under(root: Path, rel: str) -> set[str]:
    """Every file below a folder, as paths relative to root."""
    base = root / rel
    if not base.is_dir():
        return set()
    return {str(p.relative_to(root)).replace(os.sep, "/") for p in base.rglob("*") if p.is_file()}
