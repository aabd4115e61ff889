"""Turn the archive's file changes into commits. Pure: file changes in, commit steps out.

A chat renamed on claude.ai gets a new file name *and* new content (its name is inside the
JSON). If both landed in one commit, a small file could change too much for git to see a
rename, and `git log --follow` would stop there. So when any file is both moved and modified,
the moves go first, in a commit of their own with the old content (a pure rename git always
detects), and the content changes follow in a second commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from claude_backup.model.changes import CommitStep, FileChange
from claude_backup.model.layout import parse_chat_path
from claude_backup.model.messages import NewChat, Side, Summary, describe_files, message
from claude_backup.model.naming import uuid_of


@dataclass(frozen=True)
class FileMove:
    old_path: str
    old_sha: bytes
    new_path: str
    new_sha: bytes


def identity(path: str) -> tuple[str, ...]:
    """What a file is, whatever its current name: a chat by its uuid, others by the uuids of
    their folders (so `x-<org>/organization.json` and `y-<org>/organization.json` match)."""
    location = parse_chat_path(path)
    if location is not None:
        return ("chat", location.chat_uuid)
    return tuple(uuid_of(part) or part for part in path.split("/"))


def pair_moves(changes: Sequence[FileChange]) -> tuple[list[FileMove], list[FileChange]]:
    """Match each removed file with the added file of the same identity."""
    if all(c.new_sha is not None for c in changes):
        return [], list(changes)  # nothing removed, nothing moved (a first sync, say)
    added = {identity(c.path): c for c in changes if c.old_sha is None and c.new_sha is not None}
    moves: list[FileMove] = []
    paired: set[str] = set()
    for change in changes:
        if change.new_sha is not None or change.old_sha is None:
            continue
        target = added.get(identity(change.path))
        if target is None or target.path in paired:
            continue
        assert target.new_sha is not None
        moves.append(FileMove(change.path, change.old_sha, target.path, target.new_sha))
        paired.update((change.path, target.path))
    rest = [c for c in changes if c.path not in paired]
    return moves, rest


def plan_commits(
    changes: Sequence[FileChange],
    read: Callable[[bytes], bytes],
    new_chats: Mapping[bytes, NewChat] | None = None,
) -> tuple[list[CommitStep], Summary]:
    """`read`: a blob's bytes by sha; `new_chats`: what some new blobs say, known already."""
    moves, rest = pair_moves(changes)
    known = new_chats or {}

    def side(path: str | None, sha: bytes | None) -> Side:
        chat = known.get(sha) if sha else None
        return Side(path if sha else None, sha=sha, read=read, chat=chat)

    pairs = [(side(m.old_path, m.old_sha), side(m.new_path, m.new_sha)) for m in moves]
    pairs += [(side(c.path, c.old_sha), side(c.path, c.new_sha)) for c in rest]
    summary = describe_files(pairs)
    final: list[tuple[str, bytes | None]] = [(c.path, c.new_sha) for c in rest]
    for m in moves:
        final += [(m.old_path, None), (m.new_path, m.new_sha)]
    if not any(m.old_sha != m.new_sha for m in moves):
        return [CommitStep(final, message(summary))], summary
    renames: list[tuple[str, bytes | None]] = []
    lines = []
    for m in moves:
        renames += [(m.old_path, None), (m.new_path, m.old_sha)]
        lines.append(_rename_line(m.old_path, m.new_path))
    final = [(c.path, c.new_sha) for c in rest]
    final += [(m.new_path, m.new_sha) for m in moves if m.new_sha != m.old_sha]
    first = (
        f"Sync: rename {len(moves)} files (their new content follows in the next commit)\n\n"
        + "\n".join(lines)
        + "\n"
    )
    return [CommitStep(renames, first), CommitStep(final, message(summary))], summary


def _rename_line(old: str, new: str) -> str:
    """`a/b/x.json → a/c/y.json` said shortly: `b/x.json → c/y.json`."""
    old_parts, new_parts = old.split("/"), new.split("/")
    shared = 0
    while (
        shared < min(len(old_parts), len(new_parts)) - 1 and old_parts[shared] == new_parts[shared]
    ):
        shared += 1
    return f"{'/'.join(old_parts[shared:])} → {'/'.join(new_parts[shared:])}"
