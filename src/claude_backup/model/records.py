"""What the sync knows of a chat, listed or stored: the fields that decide whether it changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROOT_SENTINEL = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class ChatRecord:
    """What decides whether a chat changed: the same fields in a listing and in a stored chat."""

    uuid: str
    name: str
    updated_at: str | None
    leaf: str | None

    @classmethod
    def from_json(cls, chat: Mapping[str, Any]) -> ChatRecord:
        """From a listing item or a full chat; missing, null and wrongly typed fields normalized."""
        name = chat.get("name")
        updated = chat.get("updated_at")
        leaf = chat.get("current_leaf_message_uuid")
        return cls(
            uuid=str(chat.get("uuid")),
            name=name if isinstance(name, str) else "",
            updated_at=updated if isinstance(updated, str) else None,
            leaf=leaf if isinstance(leaf, str) and leaf != ROOT_SENTINEL else None,
        )


@dataclass(frozen=True)
class StoredChat:
    record: ChatRecord
    path: str
    org_uuid: str
    deleted: bool


@dataclass(frozen=True)
class OrgListing:
    """One organization's complete listing, and the folder its files belong in now."""

    org_uuid: str
    org_path: str
    chats: tuple[ChatRecord, ...]
    # False when the listing came back shorter than count_all: a stored chat missing from it
    # may be one the server left out, so none is taken for deleted
    complete: bool = True
