"""The thread of a chat that has no parent links (Claude.ai's data export), rebuilt from the
evidence the messages carry. Pure.

An export's `chat_messages` is not in the order the messages were written, and a prompt and
Claude's reply to it often carry the same `created_at`. So the messages are first put in time
order: by `created_at`; at the same moment by `index` (the message's depth, when the file has
it); a prompt and a reply stamped with the same moment as prompt then reply; more messages at
one moment as the file lists them (nothing else tells their order). Then each message follows
the one before it, except where the data shows a second version of the same turn:

- with `index` on every message: a message's parent is the latest earlier message one level
  up; two messages at the same level are versions of one turn (an edit or a retry);
- otherwise: two messages of the same sender in a row are two versions of one turn (claude.ai
  never puts two prompts or two replies one after the other on one branch), so the second is
  a sibling of the first; a later message continues the latest version.

An edit that was answered leaves, without `index`, nothing that tells it from a new prompt:
it reads as the next turn of one thread. docs/reading.md says what an import can and cannot
know.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from claude_backup.model.timestamps import api_time

NO_PARENT = -1


def _depth(message: Mapping[str, Any]) -> int | None:
    value = message.get("index")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def time_order(messages: Sequence[Mapping[str, Any]]) -> list[int]:
    """Positions of `messages` in the order they were written. Array order when a message has
    no readable `created_at` (the file's order is then the only evidence)."""
    moments = [api_time(m.get("created_at")) for m in messages]
    if any(moment is None for moment in moments):
        return list(range(len(messages)))

    def key(n: int) -> tuple[datetime, int]:
        moment = moments[n]
        assert moment is not None
        return (moment, _depth(messages[n]) or 0)

    order = sorted(range(len(messages)), key=lambda n: (*key(n), n))
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and key(order[end]) == key(order[start]):
            end += 1
        pair = order[start:end]
        if [messages[n].get("sender") for n in pair] == ["assistant", "human"]:
            order[start:end] = pair[::-1]  # a prompt and its reply, stamped together
        start = end
    return order


def infer_parents(messages: Sequence[Mapping[str, Any]]) -> tuple[list[int], list[int]]:
    """(time order, parent of each message): positions in `messages`, NO_PARENT for a first
    message."""
    order = time_order(messages)
    parent = [NO_PARENT] * len(messages)
    depths = [_depth(m) for m in messages]
    if messages and all(d is not None for d in depths):
        latest: dict[int, int] = {}  # depth -> the latest message seen at that depth
        for n in order:
            depth = depths[n]
            assert depth is not None
            above = latest.get(depth - 1)
            if depth > 0 and above is not None:
                parent[n] = above
            elif depth > 0 and latest:
                parent[n] = _tip_parent(messages, parent, latest[max(latest)], n)
            latest[depth] = n
            for deeper in [d for d in latest if d > depth]:
                del latest[deeper]  # a new version of a turn starts a new branch below it
        return order, parent
    tip: int | None = None
    for n in order:
        if tip is not None:
            parent[n] = _tip_parent(messages, parent, tip, n)
        tip = n
    return order, parent


def _tip_parent(messages: Sequence[Mapping[str, Any]], parent: list[int], tip: int, n: int) -> int:
    """The parent of message `n` coming right after `tip`: the tip, or the tip's parent when
    both are from the same sender (a second version of the tip's turn)."""
    if messages[n].get("sender") == messages[tip].get("sender"):
        return parent[tip]
    return tip
