"""The archive's git history, read with dulwich: chat files at any revision (`--at REV`), the
history of one chat across syncs (`log`), and every version a chat file ever had (search
`--all-history`). Read-only.

History is followed along first parents from HEAD (sync makes a straight line of commits). A
chat is identified by the uuid in its file name, so renames and moves to `deleted/` are
followed whatever git's rename detection would say.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from dulwich.diff_tree import tree_changes
from dulwich.errors import NotGitRepository
from dulwich.objects import Blob, Commit, ObjectID, Tree, TreeEntry
from dulwich.objectspec import parse_commit
from dulwich.repo import Repo

from claude_backup.errors import ArchiveError, UsageError
from claude_backup.model.layout import ChatFile, find_chat_files, parse_chat_path
from claude_backup.model.messages import Side, describe_chat

FileChange = tuple[str | None, str | None, bytes | None, bytes | None]
_SUFFIX_RE = re.compile(r"^(.*?)((?:[~^]\d*)*)$")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?")


class History:
    def __init__(self, root: Path) -> None:
        try:
            self.repo = Repo(str(root))
        except (NotGitRepository, OSError) as exc:
            raise ArchiveError(f"{root} holds no readable git repository: {exc}") from exc

    def head(self) -> Commit | None:
        try:
            commit = self.repo[self.repo.head()]
        except KeyError:
            return None
        return commit if isinstance(commit, Commit) else None

    def commits(self) -> list[Commit]:
        """First-parent history, oldest first."""
        found: list[Commit] = []
        commit = self.head()
        while commit is not None:
            found.append(commit)
            commit = self._parent(commit)
        return found[::-1]

    def _parent(self, commit: Commit) -> Commit | None:
        if not commit.parents:
            return None
        parent = self.repo[commit.parents[0]]
        return parent if isinstance(parent, Commit) else None

    def resolve(self, spec: str) -> Commit:
        """A commit from a revision: a sha (or its start), a branch or tag, HEAD, each with
        `~N` / `^N` suffixes, or a date (`2026-03-01`, `2026-03-01 14:00`): the last sync
        made by then (UTC)."""
        match = _SUFFIX_RE.match(spec.strip())
        assert match is not None
        base, suffix = match.group(1) or "HEAD", match.group(2)
        commit = self._base(base, spec)
        for step in re.findall(r"[~^]\d*", suffix):
            count = int(step[1:]) if len(step) > 1 else 1
            commit = self._walk(commit, step[0], count, spec)
        return commit

    def _base(self, base: str, spec: str) -> Commit:
        try:
            return parse_commit(self.repo, base)
        except Exception:  # KeyError, ValueError, AmbiguousShortId: all "not a revision"
            pass
        if _DATE_RE.fullmatch(base):
            return self._at_date(base, spec)
        raise UsageError(
            f"{spec!r} is not a revision of this archive (try a sha, HEAD~2 or a date)"
        )

    def _walk(self, commit: Commit, kind: str, count: int, spec: str) -> Commit:
        if kind == "^":
            if count == 0:
                return commit
            if count > len(commit.parents):
                raise UsageError(f"{spec!r}: that commit has no parent number {count}")
            nth = self.repo[commit.parents[count - 1]]
            assert isinstance(nth, Commit)
            return nth
        for _ in range(count):
            parent = self._parent(commit)
            if parent is None:
                raise UsageError(f"{spec!r} goes back further than the archive's first sync")
            commit = parent
        return commit

    def _at_date(self, text: str, spec: str) -> Commit:
        moment = datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=timezone.utc)
        if len(text) == 10:
            moment += timedelta(days=1)  # a day means the end of that day
        limit = moment.timestamp()
        for commit in reversed(self.commits()):
            if commit.commit_time <= limit:
                return commit
        raise UsageError(f"{spec!r}: the archive has no sync that old")

    def snapshot(self, spec: str) -> RevisionSnapshot:
        return RevisionSnapshot(self.repo, self.resolve(spec))

    def read_blob(self, sha: bytes) -> bytes:
        blob = self.repo[ObjectID(sha)]
        assert isinstance(blob, Blob)
        return blob.as_raw_string()

    def chat_changes(
        self,
    ) -> Iterator[tuple[Commit, list[FileChange]]]:
        """For each commit (oldest first), its changed chat files: (old path, new path, old
        sha, new sha); an added or removed file has None on the other side."""
        previous: ObjectID | None = None
        for commit in self.commits():
            changes: list[FileChange] = []
            for change in tree_changes(self.repo.object_store, previous, commit.tree):
                old_path = _decode(change.old.path) if change.old and change.old.path else None
                new_path = _decode(change.new.path) if change.new and change.new.path else None
                if not any(p and parse_chat_path(p) for p in (old_path, new_path)):
                    continue
                old_sha = change.old.sha if change.old else None
                new_sha = change.new.sha if change.new else None
                changes.append((old_path, new_path, old_sha, new_sha))
            previous = commit.tree
            yield commit, changes


def _decode(path: bytes) -> str:
    return path.decode("utf-8", "surrogateescape")


def short(commit: Commit) -> str:
    return commit.id.decode()[:12]


def commit_time(commit: Commit) -> str:
    return datetime.fromtimestamp(commit.commit_time, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


class RevisionSnapshot:
    """The archive's files as they were in one commit."""

    def __init__(self, repo: Repo, commit: Commit) -> None:
        self.repo = repo
        self.commit = commit
        self.label = f"revision {short(commit)} ({commit_time(commit)})"

    def _tree(self, sha: bytes) -> Tree:
        tree = self.repo[ObjectID(sha)]
        assert isinstance(tree, Tree)
        return tree

    def chat_files(self) -> list[ChatFile]:
        def folders(rel: str) -> list[str]:
            return [_decode(e.path or b"") for e in self._entries(rel) if (e.mode or 0) & 0o40000]

        def names(rel: str) -> list[str]:
            return [_decode(e.path or b"") for e in self._entries(rel)]

        return find_chat_files(folders, names)

    def _entries(self, rel: str) -> list[TreeEntry]:
        """What the folder `rel` ("" the root) holds in this revision; nothing if no folder."""
        sha = self.commit.tree
        if rel:
            try:
                mode, sha = self._tree(sha).lookup_path(
                    self.repo.object_store.__getitem__, rel.encode("utf-8", "surrogateescape")
                )
            except KeyError:
                return []
            if not mode & 0o40000:
                return []
        return [e for e in self._tree(sha).iteritems() if e.path is not None and e.sha is not None]

    def read(self, path: str) -> bytes | None:
        try:
            _, sha = self._tree(self.commit.tree).lookup_path(
                self.repo.object_store.__getitem__, path.encode("utf-8", "surrogateescape")
            )
            blob = self.repo[sha]
        except KeyError:
            return None
        return blob.as_raw_string() if isinstance(blob, Blob) else None


@dataclass(frozen=True)
class ChatEvent:
    """What one commit did to one chat."""

    commit: str
    when: str
    what: str
    kinds: tuple[str, ...]
    title: str
    path: str


def chat_log(history: History, uuid: str) -> list[ChatEvent]:
    """Every commit that touched the chat's file, oldest first, in words. A pure rename commit
    followed by its content commit (how sync records a renamed chat) shows once."""
    events: list[tuple[int, ChatEvent]] = []
    for number, (commit, changes) in enumerate(history.chat_changes()):
        mine = [c for c in changes if uuid in (_uuid(c[0]), _uuid(c[1]))]
        if not mine:
            continue
        old_path = next((c[0] for c in mine if c[0] and c[2]), None)
        new_path = next((c[1] for c in mine if c[1] and c[3]), None)
        old_sha = next((c[2] for c in mine if c[0] == old_path and c[2]), None)
        new_sha = next((c[3] for c in mine if c[1] == new_path and c[3]), None)
        old = Side(old_path, history.read_blob(old_sha) if old_sha else None)
        new = Side(new_path, history.read_blob(new_sha) if new_sha else None)
        change = describe_chat(uuid, old, new)
        old_org, new_org = _org_folder(old_path), _org_folder(new_path)
        note = (
            f" (from {old_org} to {new_org})" if old_org and new_org and old_org != new_org else ""
        )
        event = ChatEvent(
            short(commit),
            commit_time(commit),
            change.what + note,
            change.kinds,
            change.title,
            new_path or old_path or "",
        )
        if events and events[-1][1].kinds == ("moved",) and events[-1][0] == number - 1:
            # sync's rename commit (files only), then its content commit: one event
            moved = events.pop()[1]
            if " (from " in moved.what and " (from " not in event.what:
                event = replace(event, what=event.what + moved.what[moved.what.index(" (from ") :])
        events.append((number, event))
    return [event for _, event in events]


def _org_folder(path: str | None) -> str | None:
    return path.split("/")[1] if path and path.count("/") == 3 else None


def _uuid(path: str | None) -> str | None:
    if path is None:
        return None
    location = parse_chat_path(path)
    return location.chat_uuid if location else None


class HistorySnapshot:
    """Every chat that was ever in the archive, each at its last version: for finding a chat
    that has since been pruned."""

    label = "archive's history"

    def __init__(self, history: History) -> None:
        self.history = history
        self.latest: dict[str, tuple[str, bytes]] = {}  # uuid -> (path, sha)
        for _, changes in history.chat_changes():
            for _old, new_path, _old_sha, new_sha in changes:
                uuid = _uuid(new_path)
                if uuid and new_path and new_sha:
                    self.latest[uuid] = (new_path, new_sha)
        self._by_path = {path: sha for path, sha in self.latest.values()}

    def chat_files(self) -> list[ChatFile]:
        found = []
        for path, _ in self.latest.values():
            location = parse_chat_path(path)
            if location is not None:
                found.append(ChatFile(path, location))
        return sorted(found, key=lambda f: f.path)

    def read(self, path: str) -> bytes | None:
        sha = self._by_path.get(path)
        return self.history.read_blob(sha) if sha else None


__all__ = [
    "ChatEvent",
    "History",
    "HistorySnapshot",
    "RevisionSnapshot",
    "chat_log",
    "commit_time",
    "short",
]


def print_log(root: Path) -> None:
    """`git log` of the archive on stdout, for machines without the git command."""
    from dulwich import porcelain

    porcelain.log(str(root))
