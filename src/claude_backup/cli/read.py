"""Reading the archive: `show`, `log`, `export`, `search`, `import`. No network.

Each command finds its archive like `sync` does (see locate.py): -a/--archive, else
$CLAUDE_BACKUP_ARCHIVE, else the archive around the current folder, else the config file's,
else the one used last, else the default one; one found without being named is said on stderr.
Heavy modules (dulwich, markdown-it, pygments) load only inside the command that needs them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from claude_backup.cli.common import (
    ArchiveOption,
    DebugOption,
    JsonOption,
    run_command,
    which_archive,
)
from claude_backup.text import plural

if TYPE_CHECKING:
    from claude_backup.read.search import Hit, Query, Version
    from claude_backup.read.source import DiskSnapshot

BRANCHES = ("current", "all")
ChatWords = Annotated[
    list[str],
    typer.Argument(
        metavar="CHAT", help="A chat uuid, the start of one, or title words.", show_default=False
    ),
]


def _root(archive: Path | None, *, announce: bool = True) -> Path:
    from claude_backup.locate import remember
    from claude_backup.read.source import require_archive

    root = require_archive(which_archive(None, archive, announce=announce).path.absolute())
    remember(root)
    return root


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    from claude_backup.errors import UsageError

    if value not in allowed:
        raise UsageError(f"{option} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def show(
    chat: ChatWords,
    at: Annotated[
        str | None,
        typer.Option(
            metavar="REV",
            help="Show the chat as it was at this revision: a sha, HEAD~2, a date.",
            show_default=False,
        ),
    ] = None,
    branch: Annotated[
        str,
        typer.Option(
            metavar="current|all",
            help="current: the branch selected on claude.ai; all: every branch.",
        ),
    ] = "current",
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="md|json",
            help="md: Markdown as stored; json: the chat's JSON. [default: md; on a terminal, "
            "rendered in a pager]",
            show_default=False,
        ),
    ] = None,
    archive: ArchiveOption = None,
    debug: DebugOption = False,
) -> None:
    """Print one chat as Markdown (or its JSON), now or at any past sync.

    Examples: `claude-backup show Plan a trip`, `claude-backup show 4ba4 --at HEAD~2`.
    """

    def work() -> int:
        from claude_backup.model.canonical import json_bytes
        from claude_backup.read.markdown import render_chat
        from claude_backup.read.source import DiskSnapshot, find_chat, load_chat, org_name
        from claude_backup.read.tree import MessageTree

        mode = _choice(branch, BRANCHES, "--branch")
        kind = _choice(fmt or "md", ("md", "json"), "--format")
        root = _root(archive)
        if at is not None:
            from claude_backup.archive.history import History

            snapshot: Any = History(root).snapshot(at)
        else:
            snapshot = DiskSnapshot(root)
        file = find_chat(snapshot, " ".join(chat))
        data = load_chat(snapshot, file)
        if kind == "json":
            if mode == "current":
                tree = MessageTree.from_chat(data)
                keep = set(tree.current_path(data))
                data["chat_messages"] = [tree.messages[k] for k in tree.order if k in keep]
            typer.echo(json_bytes(data).decode("utf-8"), nl=False)
            return 0
        extra = [("Organization", org_name(snapshot, file)), ("File", file.path)]
        if file.location.deleted:
            extra.append(("Deleted on claude.ai", "yes"))
        if at is not None:
            extra.append(("As of", snapshot.label))
        text = render_chat(data, "all" if mode == "all" else "current", extra)
        if fmt is None and sys.stdout.isatty():
            from claude_backup.cli.terminal import page_markdown

            page_markdown(text)
        else:
            typer.echo(text, nl=False)
        return 0

    run_command(work, debug)


def log(
    chat: ChatWords,
    archive: ArchiveOption = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """The history of one chat across syncs: created, updated, renamed, deleted."""

    def work() -> int:
        from claude_backup.archive.history import History, HistorySnapshot, chat_log
        from claude_backup.read.markdown import chat_title, format_time
        from claude_backup.read.source import DiskSnapshot, NoMatch, find_chat, load_chat

        root = _root(archive, announce=not json_output)
        history = History(root)
        snapshot: Any = DiskSnapshot(root)
        name = " ".join(chat)
        try:
            file = find_chat(snapshot, name)
        except NoMatch:
            snapshot = HistorySnapshot(history)  # pruned since: look in the history
            file = find_chat(snapshot, name)
        latest = load_chat(snapshot, file)
        events = chat_log(history, file.uuid)
        if json_output:
            data = {
                "archive": str(root),
                "chat": file.uuid,
                "title": chat_title(latest),
                "file": str(root / file.path),
                "created_at": latest.get("created_at"),
                "events": [{"when": e.when, "commit": e.commit, "what": e.what} for e in events],
            }
            typer.echo(json.dumps(data, ensure_ascii=False))
            return 0
        typer.echo(f"{chat_title(latest)}  {file.uuid}")
        typer.echo(f"created on claude.ai {format_time(latest.get('created_at'))}")
        if not events:
            typer.echo("not committed yet: run sync to commit it")
        for event in events:
            typer.echo(f"{event.when}  {event.commit}  {event.what}")
        return 0

    run_command(work, debug, json_output=json_output)


def export(
    out: Annotated[
        Path,
        typer.Argument(
            metavar="OUTDIR", help="The folder to write (new, empty, or an export of this format)."
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", metavar="html|md", help="A website, or Markdown files.")
    ] = "html",
    branch: Annotated[
        str,
        typer.Option(metavar="all|current", help="Markdown only: every branch, or the current."),
    ] = "all",
    archive: ArchiveOption = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Render every chat: Markdown files, or a static website that works offline."""

    def work() -> int:
        from claude_backup.read.export import export as run_export
        from claude_backup.read.export import project_names
        from claude_backup.read.source import DiskSnapshot

        kind = _choice(fmt, ("md", "html"), "--format")
        mode = _choice(branch, BRANCHES, "--branch")
        root = _root(archive, announce=not json_output)
        count = run_export(
            DiskSnapshot(root),
            out,
            "md" if kind == "md" else "html",
            branch="all" if mode == "all" else "current",
            projects=project_names(root),
            archive=root,
        )
        where = out.absolute() / ("index.html" if kind == "html" else "index.md")
        if json_output:
            data = {"archive": str(root), "out": str(out.absolute()), "index": str(where)}
            typer.echo(json.dumps({**data, "format": kind, "chats": count}, ensure_ascii=False))
            return 0
        typer.echo(f"{plural(count, 'chat')} exported from {root}; open {where}")
        return 0

    run_command(work, debug, json_output=json_output)


def search(
    query: Annotated[
        list[str], typer.Argument(metavar="WORDS", help='Words (all must match) or "a phrase".')
    ],
    all_history: Annotated[
        bool,
        typer.Option(
            "--all-history", help="Also search versions since edited, renamed or deleted."
        ),
    ] = False,
    limit: Annotated[
        int, typer.Option(min=1, metavar="N", help="Show at most this many chats.")
    ] = 50,
    archive: ArchiveOption = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Find chats by their title and message text. Exit code 1 when nothing matches (as grep)."""

    def work() -> int:
        from claude_backup.read.search import Query
        from claude_backup.read.search import search as run_search
        from claude_backup.read.source import DiskSnapshot

        parsed = Query.parse(" ".join(_quote(q) for q in query))
        root = _root(archive, announce=not json_output)
        snapshot = DiskSnapshot(root)
        hits = run_search(snapshot, parsed)
        if all_history:
            hits += _history_hits(root, snapshot, parsed)
        if json_output:
            typer.echo(json.dumps(_hits_json(root, hits, limit), ensure_ascii=False))
            return 0 if hits else 1
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        for hit in hits[:limit]:
            _print_hit(hit, color)
        if len(hits) > limit:
            typer.echo(f"… {len(hits) - limit} more; use --limit to see them")
        if not hits:
            typer.echo("no chat matches", err=True)
            return 1
        return 0

    run_command(work, debug, json_output=json_output)


def _hits_json(root: Path, hits: list[Hit], limit: int) -> dict[str, Any]:
    return {
        "archive": str(root),
        "total": len(hits),
        "hits": [
            {
                "chat": hit.uuid,
                "title": hit.title,
                "file": str(root / hit.path),
                "updated_at": hit.updated_at,
                "where": hit.where or None,
                "snippet": hit.snippet,
            }
            for hit in hits[:limit]
        ],
    }


def _quote(word: str) -> str:
    """A shell argument with spaces was quoted on purpose: keep it a phrase."""
    return f'"{word}"' if " " in word.strip() and '"' not in word else word


def _history_hits(root: Path, snapshot: DiskSnapshot, query: Query) -> list[Hit]:
    from claude_backup.archive.history import History, commit_time, short
    from claude_backup.model.layout import ChatFile, parse_chat_path
    from claude_backup.read.search import Version, search_versions
    from claude_backup.read.source import parse_chat

    history = History(root)
    now = {f.uuid: f for f in snapshot.chat_files()}

    def current(uuid: str) -> dict[str, Any] | None:
        file = now.get(uuid)
        return parse_chat(snapshot.read(file.path), file.path) if file else None

    def versions() -> Iterator[Version]:
        seen: set[bytes] = set()
        for commit, changes in reversed(list(history.chat_changes())):
            for _old, new_path, _old_sha, new_sha in changes:
                if new_path is None or new_sha is None or new_sha in seen:
                    continue
                seen.add(new_sha)
                location = parse_chat_path(new_path)
                if location is None:
                    continue
                where = f"older version, in {short(commit)} of {commit_time(commit)}"
                yield Version(ChatFile(new_path, location), history.read_blob(new_sha), where)

    return list(search_versions(query, versions(), current))


def _print_hit(hit: Hit, color: bool) -> None:
    from claude_backup.model.layout import parse_chat_path
    from claude_backup.read.markdown import format_time

    location = parse_chat_path(hit.path)
    flags = " [deleted]" if location and location.deleted else ""
    flags += f" [{hit.where}]" if hit.where else ""
    title = typer.style(hit.title, bold=True) if color else hit.title
    typer.echo(f"{title}  {hit.uuid}  {format_time(hit.updated_at)[:10]}{flags}")
    pieces, last = [], 0
    for start, end in hit.spans:
        word = hit.snippet[start:end]
        pieces += [
            hit.snippet[last:start],
            typer.style(word, reverse=True) if color else f"**{word}**",
        ]
        last = end
    pieces.append(hit.snippet[last:])
    typer.echo("    " + "".join(pieces))


def import_export(
    exports: Annotated[
        list[Path],
        typer.Argument(metavar="EXPORT", help="The export: its zip(s), or the unpacked folder."),
    ],
    account: Annotated[
        str | None,
        typer.Option(
            metavar="EMAIL|UUID",
            help="Whose export it is (an email or account uuid), for exports whose chats do "
            "not say (older exports without users.json). Default: the export's only user, "
            "or the archive's only account.",
            show_default=False,
        ),
    ] = None,
    archive: ArchiveOption = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Import Claude.ai's data export (Settings → Privacy → Export data) as one commit.

    Chats already backed up from the API are kept as they are; a later sync replaces
    imported copies with the API's richer ones. An import that can import nothing fails.
    """

    def work() -> int:
        from claude_backup.locate import remember
        from claude_backup.sync.importer import import_export as run_import

        root = which_archive(None, archive, announce=not json_output).path.absolute()
        report = run_import(root, exports, account)
        remember(root)
        if json_output:
            data = {"archive": str(root), **asdict(report)}
            typer.echo(json.dumps(data, ensure_ascii=False))
            return 0
        for reason in report.skipped:
            typer.echo(f"claude-backup: skipped {reason}", err=True)
        counts = (
            f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.kept} kept (already backed up from the API)"
            + (f", {report.artifacts} artifacts" if report.artifacts else "")
        )
        if report.commit:
            typer.echo(f"imported: {counts}; committed {report.commit[:12]} in {root}")
        else:
            typer.echo(f"nothing to import: {counts}")
        return 0

    run_command(work, debug, json_output=json_output)


def register(app: typer.Typer) -> None:
    app.command()(show)
    app.command()(log)
    app.command()(export)
    app.command()(search)
    app.command("import")(import_export)
