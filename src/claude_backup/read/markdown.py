"""A chat as clean Markdown: title and facts, then each message; one branch or the whole tree.

Pure. Chat text is Markdown already and is kept as written, except that an unclosed code fence
is closed, so one message cannot swallow the rest of the document. Thinking, tool calls and
attachments are collapsed `<details>`; artifacts are fenced code in their language.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import timezone
from typing import Any, Literal

from claude_backup.model.timestamps import api_time
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
from claude_backup.read.tree import Branch, Fork, MessageTree, walk_all

BranchMode = Literal["current", "all"]
SENDERS = {"human": "Human", "assistant": "Claude"}
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_ESCAPE_RE = re.compile(r"([\\`*_\[\]<>#|~])")
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def format_time(value: object) -> str:
    """`2026-03-01 10:05 UTC` from an API timestamp (`...Z` or `+00:00`); others as given."""
    moment = api_time(value)
    if moment is None:
        return text(value)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def escape(value: str) -> str:
    """Plain text that Markdown shows as written, on one line."""
    return _ESCAPE_RE.sub(r"\\\1", " ".join(value.split()))


def chat_title(chat: Mapping[str, Any]) -> str:
    return " ".join(text(chat.get("name")).split()) or "(untitled)"


def sender_name(message: Mapping[str, Any]) -> str:
    sender = text(message.get("sender"))
    return SENDERS.get(sender, sender.capitalize() or "Unknown")


def close_fences(value: str) -> str:
    """`value`, plus a closing fence if it leaves a code fence open."""
    opened: str | None = None
    for line in value.splitlines():
        match = _FENCE_RE.match(line)
        if match is None:
            continue
        fence = match.group(1)
        if opened is None:
            if not (fence[0] == "`" and "`" in match.group(2)):
                opened = fence
        elif fence[0] == opened[0] and len(fence) >= len(opened) and not match.group(2).strip():
            opened = None
    return value if opened is None else f"{value.rstrip()}\n{opened}"


def fence_for(code: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)


def link(title: str, url: str) -> str:
    label = escape(title or url)
    if not url.startswith(SAFE_SCHEMES) or any(c in url for c in "<>\n"):
        return label
    return f"[{label}](<{url.replace(' ', '%20')}>)"


def render_part(part: Part) -> str:
    if isinstance(part, Prose):
        return close_fences(part.text.strip("\n"))
    if isinstance(part, Code):
        fence = fence_for(part.code)
        title = f"*{escape(part.title)}*\n\n" if part.title else ""
        return f"{title}{fence}{part.language}\n{part.code.rstrip(chr(10))}\n{fence}"
    if isinstance(part, Caption):
        return f"**{escape(part.text)}**"
    if isinstance(part, Links):
        return "\n".join(f"- {link(title, url)}" for title, url in part.items)
    body = "\n\n".join(render_part(p) for p in part.body)
    summary = html.escape(" ".join(part.summary.split()))
    return f"<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>"


def render_message(
    message: Mapping[str, Any], *, level: int = 2, artifacts: ArtifactKinds | None = None
) -> str:
    when = format_time(message.get("created_at"))
    heading = f"{'#' * level} {sender_name(message)}" + (f" · {when}" if when else "")
    body = [render_part(p) for p in message_parts(message, artifacts)]
    return "\n\n".join([heading, *body]) if body else f"{heading}\n\n*(empty message)*"


def header(chat: Mapping[str, Any], extra: Sequence[tuple[str, str]] = ()) -> str:
    facts = [
        ("Created", format_time(chat.get("created_at"))),
        ("Updated", format_time(chat.get("updated_at"))),
        ("Model", text(chat.get("model"))),
        *extra,
        ("Project", text(chat.get("project_uuid"))),
        ("Chat", text(chat.get("uuid"))),
    ]
    lines = [f"# {escape(chat_title(chat))}", ""]
    lines += [f"- {name}: {_fact(name, value)}" for name, value in facts if value]
    if chat.get("is_starred") is True:
        lines.append("- Starred")
    summary = text(chat.get("summary")).strip()
    if summary:
        lines += ["", *(f"> {line}".rstrip() for line in close_fences(summary).splitlines())]
    return "\n".join(lines)


INFERRED = "rebuilt from the messages' times (an export has no message tree)"


def _fact(name: str, value: str) -> str:
    """A header value; a file path as code, so it can be copied as it is (no escapes)."""
    if name != "File":
        return escape(value)
    fence = "``" if "`" in value else "`"
    return f"{fence}{value}{fence}" if fence == "`" else f"{fence} {value} {fence}"


FORK_WORDS = {
    "edit": "versions of the next prompt (edited)",
    "retry": "versions of the next reply (retried)",
    "mixed": "branches",
}


def fork_line(fork: Fork) -> str:
    return f"---\n\n**⑂ Fork {fork.number}: {fork.count} {FORK_WORDS[fork.kind]}**"


def branch_line(branch: Branch) -> str:
    current = ", the current branch" if branch.current else ""
    return f"**↳ Branch {branch.label}** (version {branch.index} of {branch.count}{current})"


def render_chat(
    chat: Mapping[str, Any],
    branch: BranchMode = "current",
    extra: Sequence[tuple[str, str]] = (),
) -> str:
    """The whole document. `extra` adds facts to the header (organization, file, revision)."""
    tree = MessageTree.from_chat(chat)
    current = tree.current_path(chat)
    kinds = artifact_kinds([tree.messages[key] for key in tree.order])
    if tree.inferred:
        extra = [*extra, ("Thread", INFERRED)]
    blocks = [header(chat, extra)]
    if not len(tree):
        blocks.append("*(no messages)*")
    elif branch == "current":
        blocks += [render_message(tree.messages[key], artifacts=kinds) for key in current]
    else:
        leaves = len(tree.leaves())
        blocks.append(f"*{len(tree)} messages in {leaves} branch{'es' if leaves != 1 else ''}.*")
        for kind, value in walk_all(tree, current):
            if kind == "message":
                assert isinstance(value, str)
                blocks.append(render_message(tree.messages[value], artifacts=kinds))
            elif isinstance(value, Fork):
                blocks.append(fork_line(value))
            elif isinstance(value, Branch):
                blocks.append(branch_line(value))
    return "\n\n".join(blocks).rstrip() + "\n"
