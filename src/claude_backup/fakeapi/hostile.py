"""Hostile items for the fake: what a server may send that no well-behaved chat has.

A chat's detail can be replaced by raw bytes (`serve_raw_detail`): JSON nested 100,000 deep,
a 5,000-digit integer, anything the model's own serializer would never write. The other
helpers shape ordinary model objects into hostile ones (names that collide on a
case-insensitive file system, a sandbox file that becomes a folder, ...).
"""

from __future__ import annotations

import json
import threading
import weakref
from typing import Any

from claude_backup.fakeapi.extras import SANDBOX_ROOT, SandboxFile
from claude_backup.fakeapi.model import ROOT_MESSAGE_UUID, FakeClaude

_RAW: weakref.WeakKeyDictionary[FakeClaude, dict[str, bytes]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def serve_raw_detail(model: FakeClaude, chat_uuid: str, body: bytes) -> None:
    """From now on the chat's detail endpoint answers exactly `body` (status 200)."""
    with _LOCK:
        _RAW.setdefault(model, {})[chat_uuid] = body


def raw_detail(model: FakeClaude, chat_uuid: str) -> bytes | None:
    """The raw body to serve for the chat's detail, if one was set (the server asks)."""
    with _LOCK:
        return _RAW.get(model, {}).get(chat_uuid)


def detail_with(model: FakeClaude, chat_uuid: str, key: str, value_json: bytes) -> bytes:
    """The chat's detail as the model serves it, with one more top-level field whose JSON
    spelling is `value_json` verbatim (for values Python's json cannot write)."""
    found = model.find_chat(chat_uuid)
    assert found is not None
    detail = model.chat_detail(found[1])
    text = json.dumps(detail, separators=(",", ":")).encode("ascii")
    assert text.endswith(b"}")
    return text[:-1] + b"," + json.dumps(key).encode("ascii") + b":" + value_json + b"}"


def nested_array(depth: int) -> bytes:
    """`[[[...]]]`, `depth` levels deep."""
    return b"[" * depth + b"]" * depth


def big_integer(digits: int) -> bytes:
    """A JSON integer of `digits` digits (no leading zero)."""
    return b"9" + b"8" * (digits - 1)


def put_sandbox_file(model: FakeClaude, chat_uuid: str, rel: str, data: bytes) -> str:
    """Place a file in the chat's sandbox at `/mnt/user-data/outputs/<rel>` (no new turn)."""
    with model.lock:
        found = model.find_chat(chat_uuid)
        assert found is not None
        chat = found[1]
        path = f"{SANDBOX_ROOT}/outputs/{rel}"
        chat.sandbox[path] = SandboxFile(path, data, model.clock.tick())
        chat.updated_at = model.clock.tick()
        return path


def drop_sandbox_file(model: FakeClaude, chat_uuid: str, path: str) -> None:
    with model.lock:
        found = model.find_chat(chat_uuid)
        assert found is not None
        found[1].sandbox.pop(path, None)


def nested_edits(model: FakeClaude, chat_uuid: str, depth: int) -> None:
    """Grow the chat by `depth` turns, each with an edited prompt beside it: a message tree
    whose current branch is `2 * depth` messages deep, with a fork at every level."""
    with model.lock:
        found = model.find_chat(chat_uuid)
        assert found is not None
        chat = found[1]
        last = chat.current_leaf_message_uuid or ROOT_MESSAGE_UUID
        for _ in range(depth):
            edited = model._new_message(chat, last, "human")
            model._new_message(chat, edited.uuid, "assistant")
            human = model._new_message(chat, last, "human")
            last = model._new_message(chat, human.uuid, "assistant").uuid
        chat.current_leaf_message_uuid = last
        chat.updated_at = model.clock.tick()


def any_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("ascii")
