"""Commit-message lines for the extras' files, so `git log` says what changed. Pure."""

from __future__ import annotations

from typing import Protocol

from ..describe import load_object, one_line
from ..naming import uuid_of
from .artifacts import INDEX as ARTIFACTS_INDEX
from .paths import CHAT_FILES, DELETED_PROJECTS, FILES, MEMORY_MD, PROJECTS, SANDBOX


class FileSide(Protocol):
    @property
    def path(self) -> str | None: ...
    @property
    def data(self) -> bytes | None: ...


def _title(folder: str) -> str:
    """The readable part of a `<title>-<uuid>` folder name."""
    uuid = uuid_of(folder)
    return one_line(folder[: -len(uuid) - 1] if uuid else folder, 60)


def describe_extra(old: FileSide, new: FileSide) -> str | None:
    """One line about a changed extras file, or None when it is not worth a line."""
    path = new.path or old.path or ""
    parts = path.split("/")
    added, removed = old.path is None, new.path is None
    if len(parts) == 3 and parts[2] == MEMORY_MD:
        return None if removed else "memory updated"
    if len(parts) < 4:
        return None
    kind, rest = parts[2], parts[3:]
    if kind == FILES and len(rest) == 1 and rest[0].endswith(".json"):
        return _file_line(old, new)
    if kind == PROJECTS and len(rest) >= 2:
        return _project_line(old, new, rest)
    if kind == DELETED_PROJECTS and rest[1:] == ["project.json"] and added:
        return f"project deleted: {one_line(load_object(new.data).get('name'))}"
    if kind == CHAT_FILES and len(rest) >= 3 and not removed:
        title = _title(rest[0])
        if "/".join(rest[1:]) == ARTIFACTS_INDEX:
            return f"artifacts updated: {title}"
        if rest[1] == SANDBOX and added:
            return f"sandbox output added: {one_line(rest[-1], 60)} ({title})"
    return None


def _file_line(old: FileSide, new: FileSide) -> str | None:
    before, after = load_object(old.data), load_object(new.data)
    name = one_line(after.get("file_name") or before.get("file_name")) or "(unnamed)"
    if new.path is None:
        return None
    if after.get("missing") and not before.get("missing"):
        return f"file missing: {name}"
    if old.path is None or before.get("missing"):
        lossy = " (only a lossy preview)" if after.get("lossy") else ""
        return f"file added: {name}{lossy}"
    return None


def _project_line(old: FileSide, new: FileSide, rest: list[str]) -> str | None:
    title = _title(rest[0])
    name = "/".join(rest[1:])
    if new.path is None:
        if rest[1] != "docs":
            return None
        return f"project doc removed: {one_line(rest[-1], 60)} ({title})"
    if name == "project.json":
        before, after = load_object(old.data), load_object(new.data)
        if old.path is None:
            return f"project added: {one_line(after.get('name'))}"
        if before.get("name") != after.get("name"):
            return (
                f'project renamed "{one_line(before.get("name"))}" → '
                f'"{one_line(after.get("name"))}"'
            )
        return None
    if name == "instructions.md" and old.path is not None and old.data != new.data:
        return f"project instructions updated: {title}"
    if name == MEMORY_MD:
        return f"project memory updated: {title}"
    if rest[1] == "docs" and len(rest) == 3:
        verb = "added" if old.path is None else "changed" if old.data != new.data else None
        return f"project doc {verb}: {one_line(rest[2], 60)} ({title})" if verb else None
    return None
