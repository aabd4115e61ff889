"""Sync planning: server listing + archive state -> what to fetch, move and retire. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from claude_backup.model.layout import CHATS, chat_path
from claude_backup.model.naming import is_uuid
from claude_backup.model.records import ChatRecord, OrgListing, StoredChat

FetchReason = Literal["new", "updated", "branch", "renamed", "restored"]


@dataclass(frozen=True)
class Fetch:
    uuid: str
    org_path: str
    reason: FetchReason
    old_path: str | None


@dataclass(frozen=True)
class Move:
    """A chat whose content is unchanged but whose file must move (its organization was renamed,
    it was deleted on the server, or pruned: then `new_path` is None)."""

    uuid: str
    old_path: str
    new_path: str | None


@dataclass(frozen=True)
class Rename:
    """A chat whose only change is its name: the stored copy takes the listed name and moves,
    with no request (the listing already says everything that changed)."""

    uuid: str
    org_path: str
    old_path: str
    new_path: str
    name: str


@dataclass
class SyncPlan:
    fetches: list[Fetch] = field(default_factory=list)
    renames: list[Rename] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    unchanged: int = 0
    invalid: list[str] = field(default_factory=list)


def same_time(a: str | None, b: str | None) -> bool:
    """Timestamps compared as instants: `...Z` and `...+00:00` spell the same time."""
    if a == b:
        return True
    if a is None or b is None:
        return False
    try:
        return _parse_time(a) == _parse_time(b)
    except ValueError:
        return False


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))


def change_reason(stored: ChatRecord, listed: ChatRecord) -> FetchReason | None:
    if not same_time(stored.updated_at, listed.updated_at):
        return "updated"
    if stored.leaf != listed.leaf:
        return "branch"
    if stored.name != listed.name:
        return "renamed"
    return None


def plan_sync(
    listings: Iterable[OrgListing],
    stored: Mapping[str, StoredChat],
    *,
    prune_deleted: bool = False,
) -> SyncPlan:
    """Decide the work of one account's sync.

    Chats of organizations missing from `listings` (listing failed, or no longer a member) are
    left alone: only a complete listing can tell that a chat was deleted.
    """
    plan = SyncPlan()
    listings = list(listings)
    listed_orgs = {listing.org_uuid: listing for listing in listings}
    listed: dict[str, tuple[OrgListing, ChatRecord]] = {}
    for listing in listings:
        for chat in listing.chats:
            if not is_uuid(chat.uuid):
                plan.invalid.append(chat.uuid)
                continue
            listed.setdefault(chat.uuid, (listing, chat))

    for uuid, (listing, chat) in listed.items():
        mine = stored.get(uuid)
        if mine is None:
            plan.fetches.append(Fetch(uuid, listing.org_path, "new", None))
        elif mine.deleted:
            plan.fetches.append(Fetch(uuid, listing.org_path, "restored", mine.path))
        elif (reason := change_reason(mine.record, chat)) == "renamed" and chat.name:
            new_path = chat_path(listing.org_path, chat.name, uuid)
            plan.renames.append(Rename(uuid, listing.org_path, mine.path, new_path, chat.name))
        elif reason is not None:  # a rename to no name: the fetch tells null from missing
            plan.fetches.append(Fetch(uuid, listing.org_path, reason, mine.path))
        elif _in_folder(mine.path, f"{listing.org_path}/{CHATS}/"):
            # Its file name comes from the chat's name, which is unchanged, so only a move of the
            # folder (organization renamed) can move it; building every name again would cost
            # more than the whole rest of a no-change sync.
            plan.unchanged += 1
        else:
            moved = chat_path(listing.org_path, mine.record.name, uuid)
            if moved != mine.path:
                plan.moves.append(Move(uuid, mine.path, moved))
            else:
                plan.unchanged += 1

    for uuid, mine in stored.items():
        if uuid in listed or mine.org_uuid not in listed_orgs:
            continue
        if not listed_orgs[mine.org_uuid].complete:
            continue
        org_path = listed_orgs[mine.org_uuid].org_path
        target = (
            None if prune_deleted else chat_path(org_path, mine.record.name, uuid, deleted=True)
        )
        if target != mine.path:
            plan.moves.append(Move(uuid, mine.path, target))
    return plan


def _in_folder(path: str, folder: str) -> bool:
    return path.startswith(folder) and "/" not in path[len(folder) :]
