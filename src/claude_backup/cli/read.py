"""Reading the archive: `show`, `log`, `export`, `search`, `import`. No network.

Each command finds its archive like `sync` does (see locate.py): --archive, else
$CLAUDE_BACKUP_ARCHIVE, else the archive around the current folder, else the default one.
Heavy modules (dulwich, markdown-it, pygments) load only inside the command that needs them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from claude_backup.cli.common import DebugOption, run_command

if TYPE_CHECKING:
    from claude_backup.read.search import Hit, Query, Version
    from claude_backup.read.source import DiskSnapshot

ArchiveOption = Annotated[
    Path | None,
    typer.Option(
        "--archive",
        "-a",
        help="The archive. Default: $CLAUDE_BACKUP_ARCHIVE, else the archive you are in, "
        "else your user data folder.",
        show_default=False,
    ),
]
BRANCHES = ("current", "all")


def _root(archive: Path | None) -> Path:
    from claude_backup.locate import find_archive
    from claude_backup.read.source import require_archive

    return require_archive(find_archive(archive))


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    from claude_backup.errors import UsageError

    if value not in allowed:
        raise UsageError(f"{option} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def show(
    chat: Annotated[str, typer.Argument(help="A chat uuid, the start of one, or title words.")],
    at: Annotated[
        str | None,
        typer.Option(
            help="Show the chat as it was at this revision: a sha, HEAD~2, a date.",
            show_default=False,
        ),
    ] = None,
    branch: Annotated[
        str, typer.Option(help="current: the branch selected on claude.ai; all: every branch.")
    ] = "current",
    fmt: Annotated[str, typer.Option("--format", help="md or json.")] = "md",
    archive: ArchiveOption = None,
    debug: DebugOption = False,
) -> None:
    """Print one chat as Markdown (or its JSON), now or at any past sync."""

    def work() -> int:
        from claude_backup.model.canonical import json_bytes
        from claude_backup.read.markdown import render_chat
        from claude_backup.read.source import DiskSnapshot, find_chat, load_chat, org_name
        from claude_backup.read.tree import MessageTree

        mode = _choice(branch, BRANCHES, "--branch")
        kind = _choice(fmt, ("md", "json"), "--format")
        root = _root(archive)
        if at is not None:
            from claude_backup.archive.history import History

            snapshot: Any = History(root).snapshot(at)
        else:
            snapshot = DiskSnapshot(root)
        file = find_chat(snapshot, chat)
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
        typer.echo(render_chat(data, "all" if mode == "all" else "current", extra), nl=False)
        return 0

    run_command(work, debug)


def log(
    chat: Annotated[str, typer.Argument(help="A chat uuid, the start of one, or title words.")],
    archive: ArchiveOption = None,
    debug: DebugOption = False,
) -> None:
    """The history of one chat across syncs: created, updated, renamed, deleted."""

    def work() -> int:
        from claude_backup.archive.history import History, HistorySnapshot, chat_log
        from claude_backup.read.markdown import chat_title, format_time
        from claude_backup.read.source import DiskSnapshot, NoMatch, find_chat, load_chat

        root = _root(archive)
        history = History(root)
        snapshot: Any = DiskSnapshot(root)
        try:
            file = find_chat(snapshot, chat)
        except NoMatch:
            snapshot = HistorySnapshot(history)  # pruned since: look in the history
            file = find_chat(snapshot, chat)
        latest = load_chat(snapshot, file)
        events = chat_log(history, file.uuid)
        typer.echo(f"{chat_title(latest)}  {file.uuid}")
        typer.echo(f"created on claude.ai {format_time(latest.get('created_at'))}")
        if not events:
            typer.echo("not committed yet: run sync to commit it")
        for event in events:
            typer.echo(f"{event.when}  {event.commit}  {event.what}")
        return 0

    run_command(work, debug)


def export(
    out: Annotated[Path, typer.Argument(help="The folder to write (new, empty, or an export).")],
    fmt: Annotated[str, typer.Option("--format", help="md or html.")] = "html",
    branch: Annotated[str, typer.Option(help="Markdown only: all or current.")] = "all",
    archive: ArchiveOption = None,
    debug: DebugOption = False,
) -> None:
    """Render every chat: Markdown files, or a static website that works offline."""

    def work() -> int:
        from claude_backup.read.export import export as run_export
        from claude_backup.read.export import project_names
        from claude_backup.read.source import DiskSnapshot

        kind = _choice(fmt, ("md", "html"), "--format")
        mode = _choice(branch, BRANCHES, "--branch")
        root = _root(archive)
        count = run_export(
            DiskSnapshot(root),
            out,
            "md" if kind == "md" else "html",
            branch="all" if mode == "all" else "current",
            projects=project_names(root),
            archive=root,
        )
        where = out / ("index.html" if kind == "html" else "index.md")
        typer.echo(f"{count} chats exported; open {where}")
        return 0

    run_command(work, debug)


def search(
    query: Annotated[list[str], typer.Argument(help='Words (all must match) or "a phrase".')],
    all_history: Annotated[
        bool, typer.Option(help="Also search versions since edited, renamed or deleted.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many chats.")] = 50,
    archive: ArchiveOption = None,
    debug: DebugOption = False,
) -> None:
    """Find chats by their title and message text."""

    def work() -> int:
        from claude_backup.read.search import Query
        from claude_backup.read.search import search as run_search
        from claude_backup.read.source import DiskSnapshot

        parsed = Query.parse(" ".join(_quote(q) for q in query))
        root = _root(archive)
        snapshot = DiskSnapshot(root)
        hits = run_search(snapshot, parsed)
        if all_history:
            hits += _history_hits(root, snapshot, parsed)
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        for hit in hits[:limit]:
            _print_hit(hit, color)
        if len(hits) > limit:
            typer.echo(f"… {len(hits) - limit} more; use --limit to see them")
        if not hits:
            typer.echo("no chat matches", err=True)
            return 1
        return 0

    run_command(work, debug)


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
        list[Path], typer.Argument(help="The export: its zip(s), or the unpacked folder.")
    ],
    account: Annotated[
        str | None,
        typer.Option(
            help="Whose export it is (an email or account uuid), for exports whose chats do "
            "not say (older exports without users.json). Default: the export's only user, "
            "or the archive's only account.",
            show_default=False,
        ),
    ] = None,
    archive: ArchiveOption = None,
    debug: DebugOption = False,
) -> None:
    """Import Claude.ai's data export (Settings → Privacy → Export data) as one commit.

    Chats already backed up from the API are kept as they are; a later sync replaces
    imported copies with the API's richer ones. An import that can import nothing fails.
    """

    def work() -> int:
        from claude_backup.locate import find_archive
        from claude_backup.sync.importer import import_export as run_import

        root = find_archive(archive)
        report = run_import(root, exports, account)
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

    run_command(work, debug)


def register(app: typer.Typer) -> None:
    app.command()(show)
    app.command()(log)
    app.command()(export)
    app.command()(search)
    app.command("import")(import_export)
