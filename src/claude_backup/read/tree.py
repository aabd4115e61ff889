"""The message tree of a chat (claude-api.md §3). Pure.

`chat_messages` is a flat array holding every branch; the tree lives in `parent_message_uuid`.
A parent that is not in the array (or the root sentinel) makes a first message; there may be
several (an edited first prompt). The current branch runs from `current_leaf_message_uuid`
back to the root; without a usable leaf (an official export) the last message is the leaf.
Exports have no `parent_message_uuid` at all: their thread is rebuilt from timestamps and
senders (thread.py), and the messages kept in time order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from claude_backup.model.records import ROOT_SENTINEL
from claude_backup.read.thread import NO_PARENT, infer_parents

ROOT = ROOT_SENTINEL
Message = Mapping[str, Any]


def chat_messages(chat: Mapping[str, Any]) -> list[Message]:
    items = chat.get("chat_messages")
    return [m for m in items if isinstance(m, Mapping)] if isinstance(items, list) else []


class MessageTree:
    """Messages by id, with parent and children links; ids are uuids (or `#<n>` if missing)."""

    def __init__(self, messages: Sequence[Message]) -> None:
        self.order: list[str] = []
        self.inferred = False  # no parent links: the thread was rebuilt (thread.py)
        self.messages: dict[str, Message] = {}
        for n, message in enumerate(messages):
            uuid = message.get("uuid")
            key = uuid if isinstance(uuid, str) and uuid and uuid not in self.messages else f"#{n}"
            self.order.append(key)
            self.messages[key] = message
        self.parent = self._parents()
        self.children: dict[str, list[str]] = {key: [] for key in [ROOT, *self.order]}
        for key in self.order:
            self.children[self.parent[key]].append(key)

    @classmethod
    def from_chat(cls, chat: Mapping[str, Any]) -> MessageTree:
        return cls(chat_messages(chat))

    def _parents(self) -> dict[str, str]:
        if not any("parent_message_uuid" in m for m in self.messages.values()):
            return self._inferred_parents()
        parent: dict[str, str] = {}
        for key in self.order:
            value = self.messages[key].get("parent_message_uuid")
            # Only an earlier message can be a parent: the array is chronological, and this
            # rules out cycles in a damaged file.
            parent[key] = value if isinstance(value, str) and value in parent else ROOT
        return parent

    def _inferred_parents(self) -> dict[str, str]:
        """No parent links (an export): the thread rebuilt from the evidence (thread.py); the
        messages are then kept in the order they were written."""
        self.inferred = bool(self.order)
        keys = list(self.order)
        order, parents = infer_parents([self.messages[k] for k in keys])
        self.order = [keys[n] for n in order]
        return {keys[n]: ROOT if p == NO_PARENT else keys[p] for n, p in enumerate(parents)}

    def __len__(self) -> int:
        return len(self.order)

    def leaves(self) -> list[str]:
        return [key for key in self.order if not self.children[key]]

    def path_to(self, key: str) -> list[str]:
        """Ids from the root down to `key`."""
        path: list[str] = []
        node = key
        while node != ROOT:
            path.append(node)
            node = self.parent[node]
        return path[::-1]

    def current_leaf(self, chat: Mapping[str, Any]) -> str | None:
        leaf = chat.get("current_leaf_message_uuid")
        if isinstance(leaf, str) and leaf in self.messages:
            return leaf
        return self.order[-1] if self.order else None

    def current_path(self, chat: Mapping[str, Any]) -> list[str]:
        leaf = self.current_leaf(chat)
        return self.path_to(leaf) if leaf is not None else []

    def siblings(self, key: str) -> list[str]:
        return self.children[self.parent[key]]


ForkKind = Literal["edit", "retry", "mixed"]


@dataclass(frozen=True)
class Fork:
    """A message with several children: where the conversation splits."""

    number: int
    count: int
    kind: ForkKind


@dataclass(frozen=True)
class Branch:
    """The start of one version below a fork; `current` when the selected branch runs here."""

    fork: int
    index: int
    count: int
    current: bool

    @property
    def label(self) -> str:
        return f"{self.fork}.{self.index}"


Step = (
    tuple[Literal["message"], str] | tuple[Literal["fork"], Fork] | tuple[Literal["branch"], Branch]
)


def fork_kind(tree: MessageTree, children: Sequence[str]) -> ForkKind:
    senders = {tree.messages[c].get("sender") for c in children}
    if senders == {"human"}:
        return "edit"
    if senders == {"assistant"}:
        return "retry"
    return "mixed"


def walk_all(tree: MessageTree, current: Sequence[str]) -> Iterator[Step]:
    """Every message once, depth first in array order, with a fork step where the conversation
    splits and a branch step before each version. No recursion: the forks still to finish are
    an explicit stack, so neither a long chat nor a thousand nested edits exhausts it."""
    on_current = set(current)
    forks = 0
    open_forks: list[tuple[int, list[str], int]] = []  # (number, its children, next child)
    children = tree.children[ROOT]
    while True:
        while len(children) == 1:
            yield ("message", children[0])
            children = tree.children[children[0]]
        if children:
            forks += 1
            yield ("fork", Fork(forks, len(children), fork_kind(tree, children)))
            open_forks.append((forks, children, 0))
        while open_forks and open_forks[-1][2] == len(open_forks[-1][1]):
            open_forks.pop()
        if not open_forks:
            return
        number, siblings, index = open_forks[-1]
        open_forks[-1] = (number, siblings, index + 1)
        child = siblings[index]
        yield ("branch", Branch(number, index + 1, len(siblings), child in on_current))
        children = [child]
