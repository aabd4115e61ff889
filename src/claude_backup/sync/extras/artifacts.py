"""Artifacts rebuilt from a chat's JSON: every version of every artifact, as real files. Pure.

An artifact is made by the `artifacts` tool (`create`, `update` with `old_str`/`new_str`,
`rewrite`) or, in older chats, by `<antArtifact identifier=...>...</antArtifact>` tags in the text.
Branches matter: an update applies to the artifact as it was on *its* branch, so the state is
carried from each message to its children, along the chat's message tree (read/tree.py); in an
export, which has no parent links, along the thread inferred from the messages' times.

Output, relative to the chat's folder:

    artifacts/<id>.<ext>             the artifact as it is at the end of the current branch
                                     (or its last version, when it is not on that branch)
    artifacts/<id>/v001.<ext> ...    every version, numbered in the order they were made
    artifacts/index.json             ids, titles, types, versions and what each was based on
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from claude_backup.model.canonical import json_bytes
from claude_backup.model.layout import ARTIFACTS, ARTIFACTS_INDEX
from claude_backup.model.naming import PathClaims, clean_title, name_key
from claude_backup.read.parts import research_sources
from claude_backup.read.tree import ROOT, MessageTree

TYPE_EXTENSIONS = {
    "text/markdown": ".md",
    "text/html": ".html",
    "text/plain": ".txt",
    "text/css": ".css",
    "text/csv": ".csv",
    "application/json": ".json",
    "image/svg+xml": ".svg",
    "application/vnd.ant.mermaid": ".mermaid",
    "application/vnd.ant.react": ".jsx",
    "application/vnd.ant.latex": ".tex",
}
LANGUAGE_EXTENSIONS = {
    "python": ".py",
    "javascript": ".js",
    "js": ".js",
    "typescript": ".ts",
    "ts": ".ts",
    "jsx": ".jsx",
    "tsx": ".tsx",
    "html": ".html",
    "css": ".css",
    "json": ".json",
    "bash": ".sh",
    "shell": ".sh",
    "sh": ".sh",
    "sql": ".sql",
    "rust": ".rs",
    "go": ".go",
    "java": ".java",
    "c": ".c",
    "cpp": ".cpp",
    "c++": ".cpp",
    "csharp": ".cs",
    "ruby": ".rb",
    "php": ".php",
    "swift": ".swift",
    "kotlin": ".kt",
    "yaml": ".yaml",
    "toml": ".toml",
    "markdown": ".md",
    "r": ".r",
    "latex": ".tex",
    "mermaid": ".mermaid",
}
_TAG = re.compile(r"<antArtifact\b([^>]*)>(.*?)</antArtifact>", re.DOTALL)
_ATTRIBUTE = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


@dataclass(frozen=True)
class Command:
    """One artifact operation found in a message, in the order it appears."""

    id: str
    command: str
    fields: Mapping[str, Any]
    message_uuid: str


@dataclass(frozen=True)
class Version:
    id: str
    number: int
    content: str
    type: str
    title: str
    language: str
    command: str
    message_uuid: str
    version_uuid: str | None
    based_on: int | None
    sources: str = ""  # a research report's sources, as a Markdown section for its file

    @property
    def file_content(self) -> str:
        return self.content + self.sources


def extension(type_: str, language: str = "") -> str:
    """The file extension an artifact of this MIME type (and code language) should have."""
    if type_ == "application/vnd.ant.code":
        return LANGUAGE_EXTENSIONS.get(language.strip().lower(), ".txt")
    return TYPE_EXTENSIONS.get(type_.strip().lower(), ".txt")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _messages(chat: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = chat.get("chat_messages")
    return [m for m in items if isinstance(m, Mapping)] if isinstance(items, list) else []


def _failed_tool_uses(blocks: list[Any]) -> set[int]:
    """Positions of the tool calls whose result is an error. A result names its call by
    `tool_use_id`; calls without an `id` (seen in real research chats) are paired with the
    next result of the same tool that names none."""
    calls: dict[str, int] = {}
    waiting: list[tuple[int, object]] = []  # calls without an id, oldest first
    failed: set[int] = set()
    for n, block in enumerate(blocks):
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "tool_use":
            if isinstance(block.get("id"), str) and block.get("id"):
                calls[str(block["id"])] = n
            else:
                waiting.append((n, block.get("name")))
        elif block.get("type") == "tool_result":
            named = block.get("tool_use_id")
            call = calls.get(named) if isinstance(named, str) else None
            if call is None and not named:
                match = next((w for w in waiting if w[1] == block.get("name")), None)
                if match is not None:
                    waiting.remove(match)
                    call = match[0]
            if call is not None and block.get("is_error") is True:
                failed.add(call)
    return failed


def commands(message: Mapping[str, Any]) -> Iterator[Command]:
    """The artifact operations of one message: tool calls, else legacy tags in its text."""
    uuid = _text(message.get("uuid"))
    blocks = message.get("content")
    blocks = blocks if isinstance(blocks, list) else []
    failed = _failed_tool_uses(blocks)
    has_text = False
    for n, block in enumerate(blocks):
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "text":
            has_text = True
            yield from _legacy_commands(_text(block.get("text")), uuid)
        if block.get("type") != "tool_use" or block.get("name") != "artifacts":
            continue
        fields = block.get("input")
        if not isinstance(fields, Mapping) or n in failed:
            continue
        artifact_id = _text(fields.get("id"))
        if artifact_id:
            yield Command(artifact_id, _text(fields.get("command")) or "create", fields, uuid)
    if not has_text:  # a legacy message: `text` is its only content
        yield from _legacy_commands(_text(message.get("text")), uuid)


def _legacy_commands(text: str, message_uuid: str) -> Iterator[Command]:
    for match in _TAG.finditer(text):
        attributes = {
            m.group(1): html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
            for m in _ATTRIBUTE.finditer(match.group(1))
        }
        artifact_id = attributes.get("identifier", "")
        if not artifact_id:
            continue
        body = match.group(2)
        body = body[1:] if body.startswith("\n") else body
        fields = {**attributes, "content": body}
        yield Command(artifact_id, "legacy", fields, message_uuid)


def _apply(command: Command, before: Version | None, number: int) -> Version | str:
    """The new version, or why the command changed nothing."""
    fields = command.fields
    content = fields.get("content")
    if command.command == "update":
        if before is None:
            return "update of an artifact that does not exist on this branch"
        old, new = fields.get("old_str"), fields.get("new_str")
        if not isinstance(old, str) or not isinstance(new, str) or old not in before.content:
            return "old_str not found; the artifact was left unchanged"
        content = before.content.replace(old, new, 1)
    elif not isinstance(content, str):
        return f"{command.command or 'command'} without content"
    return Version(
        id=command.id,
        number=number,
        content=content,
        type=_text(fields.get("type")) or (before.type if before else "text/plain"),
        title=_text(fields.get("title")) or (before.title if before else command.id),
        language=_text(fields.get("language")) or (before.language if before else ""),
        command=command.command,
        message_uuid=command.message_uuid,
        version_uuid=_text(fields.get("version_uuid")) or None,
        based_on=before.number if before else None,
        sources=sources_section(fields)
        or (before.sources if before and command.command == "update" else ""),
    )


def sources_section(fields: Mapping[str, Any]) -> str:
    """A research report's `md_citations` as a "Sources" section appended to its file: each
    cited page with the passage it supports and the pages behind it. A report without its
    sources is half a report."""
    cited = research_sources(fields)
    if not cited:
        return ""
    content = _text(fields.get("content"))
    spans: dict[str, str] = {}
    for citation in fields.get("md_citations") or []:
        if not isinstance(citation, Mapping):
            continue
        start, end = citation.get("start_index"), citation.get("end_index")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(content):
            passage = " ".join(content[start:end].split())
            spans.setdefault(_text(citation.get("url")) or _text(citation.get("title")), passage)
    lines = ["", "", "---", "", "## Sources", ""]
    for n, (title, url, behind) in enumerate(cited, 1):
        lines.append(f"{n}. {_md_link(title, url)}")
        cited_for = spans.get(url or title)
        if cited_for:
            lines.append(f"   cited for: “{cited_for}”")
        lines += [f"   - {_md_link(name, link)}" for name, link in behind]
    return "\n".join(lines) + "\n"


def _md_link(title: str, url: str) -> str:
    label = " ".join(title.split()).replace("[", "(").replace("]", ")") or url
    return f"[{label}](<{url}>)" if url.startswith(("http://", "https://")) else label


def reconstruct(chat: Mapping[str, Any]) -> dict[str, bytes]:
    """Every artifact file of a chat: relative path -> bytes. Empty when it has no artifacts."""
    tree = MessageTree.from_chat(chat)  # an export's thread is inferred, so state carries on it
    states: dict[str, dict[str, Version]] = {ROOT: {}}
    versions: dict[str, list[Version]] = {}
    skipped: dict[str, list[dict[str, str]]] = {}
    for key in tree.order:
        message = tree.messages[key]
        uuid = _text(message.get("uuid"))
        state = dict(states[tree.parent[key]])
        for command in commands(message):
            made = versions.setdefault(command.id, [])
            result = _apply(command, state.get(command.id), len(made) + 1)
            if isinstance(result, str):
                skipped.setdefault(command.id, []).append(
                    {"command": command.command, "message_uuid": uuid, "reason": result}
                )
                continue
            if command.command == "legacy":
                kind = "rewrite" if state.get(command.id) else "create"
                result = replace(result, command=kind)
            made.append(result)
            state[command.id] = result
        states[key] = state
    made_ids = [artifact_id for artifact_id, made in versions.items() if made]
    if not made_ids and not skipped:
        return {}
    leaf = tree.current_leaf(chat)
    current = states.get(leaf, {}) if leaf is not None else {}
    claims = PathClaims()
    claims.add(ARTIFACTS_INDEX)
    files: dict[str, bytes] = {}
    index: list[dict[str, Any]] = []
    for artifact_id, made in versions.items():
        final = current.get(artifact_id) or (made[-1] if made else None)
        ext = extension(final.type, final.language) if final is not None else ""
        name = _free_name(claims, artifact_id, ext if final is not None else None)
        entry: dict[str, Any] = {"id": artifact_id, "file": None, "versions": []}
        if final is not None:
            path = f"{ARTIFACTS}/{name}{ext}"
            files[path] = final.file_content.encode("utf-8", "surrogatepass")
            claims.add(path)
            entry.update(
                file=path,
                title=final.title,
                type=final.type,
                language=final.language or None,
                current_version=final.number,
                on_current_branch=artifact_id in current,
            )
        for version in made:
            version_ext = extension(version.type, version.language)
            path = f"{ARTIFACTS}/{name}/v{version.number:03d}{version_ext}"
            files[path] = version.file_content.encode("utf-8", "surrogatepass")
            claims.add(path)
            entry["versions"].append(_version_entry(version, path))
        if artifact_id in skipped:
            entry["skipped"] = skipped[artifact_id]
        index.append(entry)
    files[ARTIFACTS_INDEX] = json_bytes({"artifacts": index})
    return files


def _version_entry(version: Version, path: str) -> dict[str, Any]:
    return {
        "version": version.number,
        "file": path,
        "command": version.command,
        "based_on": version.based_on,
        "title": version.title,
        "type": version.type,
        "message_uuid": version.message_uuid,
        "version_uuid": version.version_uuid,
        **({"sources": True} if version.sources else {}),
    }


def _free_name(claims: PathClaims, artifact_id: str, ext: str | None) -> str:
    """A safe name for an artifact whose folder (`<name>/`) and file (`<name><ext>`, unless
    `ext` is None) collide with nothing named before, whatever the file system: ids that
    clean to the same name, or differ in case only, get -2, -3, ..."""
    base = clean_title(artifact_id, 80)
    name, counter = base, 1
    while (
        name_key(name) == "index"
        or claims.is_taken(f"{ARTIFACTS}/{name}")
        or (ext is not None and not claims.is_free(f"{ARTIFACTS}/{name}{ext}"))
    ):
        counter += 1
        name = f"{base}-{counter}"
    claims.add(f"{ARTIFACTS}/{name}", folder=True)
    return name


def artifact_ids(files: Mapping[str, bytes]) -> dict[str, str]:
    """Which artifact each file of `reconstruct`'s output belongs to: path -> artifact id."""
    index = files.get(ARTIFACTS_INDEX)
    owners: dict[str, str] = {}
    for entry in json.loads(index)["artifacts"] if index is not None else []:
        paths = [entry.get("file"), *(v.get("file") for v in entry.get("versions", []))]
        owners.update({path: entry["id"] for path in paths if isinstance(path, str)})
    return owners
