"""The archive as a static, self-contained website: works offline from file://, no CDN.

    OUTDIR/index.html            every chat: search box, organization and project filters,
                                 columns sortable by date
    OUTDIR/chats/<uuid>.html     one chat; every branch, switchable (a branch menu, and
                                 "< 2 / 3 >" at each edited prompt or retried reply)
    OUTDIR/assets/               style, scripts, the search index

Chat text is Markdown rendered by markdown-it-py with raw HTML disabled (chat content is never
trusted as markup), code highlighted by Pygments.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from claude_backup.archive.files import write_atomic
from claude_backup.read import assets
from claude_backup.read.markdown import (
    INFERRED,
    SAFE_SCHEMES,
    chat_title,
    format_time,
    sender_name,
)
from claude_backup.read.parts import (
    ArtifactKinds,
    Caption,
    Code,
    Links,
    Part,
    Prose,
    artifact_kinds,
    message_parts,
    text,
)
from claude_backup.read.search import chat_units
from claude_backup.read.tree import ROOT, MessageTree, fork_kind

LEXER_ALIASES = {"svg": "xml", "jsx": "jsx", "sh": "bash", "shell": "bash"}
FORK_TITLES = {"edit": "edited prompt", "retry": "retried reply", "mixed": "branches"}


@dataclass(frozen=True)
class ChatEntry:
    """What the index shows of one chat."""

    chat: Mapping[str, Any]
    uuid: str
    org: str
    project: str
    deleted: bool
    path: str
    uploads: tuple[Upload, ...] = ()


@dataclass(frozen=True)
class Upload:
    """A file the chat's messages name whose bytes the export copied: shown or linked."""

    name: str
    href: str  # relative to the site's root
    image: bool


def uploads_html(uploads: Sequence[Upload]) -> str:
    """The chat's uploaded files at the end of its page: images shown, other files linked."""
    if not uploads:
        return ""
    items = []
    for upload in uploads:
        href = f"../{esc(upload.href)}"
        if upload.image:
            items.append(
                f'<figure><a href="{href}"><img src="{href}" alt="{esc(upload.name)}" '
                f'loading="lazy"></a><figcaption>{esc(upload.name)}</figcaption></figure>'
            )
        else:
            items.append(f'<figure class="file"><a href="{href}">{esc(upload.name)}</a></figure>')
    return f'<section class="uploads"><h2>Uploaded files</h2>{"".join(items)}</section>'


def esc(value: object) -> str:
    return html.escape(value if isinstance(value, str) else "", quote=True)


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    name = LEXER_ALIASES.get(language.lower(), language.lower())
    try:
        return get_lexer_by_name(name)
    except ClassNotFound:
        return None


def highlight_code(code: str, language: str) -> str:
    """HTML spans for `code` (no wrapper): highlighted if Pygments knows the language."""
    lexer = _lexer(language) if language else None
    if lexer is None:
        return html.escape(code)
    return highlight(code, lexer, HtmlFormatter(nowrap=True))


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    def fence(code: str, language: str, _attrs: str) -> str:
        return highlight_code(code, language.split()[0] if language else "")

    md = MarkdownIt("commonmark", {"html": False, "highlight": fence})
    return md.enable(["table", "strikethrough"])


def render_part(part: Part) -> str:
    if isinstance(part, Prose):
        rendered: str = _markdown().render(part.text)
        return rendered
    if isinstance(part, Code):
        caption = f"<figcaption>{esc(part.title)}</figcaption>" if part.title else ""
        lang = esc(part.language)
        body = highlight_code(part.code.rstrip("\n"), part.language)
        return (
            f'<figure class="code">{caption}<pre class="highlight"><code class="language-{lang}">'
            f"{body}</code></pre></figure>"
        )
    if isinstance(part, Caption):
        return f'<p class="caption">{esc(part.text)}</p>'
    if isinstance(part, Links):
        return "<ul>" + "".join(f"<li>{link(t, u)}</li>" for t, u in part.items) + "</ul>"
    body = "".join(render_part(p) for p in part.body)
    return f"<details><summary>{esc(part.summary)}</summary>{body}</details>"


def link(title: str, url: str) -> str:
    if not url.startswith(SAFE_SCHEMES):
        return esc(title or url)
    return f'<a href="{esc(url)}" rel="noopener noreferrer">{esc(title or url)}</a>'


def page(title: str, body: str, depth: int, scripts: Sequence[str] = ()) -> str:
    up = "../" * depth
    tags = "".join(f'<script src="{up}assets/{s}"></script>' for s in scripts)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title>"
        f'<link rel="stylesheet" href="{up}assets/style.css">'
        f'<link rel="stylesheet" href="{up}assets/pygments.css">'
        f"</head><body><main>{body}</main>{tags}</body></html>\n"
    )


def chat_page(entry: ChatEntry) -> str:
    chat = entry.chat
    tree = MessageTree.from_chat(chat)
    current = tree.current_leaf(chat)
    leaves = tree.leaves()
    facts = [
        f"<li>{esc(entry.org)}</li>",
        f"<li>Created {esc(format_time(chat.get('created_at')))}</li>",
        f"<li>Updated {esc(format_time(chat.get('updated_at')))}</li>",
    ]
    if text(chat.get("model")):
        facts.append(f"<li>{esc(chat.get('model'))}</li>")
    if tree.inferred:
        facts.append(f"<li>Thread {esc(INFERRED)}</li>")
    if entry.deleted:
        facts.append('<li><span class="badge">deleted on claude.ai</span></li>')
    facts.append(f"<li><code>{esc(entry.uuid)}</code></li>")
    parts = [
        '<p><a href="../index.html">← All chats</a></p>',
        f"<h1>{esc(chat_title(chat))}</h1>",
        f'<ul class="facts">{"".join(facts)}</ul>',
    ]
    summary = text(chat.get("summary")).strip()
    if summary:
        parts.append(f'<div class="summary">{_markdown().render(summary)}</div>')
    if len(leaves) > 1:
        parts.append(branch_bar(tree, leaves, current))
    kinds = artifact_kinds([tree.messages[key] for key in tree.order])
    parts.extend(message_html(tree, key, kinds) for key in tree.order)
    if not len(tree):
        parts.append("<p><em>No messages.</em></p>")
    parts.append(uploads_html(entry.uploads))
    data = {
        "parent": {k: _key(v) for k, v in tree.parent.items()},
        "children": {_key(k): v for k, v in tree.children.items()},
        "current": current,
    }
    script = json.dumps(data).replace("</", "<\\/")
    parts.append(f'<script type="application/json" id="tree">{script}</script>')
    return page(chat_title(chat), "".join(parts), 1, ["chat.js"])


def _key(key: str) -> str:
    return "root" if key == ROOT else key


def branch_bar(tree: MessageTree, leaves: Sequence[str], current: str | None) -> str:
    options = []
    for n, leaf in enumerate(leaves, 1):
        last = tree.messages[leaf]
        mark = " (current)" if leaf == current else ""
        label = f"Branch {n} of {len(leaves)}, ending {format_time(last.get('created_at'))}{mark}"
        selected = " selected" if leaf == current else ""
        options.append(f'<option value="{esc(leaf)}"{selected}>{esc(label)}</option>')
    return (
        '<div class="branchbar"><label>Branch: <select id="branch">'
        f"{''.join(options)}</select></label></div>"
    )


def message_html(tree: MessageTree, key: str, artifacts: ArtifactKinds | None = None) -> str:
    message = tree.messages[key]
    sender = text(message.get("sender")) or "unknown"
    siblings = tree.siblings(key)
    nav = ""
    fork = ""
    if len(siblings) > 1:
        position = siblings.index(key) + 1
        nav = (
            '<span class="sib"><button data-step="prev" title="Previous version">&lsaquo;</button> '
            f'<span class="pos">{position} / {len(siblings)}</span> '
            '<button data-step="next" title="Next version">&rsaquo;</button></span>'
        )
        kind = FORK_TITLES[fork_kind(tree, siblings)]
        fork = f'<div class="fork">Version {position} of {len(siblings)} ({kind})</div>'
    body = (
        "".join(render_part(p) for p in message_parts(message, artifacts))
        or "<p><em>(empty)</em></p>"
    )
    return (
        f'<article class="msg {esc(sender)}" id="m-{esc(key)}" data-id="{esc(key)}">'
        f"{fork}<header><strong>{esc(sender_name(message))}</strong>"
        f"<time>{esc(format_time(message.get('created_at')))}</time>{nav}</header>"
        f"{body}</article>"
    )


def index_page(entries: Sequence[ChatEntry], generated: str) -> str:
    orgs = sorted({e.org for e in entries})
    projects = sorted({e.project for e in entries if e.project})
    rows = []
    for i, entry in enumerate(entries):
        chat = entry.chat
        messages = len(MessageTree.from_chat(chat))
        cls = ' class="deleted"' if entry.deleted else ""
        rows.append(
            f'<tr data-i="{i}" data-org="{esc(entry.org)}" data-project="{esc(entry.project)}"'
            f' data-title="{esc(chat_title(chat).casefold())}" data-messages="{messages}"'
            f' data-created="{esc(chat.get("created_at"))}"'
            f' data-updated="{esc(chat.get("updated_at"))}"{cls}>'
            f'<td><a href="chats/{esc(entry.uuid)}.html">{esc(chat_title(chat))}</a>'
            f"{' <span class=badge>deleted</span>' if entry.deleted else ''}"
            '<div class="snippet"></div></td>'
            f"<td>{esc(entry.org)}</td><td>{esc(entry.project)}</td>"
            f'<td class="num">{messages}</td>'
            f'<td class="date">{esc(format_time(chat.get("created_at"))[:10])}</td>'
            f'<td class="date">{esc(format_time(chat.get("updated_at"))[:10])}</td></tr>'
        )
    org_options = "".join(f'<option value="{esc(o)}">{esc(o)}</option>' for o in orgs)
    project_options = "".join(f'<option value="{esc(p)}">{esc(p)}</option>' for p in projects)
    body = (
        "<h1>Claude.ai archive</h1>"
        f'<p class="count">{len(entries)} chats · exported {esc(generated)}</p>'
        '<div class="controls">'
        '<input id="q" type="search" placeholder="Search titles and messages" autofocus>'
        f'<select id="org"><option value="">All organizations</option>{org_options}</select>'
        f'<select id="project"><option value="">All projects</option>{project_options}</select>'
        '<label><input type="checkbox" id="deleted" checked> deleted chats</label>'
        '<span id="count" class="count"></span></div>'
        '<table class="chats"><thead><tr>'
        '<th data-sort="title">Title</th><th data-sort="org">Organization</th>'
        '<th data-sort="project">Project</th><th data-sort="messages">Messages</th>'
        '<th data-sort="created">Created</th>'
        '<th data-sort="updated" aria-sort="descending">Updated</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return page("Claude.ai archive", body, 0, ["search-index.js", "index.js"])


def search_index(entries: Sequence[ChatEntry]) -> str:
    items = []
    for entry in entries:
        units = chat_units(entry.chat)
        items.append({"title": chat_title(entry.chat), "text": " ".join(u[1] for u in units[1:])})
    return "window.CLAUDE_ARCHIVE_INDEX = " + json.dumps(items, ensure_ascii=False) + ";\n"


def write_site(out: Path, entries: Sequence[ChatEntry]) -> int:
    """Write the site into `out`; returns the number of chat pages."""
    entries = sorted(entries, key=lambda e: (text(e.chat.get("updated_at")), e.uuid), reverse=True)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    pygments_css = HtmlFormatter(style="friendly").get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    files = {
        "assets/style.css": assets.STYLE,
        "assets/pygments.css": pygments_css,
        "assets/index.js": assets.INDEX_JS,
        "assets/chat.js": assets.CHAT_JS,
        "assets/search-index.js": search_index(entries),
        "index.html": index_page(entries, generated),
    }
    for name, content in files.items():
        write_atomic(out / name, content.encode("utf-8"))
    for entry in entries:
        write_atomic(out / "chats" / f"{entry.uuid}.html", chat_page(entry).encode("utf-8"))
    return len(entries)
