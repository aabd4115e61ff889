"""A message as a few kinds of displayable parts, shared by the Markdown and HTML renderers. Pure.

Content blocks are in claude-api.md §2.6, attachments and files in §2.7. Every field is
optional and may have the wrong type; unknown block types, and fields of a message or block
that are not known here, are shown as their JSON in a collapsed section, so nothing in a chat
is silently dropped (except `token_budget`, which holds nothing for a reader).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from claude_backup.model.jsonvalue import dumps_pretty
from claude_backup.read.tree import Message


@dataclass(frozen=True)
class Prose:
    """Markdown written by a person or by Claude."""

    text: str


@dataclass(frozen=True)
class Code:
    code: str
    language: str
    title: str = ""


@dataclass(frozen=True)
class Caption:
    """One line of plain text about what follows (never interpreted as Markdown)."""

    text: str


@dataclass(frozen=True)
class Links:
    items: tuple[tuple[str, str], ...]  # (title, url)


@dataclass(frozen=True)
class Fold:
    """Collapsed by default: thinking, tool calls and results, attachments' text."""

    summary: str
    body: tuple[Part, ...]


Part = Prose | Code | Caption | Links | Fold

ARTIFACT_LANGUAGES = {
    "text/markdown": "markdown",
    "text/html": "html",
    "application/vnd.ant.react": "jsx",
    "image/svg+xml": "svg",
    "application/vnd.ant.mermaid": "mermaid",
    "text/plain": "text",
    "text/css": "css",
    "application/json": "json",
}
_LEGACY_RE = re.compile(
    r"<antArtifact\b([^>]*)>(.*?)</antArtifact>|<antThinking>(.*?)</antThinking>", re.DOTALL
)
_ATTR_RE = re.compile(r'(\w+)="([^"]*)"')
_EXTENSION_RE = re.compile(r"\.([A-Za-z0-9+#-]{1,10})$")


def text(value: object) -> str:
    return value if isinstance(value, str) else ""


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def as_json(value: object) -> str:
    """A JSON value shown as pretty JSON, however deep (no recursion)."""
    return dumps_pretty(value).decode("utf-8").rstrip("\n")


ArtifactKinds = Mapping[str, Mapping[str, str]]
"""artifact id -> the `type`, `language` and `title` it was made with, for the rewrites and
updates that do not repeat them."""

_KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "message": frozenset(
        [
            "uuid",
            "text",
            "content",
            "sender",
            "index",
            "created_at",
            "updated_at",
            "truncated",
            "stop_reason",
            "attachments",
            "files",
            "files_v2",
            "sync_sources",
            "parent_message_uuid",
            "input_mode",
        ]
    ),
    "text": frozenset(
        ["type", "text", "citations", "start_timestamp", "stop_timestamp", "flags", "uuid"]
    ),
    "thinking": frozenset(
        [
            "type",
            "thinking",
            "summaries",
            "cut_off",
            "truncated",
            "start_timestamp",
            "stop_timestamp",
            "flags",
            "signature",
            "alternative_display_type",
            "thinking_hidden",
            "hidden",
        ]
    ),
    "tool_use": frozenset(
        [
            "type",
            "id",
            "name",
            "input",
            "message",
            "integration_name",
            "integration_icon_url",
            "icon_name",
            "display_content",
            "approval_key",
            "approval_options",
            "context",
            "start_timestamp",
            "stop_timestamp",
            "flags",
            "tool_identifier",
            "is_mcp_app",
            "hidden_in_chat",
            "mcp_server_url",
            "partial_json",
        ]
    ),
    "tool_result": frozenset(
        [
            "type",
            "tool_use_id",
            "name",
            "content",
            "is_error",
            "message",
            "display_content",
            "start_timestamp",
            "stop_timestamp",
            "flags",
            "integration_name",
            "integration_icon_url",
            "icon_name",
            "meta",
        ]
    ),
}


def artifact_kinds(messages: Sequence[Message]) -> dict[str, dict[str, str]]:
    """What each artifact of a chat was made as (its first `type`, `language`, `title`)."""
    kinds: dict[str, dict[str, str]] = {}
    for message in messages:
        for block in items(message.get("content")):
            spec = mapping(block.get("input"))
            if block.get("type") != "tool_use" or block.get("name") != "artifacts":
                continue
            known = kinds.setdefault(text(spec.get("id")), {})
            for key in ("type", "language", "title"):
                if text(spec.get(key)) and key not in known:
                    known[key] = text(spec.get(key))
    return kinds


def unknown_fields(kind: str, value: Mapping[str, Any]) -> list[Part]:
    """The fields of a message or block this reader does not know, shown as they are (empty
    ones left out): nothing a later version of claude.ai adds is silently dropped."""
    known = _KNOWN_FIELDS.get(kind)
    if known is None:
        return []
    extra = {
        k: v for k, v in value.items() if k not in known and v not in (None, "", [], {}, False)
    }
    if not extra:
        return []
    what = "the message" if kind == "message" else f"the {kind} block"
    return [
        Fold(f"Other fields of {what}: {', '.join(sorted(extra))}", (Code(as_json(extra), "json"),))
    ]


def message_parts(message: Message, artifacts: ArtifactKinds | None = None) -> list[Part]:
    """Everything a message shows, in order: content (or legacy text), attachments, files."""
    blocks = items(message.get("content"))
    parts: list[Part] = []
    if blocks:
        for block in blocks:
            parts.extend(block_parts(block, artifacts or {}))
    else:
        parts.extend(legacy_text_parts(text(message.get("text"))))
    parts.extend(attachment_part(a) for a in items(message.get("attachments")))
    files = items(message.get("files_v2")) or items(message.get("files"))
    parts.extend(file_part(f) for f in files)
    parts.extend(
        Caption(f"Synced source: {source_name(s)}") for s in items(message.get("sync_sources"))
    )
    parts.extend(unknown_fields("message", message))
    return parts


def block_parts(block: Mapping[str, Any], artifacts: ArtifactKinds | None = None) -> list[Part]:
    kind = text(block.get("type"))
    return [*_known_block_parts(kind, block, artifacts or {}), *unknown_fields(kind, block)]


def _known_block_parts(kind: str, block: Mapping[str, Any], artifacts: ArtifactKinds) -> list[Part]:
    if kind == "text":
        return text_block_parts(block)
    if kind == "thinking":
        return [thinking_part(block)]
    if kind == "tool_use":
        if block.get("name") == "artifacts":
            spec = mapping(block.get("input"))
            made_as = artifacts.get(text(spec.get("id")), {})
            return artifact_parts({**made_as, **{k: v for k, v in spec.items() if v}})
        return [tool_use_part(block)]
    if kind == "tool_result":
        if block.get("name") == "artifacts" and not block.get("is_error"):
            return []  # always "OK": the artifact itself was shown with its tool call
        return [tool_result_part(block)]
    if kind == "token_budget":
        return []
    if kind == "voice_note":
        body = text(block.get("text")) or text(block.get("transcript"))
        title = text(block.get("title"))
        return [Caption("Voice note" + (f": {title}" if title else "")), *_prose(body)]
    if kind == "injected_prompt_block":
        body = text(block.get("text")) or text(block.get("content"))
        return [Fold("Injected prompt", tuple(_prose(body)) or (Code(as_json(block), "json"),))]
    return [Fold(f"{kind or 'unknown'} block", (Code(as_json(block), "json"),))]


def _prose(value: str) -> list[Part]:
    return [Prose(value)] if value.strip() else []


def text_block_parts(block: Mapping[str, Any]) -> list[Part]:
    parts = _prose(text(block.get("text")))
    links = tuple(dict.fromkeys(citation_link(c) for c in items(block.get("citations"))))
    links = tuple(link for link in links if link[1])
    if links:
        parts.append(Links(links))
    return parts


def citation_link(citation: Mapping[str, Any]) -> tuple[str, str]:
    """Citations come in two shapes: `details.url` or top-level `url`/`title` (§6.10)."""
    details = mapping(citation.get("details"))
    url = text(citation.get("url")) or text(details.get("url"))
    title = text(citation.get("title")) or text(details.get("title")) or url
    return title, url


def thinking_part(block: Mapping[str, Any]) -> Fold:
    """Collapsed under its last summary; every summary (a long thinking has one per stage)
    listed first, then the thinking, then whether it was cut short."""
    summaries = [text(s.get("summary")) for s in items(block.get("summaries"))]
    summaries = [" ".join(s.split()) for s in summaries if s.strip()]
    summary = "Thinking" + (f": {summaries[-1]}" if summaries else "")
    body: list[Part] = []
    if len(summaries) > 1:
        body.append(Prose("\n".join(f"{n}. {s}" for n, s in enumerate(summaries, 1))))
    thought = _prose(text(block.get("thinking")))
    body += thought or [Caption("(the thinking is hidden)")]
    if block.get("truncated"):
        body.append(Caption("(the thinking was truncated)"))
    if block.get("cut_off"):
        body.append(Caption("(cut off: the reply was stopped)"))
    return Fold(summary, tuple(body))


def artifact_language(spec: Mapping[str, Any]) -> str:
    kind = text(spec.get("type"))
    if kind == "application/vnd.ant.code" or not kind:
        return text(spec.get("language")) or "text"
    return ARTIFACT_LANGUAGES.get(kind, text(spec.get("language")) or "text")


def artifact_parts(spec: Mapping[str, Any]) -> list[Part]:
    command = text(spec.get("command")) or "create"
    title = text(spec.get("title")) or text(spec.get("id")) or "untitled"
    kind = text(spec.get("type"))
    about = ", ".join(x for x in (command, kind) if x)
    caption = Caption(f"Artifact: {title} ({about})")
    if command == "update" or ("old_str" in spec and "content" not in spec):
        diff = "\n".join(
            [f"-{line}" for line in text(spec.get("old_str")).splitlines()]
            + [f"+{line}" for line in text(spec.get("new_str")).splitlines()]
        )
        return [caption, Code(diff, "diff")]
    if "content" in spec:
        code = Code(text(spec.get("content")), artifact_language(spec))
        return [caption, code, *sources_parts(spec)]
    return [caption, Code(as_json(dict(spec)), "json")]


def research_sources(spec: Mapping[str, Any]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """A research report's `md_citations`: (title, url, [(title, url) of its sources]) each,
    in the order they are cited, one entry per url."""
    found: dict[str, tuple[str, str, list[tuple[str, str]]]] = {}
    for cited in items(spec.get("md_citations")):
        url = text(cited.get("url"))
        title = text(cited.get("title")) or url
        sources = []
        for source in items(cited.get("sources")):
            link_url = text(source.get("url"))
            if link_url and link_url != url:
                name = text(source.get("title")) or link_url
                site = text(source.get("source"))
                sources.append(
                    (name + (f" ({site})" if site and site not in name else ""), link_url)
                )
        key = url or title
        if not key:
            continue
        if key in found:
            found[key][2].extend(s for s in sources if s not in found[key][2])
        else:
            found[key] = (title, url, sources)
    return list(found.values())


def sources_parts(spec: Mapping[str, Any]) -> list[Part]:
    cited = research_sources(spec)
    if not cited:
        return []
    links: list[tuple[str, str]] = []
    for title, url, sources in cited:
        links.append((title, url))
        links += [(f"↳ {name}", link_url) for name, link_url in sources]
    return [Caption(f"Sources ({len(cited)})"), Links(tuple(dict.fromkeys(links)))]


def tool_use_part(block: Mapping[str, Any]) -> Fold:
    name = text(block.get("name")) or "tool"
    caption = text(block.get("message"))
    shown = caption and caption.strip().casefold() != name.casefold()
    summary = f"Tool call: {name}" + (f" — {caption}" if shown else "")
    display = mapping(block.get("display_content"))
    body: Part
    if display.get("type") == "code_block" and isinstance(display.get("code"), str):
        body = Code(
            display["code"], text(display.get("language")) or "text", text(display.get("filename"))
        )
    elif display.get("type") == "json_block" and isinstance(display.get("json_block"), str):
        body = Code(display["json_block"], "json")
    else:
        body = Code(as_json(block.get("input")), "json")
    return Fold(summary, (body,))


def tool_result_part(block: Mapping[str, Any]) -> Fold:
    name = text(block.get("name")) or "tool"
    summary = f"Tool result: {name}" + (" (error)" if block.get("is_error") else "")
    body: list[Part] = []
    content = block.get("content")
    if isinstance(content, str):
        body.extend(_prose(content))
    for item in items(content):
        body.extend(result_item_parts(item))
    if not body:
        body = [Caption("(no output)")]
    return Fold(summary, tuple(body))


def result_item_parts(item: Mapping[str, Any]) -> list[Part]:
    kind = text(item.get("type"))
    if kind == "text":
        return _prose(text(item.get("text")))
    if kind == "knowledge":
        site = text(mapping(item.get("metadata")).get("site_name"))
        title = text(item.get("title")) or text(item.get("url"))
        parts: list[Part] = [
            Links(((title + (f" ({site})" if site else ""), text(item.get("url"))),))
        ]
        return parts + _prose(text(item.get("text")))
    if kind == "image":
        return [Caption(f"Image {text(item.get('file_uuid')) or ''}".strip())]
    if kind == "local_resource":
        name = text(item.get("name")) or text(item.get("file_path"))
        return [Caption(f"File: {name} ({text(item.get('file_path'))})")]
    return [Code(as_json(dict(item)), "json")]


def attachment_part(attachment: Mapping[str, Any]) -> Fold:
    name = text(attachment.get("file_name"))
    details = [text(attachment.get("file_type"))]
    size = attachment.get("file_size")
    if isinstance(size, int) and not isinstance(size, bool):
        details.append(human_size(size))
    about = ", ".join(d for d in details if d)
    summary = f"Attachment: {name or 'pasted text'}" + (f" ({about})" if about else "")
    extracted = text(attachment.get("extracted_content"))
    body: Part = Code(extracted, language_of(name)) if extracted else Caption("(no text)")
    return Fold(summary, (body,))


def file_part(ref: Mapping[str, Any]) -> Caption:
    name = text(ref.get("file_name")) or text(ref.get("file_uuid")) or "file"
    size = ref.get("size_bytes")
    details = [text(ref.get("file_kind"))]
    if isinstance(size, int) and not isinstance(size, bool):
        details.append(human_size(size))
    details.append(text(ref.get("path")))
    about = ", ".join(d for d in details if d)
    return Caption(f"File: {name}" + (f" ({about})" if about else ""))


def source_name(source: Mapping[str, Any]) -> str:
    for key in ("name", "title", "url", "uri", "uuid", "type"):
        if text(source.get(key)):
            return text(source.get(key))
    return "unknown"


def legacy_text_parts(value: str) -> list[Part]:
    """2024-era messages: Markdown with inline `<antArtifact>` and `<antThinking>` tags."""
    parts: list[Part] = []
    position = 0
    for match in _LEGACY_RE.finditer(value):
        parts.extend(_prose(value[position : match.start()]))
        if match.group(3) is not None:
            parts.append(Fold("Thinking", tuple(_prose(match.group(3))) or (Caption("(empty)"),)))
        else:
            attrs = dict(_ATTR_RE.findall(match.group(1)))
            spec = {
                "title": attrs.get("title") or attrs.get("identifier"),
                "type": attrs.get("type"),
                "language": attrs.get("language"),
                "content": match.group(2).strip("\n"),
            }
            parts.extend(artifact_parts({k: v for k, v in spec.items() if v is not None}))
        position = match.end()
    parts.extend(_prose(value[position:]))
    return parts


def language_of(file_name: str) -> str:
    match = _EXTENSION_RE.search(file_name)
    if match is None or match.group(1).lower() == "txt":
        return "text"
    return match.group(1).lower()


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def plain_text(parts: Sequence[Part]) -> Iterator[str]:
    """The words of parts, for search."""
    for part in parts:
        if isinstance(part, Prose):
            yield part.text
        elif isinstance(part, Code):
            yield part.title
            yield part.code
        elif isinstance(part, Caption):
            yield part.text
        elif isinstance(part, Links):
            for title, url in part.items:
                yield f"{title} {url}"
        else:
            yield part.summary
            yield from plain_text(part.body)
