"""Claude.ai data exports in the shapes real ones have, made from the fake's chats.

What published exports (June 2024 to July 2025) show, and what this reproduces:

- `conversations.json` is a list of chats; a chat has `uuid`, `name`, `summary`,
  `created_at`, `updated_at`, `account: {"uuid"}` (absent in some 2024 exports) and
  `chat_messages`;
- a message has `uuid`, `text`, `content`, `sender`, `created_at`, `updated_at`,
  `attachments` and `files` (`{"file_name"}` only); no `parent_message_uuid`, no `index`,
  and the chat has no `current_leaf_message_uuid`: only the selected branch is there;
- `chat_messages` is not in the order the messages were written, and a reply carries the
  `created_at` of the prompt it answers;
- `users.json` lists the account (absent from some exports), `projects.json` its projects.
"""

from __future__ import annotations

import copy
import json
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claude_backup.fakeapi.model import Account, Chat, FakeClaude

JSON = dict[str, Any]
MESSAGE_KEYS = ("uuid", "text", "content", "sender", "created_at", "updated_at", "attachments")


@dataclass(frozen=True)
class ExportShape:
    """Which real-export traits to produce."""

    account_key: bool = True  # chats carry `account: {"uuid"}`
    users: bool = True  # a users.json
    shuffle: bool = True  # chat_messages in no particular order
    shared_timestamps: bool = True  # a reply has its prompt's `created_at`
    seed: int = 0


def _text_of(content: list[JSON]) -> str:
    return "\n\n".join(str(b.get("text") or "") for b in content if b.get("type") == "text")


def export_chat(model: FakeClaude, chat: Chat, owner: Account, shape: ExportShape) -> JSON:
    """One chat as an export has it: its selected branch, no parent links."""
    detail = model.chat_detail(chat)
    by_uuid = {m["uuid"]: m for m in detail["chat_messages"]}
    messages: list[JSON] = []
    prompt_time: str | None = None
    for kept in chat.branch():
        source = by_uuid[kept.uuid]
        item = {k: copy.deepcopy(source.get(k)) for k in MESSAGE_KEYS}
        item["text"] = item["text"] or _text_of(item["content"] or [])
        item["files"] = [{"file_name": f.get("file_name")} for f in source.get("files") or []]
        if item["sender"] == "human":
            prompt_time = item["created_at"]
        elif shape.shared_timestamps and prompt_time is not None:
            item["created_at"] = prompt_time
        messages.append(item)
    if shape.shuffle:
        random.Random(f"{shape.seed}:{chat.uuid}").shuffle(messages)
    out: JSON = {
        "uuid": chat.uuid,
        "name": chat.name,
        "summary": chat.summary,
        "created_at": chat.created_at,
        "updated_at": chat.updated_at,
    }
    if shape.account_key:
        out["account"] = {"uuid": owner.uuid}
    out["chat_messages"] = messages
    return out


def export_files(model: FakeClaude, account: Account, shape: ExportShape) -> dict[str, Any]:
    """file name -> JSON value, for the older single-zip layout."""
    chats = [c for org in account.orgs for c in org.chats.values()]
    files: dict[str, Any] = {
        "conversations.json": [export_chat(model, c, account, shape) for c in chats],
        "projects.json": [],
    }
    if shape.users:
        files["users.json"] = [
            {
                "uuid": account.uuid,
                "full_name": account.full_name,
                "email_address": account.email,
                "verified_phone_number": None,
            }
        ]
    return files


def write_export_zip(path: Path, files: dict[str, Any]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in files.items():
            archive.writestr(name, json.dumps(value, ensure_ascii=False))
    return path
