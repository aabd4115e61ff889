"""In-memory model of a Claude.ai account: orgs, chats and message trees.

Deterministic for a given seed: uuids come from one `random.Random(seed)` and
timestamps from a fake clock that advances a fixed step per event, so the same
sequence of calls always yields the same JSON. One re-entrant lock guards every
read and mutation, because the HTTP server reads from many threads while tests
mutate from the main one.
"""

from __future__ import annotations

import copy
import random
import threading
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from claude_backup.fakeapi.extras import (
    SANDBOX_ROOT,
    Doc,
    FileKind,
    Project,
    SandboxFile,
    Upload,
    make_upload,
    memory_json,
)

ROOT_MESSAGE_UUID = "00000000-0000-4000-8000-000000000000"

EmptyStyle = Literal["null", "omit"]
"""How a chat serializes empty fields: as `null`, or by leaving the key out (§2.3)."""

JSON = dict[str, Any]

REAL_SETTINGS: JSON = {
    "paprika_mode": "extended",
    "thinking_mode": "auto",
    "tool_search_mode": "auto",
    "enabled_mcp_tools": {"web_fetch": True},
    "effort_level": "high",
}
_MODELS = (
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-1-20250805",
    "claude-3-5-sonnet-20241022",
    "claude-haiku-4-5-20251001",
)
_WORD_TEXT = (
    "archive branch commit chat model garden river planet kernel letter recipe budget travel"
    " python castle violin orbit harbor signal lantern meadow puzzle quartz ticket window yellow"
    " zephyr the a of and to with about because quickly carefully"
)
_WORDS = tuple(_WORD_TEXT.split())


class FakeClock:
    """A clock that only moves when asked: each `tick()` advances by `step`."""

    def __init__(
        self,
        start: datetime = datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=timezone.utc),
        step: timedelta = timedelta(minutes=1, microseconds=1001),
    ) -> None:
        self._now = start
        self._step = step

    def now(self) -> str:
        return format_ts(self._now)

    def tick(self) -> str:
        self._now += self._step
        return format_ts(self._now)


def format_ts(moment: datetime) -> str:
    """`2026-03-01T10:05:00.123456Z`: the usual timestamp shape of the API."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _put_empty(obj: JSON, key: str, value: Any, style: EmptyStyle) -> None:
    """Set `key`, rendering an empty value (None or "") per the chat's style."""
    if value is None or value == "":
        if style == "null":
            obj[key] = None
        return
    obj[key] = value


@dataclass(eq=False)
class Message:
    uuid: str
    parent_message_uuid: str
    sender: Literal["human", "assistant"]
    index: int
    created_at: str
    content: list[JSON]
    attachments: list[JSON] = field(default_factory=list)
    files_v2: list[JSON] = field(default_factory=list)
    stop_reason: str | None = None
    text: str = ""  # legacy messages: the only content, with inline <antArtifact> tags
    input_mode: str | None = None  # "text" (or "voice") on real prompts

    def to_json(self, style: EmptyStyle) -> JSON:
        out: JSON = {
            "uuid": self.uuid,
            "text": self.text,
            "content": copy.deepcopy(self.content),
            "sender": self.sender,
            "index": self.index,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "truncated": False,
        }
        _put_empty(out, "stop_reason", self.stop_reason, style)
        out["attachments"] = copy.deepcopy(self.attachments)
        out["files"] = [{**ref, "success": True} for ref in copy.deepcopy(self.files_v2)]
        out["files_v2"] = copy.deepcopy(self.files_v2)
        out["sync_sources"] = []
        _put_empty(out, "input_mode", self.input_mode, style)
        out["parent_message_uuid"] = self.parent_message_uuid
        return out


@dataclass(eq=False)
class Chat:
    """A conversation. `messages` is in creation order, so parents precede children."""

    uuid: str
    org_uuid: str
    name: str
    created_at: str
    updated_at: str
    model: str | None = None
    summary: str = ""
    is_starred: bool = False
    is_temporary: bool = False
    is_archived: bool = False
    settings: JSON = field(default_factory=dict)
    project_uuid: str | None = None
    platform: str = "CLAUDE_AI"
    empty_style: EmptyStyle = "null"
    current_leaf_message_uuid: str | None = None
    messages: list[Message] = field(default_factory=list)
    sandbox: dict[str, SandboxFile] = field(default_factory=dict)
    sandbox_gone: bool = False  # the code-execution container expired: list-files is a 404

    def message(self, message_uuid: str) -> Message | None:
        return next((m for m in self.messages if m.uuid == message_uuid), None)

    def leaves(self) -> list[str]:
        """Uuids of messages without children, in creation order."""
        parents = {m.parent_message_uuid for m in self.messages}
        return [m.uuid for m in self.messages if m.uuid not in parents]

    def branch(self) -> list[Message]:
        """The current branch, root first (what the web UI shows)."""
        by_uuid = {m.uuid: m for m in self.messages}
        path: list[Message] = []
        node = by_uuid.get(self.current_leaf_message_uuid or "")
        while node is not None:
            path.append(node)
            node = by_uuid.get(node.parent_message_uuid)
        return path[::-1]


@dataclass(eq=False)
class Org:
    uuid: str
    name: str
    capabilities: tuple[str, ...]
    created_at: str
    updated_at: str
    _model: FakeClaude = field(repr=False)
    chats: dict[str, Chat] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    memory: str | None = None  # None: the memory endpoint answers 404
    memory_updated_at: str | None = None

    def rename(self, name: str) -> None:
        with self._model.lock:
            self.name = name
            self.updated_at = self._model.clock.tick()

    def to_json(self) -> JSON:
        return {
            "uuid": self.uuid,
            "name": self.name,
            "capabilities": list(self.capabilities),
            "settings": {},
            "active_flags": [],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(eq=False)
class Account:
    uuid: str
    email: str
    full_name: str
    created_at: str
    updated_at: str
    _model: FakeClaude = field(repr=False)
    orgs: list[Org] = field(default_factory=list)

    def add_org(self, name: str, capabilities: tuple[str, ...] = ("chat", "claude_pro")) -> Org:
        with self._model.lock:
            now = self._model.clock.tick()
            org = Org(self._model.new_uuid(), name, tuple(capabilities), now, now, self._model)
            self.orgs.append(org)
            return org

    def org(self, org_uuid: str) -> Org | None:
        with self._model.lock:
            return next((o for o in self.orgs if o.uuid == org_uuid), None)

    def rename(self, full_name: str | None = None, email: str | None = None) -> None:
        with self._model.lock:
            if full_name is not None:
                self.full_name = full_name
            if email is not None:
                self.email = email
            self.updated_at = self._model.clock.tick()


class _Content:
    """Deterministic message content: text, thinking, tool calls, attachments, files."""

    def __init__(self, rng: random.Random, new_uuid: Any, register: Any) -> None:
        self._rng = rng
        self._new_uuid = new_uuid
        self._register = register

    def words(self, count: int) -> str:
        return " ".join(self._rng.choice(_WORDS) for _ in range(count))

    def sized_text(self, size: int) -> str:
        """Text of exactly `size` characters (cheap for megabytes: a seed paragraph repeated)."""
        seed = self.words(60) + ". "
        return (seed * (size // len(seed) + 1))[:size]

    def sentences(self, low: int, high: int) -> str:
        count = self._rng.randint(low, high)
        parts = [self.words(self._rng.randint(4, 12)).capitalize() + "." for _ in range(count)]
        return " ".join(parts)

    def tool_id(self) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"
        return "toolu_01" + "".join(self._rng.choice(alphabet) for _ in range(22))

    def human(
        self, ts: str, org_uuid: str, text_size: int
    ) -> tuple[list[JSON], list[JSON], list[JSON]]:
        """(content, attachments, files_v2) of a human message."""
        text = self.sized_text(text_size) if text_size > 0 else self.sentences(1, 2)
        content = [text_block(text, ts)]
        attachments = [self.attachment(ts)] if self._rng.random() < 0.2 else []
        files = [self.file_ref(ts, org_uuid)] if self._rng.random() < 0.15 else []
        return content, attachments, files

    def assistant(self, ts: str, text_size: int) -> list[JSON]:
        blocks: list[JSON] = []
        if self._rng.random() < 0.35:
            blocks.append(self.thinking(ts))
        roll = self._rng.random()
        citations: list[JSON] = []
        if roll < 0.2:
            url = f"https://example.com/{self.words(1)}/{self._rng.randint(1, 999)}"
            blocks += self.web_search(ts, url)
            citations = [self.citation(url)]
        elif roll < 0.3:
            blocks += self.artifact(ts)
        text = self.sized_text(text_size) if text_size > 0 else self.sentences(1, 4)
        blocks.append(text_block(text, ts, citations))
        return blocks

    def thinking(self, ts: str) -> JSON:
        return {
            "type": "thinking",
            "thinking": self.sentences(1, 3),
            "summaries": [{"summary": "Reading the question"}, {"summary": self.sentences(1, 1)}],
            "cut_off": False,
            "truncated": False,
            "start_timestamp": ts,
            "stop_timestamp": ts,
            "flags": None,
        }

    def citation(self, url: str) -> JSON:
        details = {"type": "web_search_citation", "url": url}
        return {"uuid": self._new_uuid(), "start_index": 0, "end_index": 10, "details": details}

    def web_search(self, ts: str, url: str) -> list[JSON]:
        tid = self.tool_id()
        query = self.words(3)
        result = {
            "type": "knowledge",
            "title": query.title(),
            "url": url,
            "text": self.sentences(1, 2),
            "metadata": {
                "type": "webpage_metadata",
                "site_domain": "example.com",
                "site_name": "Example",
                "favicon_url": "https://example.com/favicon.ico",
            },
            "is_citable": True,
        }
        use = tool_use(tid, "web_search", {"query": query}, ts, "Searching the web")
        # a whitespace-only text block between a tool's result and the reply, as real ones have
        return [use, tool_result(tid, "web_search", [result], ts), text_block(" ", ts)]

    def artifact(self, ts: str) -> list[JSON]:
        tid = self.tool_id()
        title = self.words(2).title()
        body = {
            "id": title.lower().replace(" ", "-"),
            "type": "text/markdown",
            "title": title,
            "command": "create",
            "content": f"# {title}\n\n{self.sentences(2, 4)}\n",
            "version_uuid": self._new_uuid(),
        }
        ok = [{"type": "text", "text": "OK"}]
        return [tool_use(tid, "artifacts", body, ts, title), tool_result(tid, "artifacts", ok, ts)]

    def attachment(self, ts: str) -> JSON:
        text = self.sentences(2, 5)
        return {
            "id": self._new_uuid(),
            "file_name": f"{self.words(1)}.txt",
            "file_size": len(text.encode()),
            "file_type": "text/plain",
            "extracted_content": text,
            "created_at": ts,
        }

    def file_ref(self, ts: str, org_uuid: str) -> JSON:
        """An uploaded image or PDF (registered with its bytes), as a message references it."""
        fid = self._new_uuid()
        kind: FileKind = "document" if self._rng.random() < 0.5 else "image"
        name = f"{self.words(1)}.{'pdf' if kind == 'document' else 'png'}"
        if kind == "document":
            self._rng.randint(1_000, 900_000)  # was the size: keeps later draws as they were
        upload = make_upload(fid, org_uuid, kind, name, ts)
        self._register(upload)
        return upload.ref()


def text_block(text: str, ts: str, citations: list[JSON] | None = None) -> JSON:
    return {
        "type": "text",
        "text": text,
        "citations": citations or [],
        "start_timestamp": ts,
        "stop_timestamp": ts,
        "flags": None,
    }


def tool_use(tid: str, name: str, tool_input: JSON, ts: str, message: str) -> JSON:
    return {
        "type": "tool_use",
        "id": tid,
        "name": name,
        "input": tool_input,
        "message": message,
        "integration_name": None,
        "integration_icon_url": None,
        "icon_name": None,
        "tool_identifier": name,
        "is_mcp_app": False,
        "hidden_in_chat": False,
        "mcp_server_url": None,
        "display_content": None,
        "approval_key": None,
        "approval_options": None,
        "context": None,
        "start_timestamp": ts,
        "stop_timestamp": ts,
        "flags": None,
    }


def tool_result(tid: str, name: str, content: list[JSON], ts: str) -> JSON:
    return {
        "type": "tool_result",
        "tool_use_id": tid,
        "name": name,
        "content": content,
        "is_error": False,
        "message": None,
        "display_content": None,
        "start_timestamp": ts,
        "stop_timestamp": ts,
        "flags": None,
    }


class FakeClaude:
    """The whole fake world: accounts (by session key), their orgs, chats and messages."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        self.clock = FakeClock()
        self._rng = random.Random(seed)
        self._content = _Content(self._rng, self.new_uuid, self._register_upload)
        self._accounts: list[Account] = []
        self._keys: dict[str, Account] = {}
        self.uploads: dict[str, Upload] = {}

    def new_uuid(self) -> str:
        with self.lock:
            return str(uuidlib.UUID(int=self._rng.getrandbits(128), version=4))

    # -- accounts --------------------------------------------------------------

    def add_account(self, session_key: str, email: str, full_name: str = "Ada Lovelace") -> Account:
        with self.lock:
            now = self.clock.tick()
            account = Account(self.new_uuid(), email, full_name, now, now, self)
            self._accounts.append(account)
            self._keys[session_key] = account
            return account

    def add_session_key(self, account: Account, session_key: str) -> None:
        """Another key for `account` (a renewed one: fakeapi/wire.py)."""
        with self.lock:
            self._keys[session_key] = account

    def revoke_session_key(self, session_key: str) -> None:
        with self.lock:
            self._keys.pop(session_key, None)

    def account_for_key(self, session_key: str) -> Account | None:
        with self.lock:
            return self._keys.get(session_key)

    @property
    def accounts(self) -> list[Account]:
        with self.lock:
            return list(self._accounts)

    def account_json(self, account: Account) -> JSON:
        with self.lock:
            return {
                "uuid": account.uuid,
                "email_address": account.email,
                "full_name": account.full_name,
                "display_name": account.full_name.split(" ")[0] if account.full_name else "",
                "settings": {},
                "created_at": account.created_at,
                "updated_at": account.updated_at,
                "memberships": [
                    {"organization": org.to_json(), "role": "admin", "seat_tier": None}
                    for org in account.orgs
                ],
            }

    # -- chats -----------------------------------------------------------------

    def add_chat(
        self,
        org: Org,
        name: str = "",
        *,
        turns: int = 2,
        branches: int = 0,
        project_uuid: str | None = None,
        text_size: int = 0,
        starred: bool | None = None,
    ) -> Chat:
        """A chat with `turns` human/assistant pairs on the main line and `branches` forks.

        A fork is an edited prompt (human sibling + assistant reply) or a retry
        (assistant sibling). The leaf is the last message of the last fork.
        `text_size` > 0 makes the main text block of every message exactly that
        many characters (turns=150, text_size=16_000 gives a ~5 MB detail).
        """
        with self.lock:
            rng = self._rng
            now = self.clock.tick()
            chat = Chat(
                uuid=self.new_uuid(),
                org_uuid=org.uuid,
                name=name,
                created_at=now,
                updated_at=now,
                model=None if rng.random() < 0.05 else rng.choice(_MODELS),
                summary=self._content.sentences(1, 2) if rng.random() < 0.3 else "",
                is_starred=rng.random() < 0.2 if starred is None else starred,
                settings=self._chat_settings(),
                project_uuid=project_uuid,
                empty_style="null" if rng.random() < 0.5 else "omit",
            )
            chat.current_leaf_message_uuid = self._add_turns(
                chat, ROOT_MESSAGE_UUID, turns, text_size
            )
            for _ in range(branches if chat.messages else 0):
                chat.current_leaf_message_uuid = self._add_fork(chat, text_size)
            chat.updated_at = self.clock.tick()
            org.chats[chat.uuid] = chat
            return chat

    def _chat_settings(self) -> JSON:
        return {
            "enabled_web_search": self._rng.random() < 0.5,
            "preview_feature_uses_artifacts": True,
            "enabled_artifacts_attachments": self._rng.random() < 0.5,
            **REAL_SETTINGS,  # keys real chats have (issue 16); constant: no draws
        }

    def _new_message(
        self, chat: Chat, parent: str, sender: Literal["human", "assistant"], text_size: int = 0
    ) -> Message:
        ts = self.clock.tick()
        index = len(chat.messages)
        if sender == "human":
            content, attachments, files = self._content.human(ts, chat.org_uuid, text_size)
            message = Message(
                self.new_uuid(), parent, "human", index, ts, content, attachments, files
            )
            message.input_mode = "text"
        else:
            content = self._content.assistant(ts, text_size)
            message = Message(self.new_uuid(), parent, "assistant", index, ts, content)
            message.stop_reason = "end_turn"
        chat.messages.append(message)
        return message

    def _add_turns(self, chat: Chat, parent: str, turns: int, text_size: int = 0) -> str | None:
        """Append `turns` pairs below `parent`; returns the new last uuid (None if no turns)."""
        last: str | None = None if parent == ROOT_MESSAGE_UUID else parent
        for _ in range(turns):
            human = self._new_message(chat, last or ROOT_MESSAGE_UUID, "human", text_size)
            last = self._new_message(chat, human.uuid, "assistant", text_size).uuid
        return last

    def _add_fork(self, chat: Chat, text_size: int) -> str:
        if self._rng.random() < 0.5:
            humans = [m for m in chat.messages if m.sender == "human"]
            return self._fork_edit(chat, self._rng.choice(humans), text_size)
        assistants = [m for m in chat.messages if m.sender == "assistant"]
        return self._fork_retry(chat, self._rng.choice(assistants), text_size)

    def _fork_edit(self, chat: Chat, human: Message, text_size: int = 0) -> str:
        edited = self._new_message(chat, human.parent_message_uuid, "human", text_size)
        return self._new_message(chat, edited.uuid, "assistant", text_size).uuid

    def _fork_retry(self, chat: Chat, assistant: Message, text_size: int = 0) -> str:
        return self._new_message(chat, assistant.parent_message_uuid, "assistant", text_size).uuid

    def _chat(self, chat_uuid: str) -> Chat:
        found = self.find_chat(chat_uuid)
        if found is None:
            raise KeyError(f"no chat {chat_uuid}")
        return found[1]

    def find_chat(self, chat_uuid: str) -> tuple[Org, Chat] | None:
        with self.lock:
            for account in self._accounts:
                for org in account.orgs:
                    if chat_uuid in org.chats:
                        return org, org.chats[chat_uuid]
            return None

    # -- mutations -------------------------------------------------------------

    def add_messages(self, chat_uuid: str, turns: int = 1) -> None:
        """Continue the current branch; the leaf moves and `updated_at` is bumped."""
        with self.lock:
            chat = self._chat(chat_uuid)
            parent = chat.current_leaf_message_uuid or ROOT_MESSAGE_UUID
            chat.current_leaf_message_uuid = self._add_turns(chat, parent, turns) or (
                chat.current_leaf_message_uuid
            )
            chat.updated_at = self.clock.tick()

    def edit_branch(self, chat_uuid: str) -> None:
        """Edit the middle human prompt of the current branch (new human sibling + reply)."""
        with self.lock:
            chat = self._chat(chat_uuid)
            humans = [m for m in chat.branch() if m.sender == "human"]
            if not humans:
                raise ValueError(f"chat {chat_uuid} has no prompt to edit")
            chat.current_leaf_message_uuid = self._fork_edit(chat, humans[len(humans) // 2])
            chat.updated_at = self.clock.tick()

    def retry(self, chat_uuid: str) -> None:
        """Regenerate the current leaf: a new assistant sibling becomes the leaf."""
        with self.lock:
            chat = self._chat(chat_uuid)
            leaf = chat.message(chat.current_leaf_message_uuid or "")
            if leaf is None or leaf.sender != "assistant":
                raise ValueError(f"chat {chat_uuid} has no assistant leaf to retry")
            chat.current_leaf_message_uuid = self._fork_retry(chat, leaf)
            chat.updated_at = self.clock.tick()

    def switch_leaf(self, chat_uuid: str, message_uuid: str | None = None) -> None:
        """Select another branch. Deliberately leaves `updated_at` alone (§3: unknown upstream).

        Without `message_uuid`, picks the first leaf that is not the current one.
        """
        with self.lock:
            chat = self._chat(chat_uuid)
            if message_uuid is None:
                others = [u for u in chat.leaves() if u != chat.current_leaf_message_uuid]
                if not others:
                    raise ValueError(f"chat {chat_uuid} has only one branch")
                message_uuid = others[0]
            elif chat.message(message_uuid) is None:
                raise KeyError(f"no message {message_uuid} in chat {chat_uuid}")
            chat.current_leaf_message_uuid = message_uuid

    def rename_chat(self, chat_uuid: str, name: str, *, bump_updated: bool = False) -> None:
        with self.lock:
            chat = self._chat(chat_uuid)
            chat.name = name
            if bump_updated:
                chat.updated_at = self.clock.tick()

    def set_starred(self, chat_uuid: str, starred: bool = True) -> None:
        with self.lock:
            self._chat(chat_uuid).is_starred = starred

    def set_empty_style(self, chat_uuid: str, style: EmptyStyle) -> None:
        """Switch null-vs-missing rendering, like a different replica answering (§2)."""
        with self.lock:
            self._chat(chat_uuid).empty_style = style

    def delete_chat(self, chat_uuid: str) -> None:
        with self.lock:
            org, _ = self.find_chat(chat_uuid) or (None, None)
            if org is None:
                raise KeyError(f"no chat {chat_uuid}")
            del org.chats[chat_uuid]

    # -- uploads, sandbox, artifacts -------------------------------------------

    def _register_upload(self, upload: Upload) -> None:
        with self.lock:
            self.uploads[upload.uuid] = upload

    def add_upload(
        self, org: Org, kind: FileKind = "image", name: str | None = None, data: bytes | None = None
    ) -> Upload:
        """An upload only `account/files` lists (e.g. its chat was deleted)."""
        with self.lock:
            uuid = self.new_uuid()
            default = {"image": "photo.png", "document": "paper.pdf", "blob": "data.bin"}[kind]
            upload = make_upload(uuid, org.uuid, kind, name or default, self.clock.tick(), data)
            self._register_upload(upload)
            return upload

    def attach_upload(
        self, chat_uuid: str, kind: FileKind = "image", name: str | None = None
    ) -> Upload:
        """The user sends a file: a new human message referencing it, and a reply."""
        with self.lock:
            chat = self._chat(chat_uuid)
            org = self._org_of(chat)
            upload = self.add_upload(org, kind, name)
            ts = self.clock.tick()
            reply = self._assistant_turn(chat, [text_block("I see your file.", ts)])
            human = chat.message(reply.parent_message_uuid)
            assert human is not None
            human.files_v2 = [upload.ref()]
            return upload

    def expire_upload(self, file_uuid: str, *, keep_preview: bool = False) -> None:
        """The upload's bytes vanish (404); with `keep_preview` only the lossy preview is left."""
        with self.lock:
            upload = self.uploads[file_uuid]
            if keep_preview:
                upload.contents_gone = True
            else:
                upload.gone = True

    def add_sandbox_turn(self, chat_uuid: str, files: dict[str, bytes]) -> list[str]:
        """Claude writes `files` (name -> bytes) with code execution; returns their paths."""
        with self.lock:
            chat = self._chat(chat_uuid)
            ts = self.clock.tick()
            blocks: list[JSON] = []
            paths = []
            for name, data in files.items():
                path = f"{SANDBOX_ROOT}/outputs/{name}"
                tid = self._content.tool_id()
                body = {"path": path, "file_text": data.decode("utf-8", "replace")[:200]}
                blocks.append(tool_use(tid, "create_file", body, ts, f"Creating {name}"))
                result = [{"type": "text", "text": f"File created successfully: {path}"}]
                blocks.append(tool_result(tid, "create_file", result, ts))
                chat.sandbox[path] = SandboxFile(path, data, ts)
                paths.append(path)
            blocks.append(text_block("Here are your files.", ts))
            self._assistant_turn(chat, blocks)
            return paths

    def expire_sandbox(self, chat_uuid: str) -> None:
        with self.lock:
            self._chat(chat_uuid).sandbox_gone = True

    def add_artifact_turn(self, chat_uuid: str, inputs: list[JSON]) -> None:
        """An assistant reply calling the `artifacts` tool once per input (create/update/...)."""
        with self.lock:
            chat = self._chat(chat_uuid)
            ts = self.clock.tick()
            blocks: list[JSON] = []
            for body in inputs:
                tid = self._content.tool_id()
                ok = [{"type": "text", "text": "OK"}]
                title = str(body.get("title") or body.get("id"))
                blocks += [tool_use(tid, "artifacts", dict(body), ts, title)]
                blocks += [tool_result(tid, "artifacts", ok, ts)]
            blocks.append(text_block("Done.", ts))
            self._assistant_turn(chat, blocks)

    def add_legacy_turn(self, chat_uuid: str, text: str) -> None:
        """A 2024-style reply: no content blocks, everything (and <antArtifact> tags) in `text`."""
        with self.lock:
            chat = self._chat(chat_uuid)
            message = self._assistant_turn(chat, [])
            message.text = text

    def _assistant_turn(self, chat: Chat, blocks: list[JSON]) -> Message:
        parent = chat.current_leaf_message_uuid or ROOT_MESSAGE_UUID
        ts = self.clock.tick()
        prompt = [text_block("Please go on.", ts)]
        human = Message(self.new_uuid(), parent, "human", len(chat.messages), ts, prompt)
        chat.messages.append(human)
        ts = self.clock.tick()
        reply = Message(self.new_uuid(), human.uuid, "assistant", len(chat.messages), ts, blocks)
        reply.stop_reason = "end_turn"
        chat.messages.append(reply)
        chat.current_leaf_message_uuid = reply.uuid
        chat.updated_at = self.clock.tick()
        return reply

    def _org_of(self, chat: Chat) -> Org:
        for account in self._accounts:
            for org in account.orgs:
                if org.uuid == chat.org_uuid:
                    return org
        raise KeyError(f"no organization {chat.org_uuid}")

    def org_uploads(self, org: Org) -> list[Upload]:
        """What `account/files` lists: newest first (ties by uuid)."""
        with self.lock:
            found = [u for u in self.uploads.values() if u.org_uuid == org.uuid]
            found = [u for u in found if u.in_account_list]
            found.sort(key=lambda u: u.uuid)
            found.sort(key=lambda u: u.created_at, reverse=True)
            return found

    # -- projects and memory ---------------------------------------------------

    def add_project(
        self, org: Org, name: str, instructions: str = "", description: str = ""
    ) -> Project:
        with self.lock:
            now = self.clock.tick()
            project = Project(self.new_uuid(), org.uuid, name, now, now, description, instructions)
            org.projects[project.uuid] = project
            return project

    def find_project(self, project_uuid: str) -> tuple[Org, Project]:
        with self.lock:
            for account in self._accounts:
                for org in account.orgs:
                    if project_uuid in org.projects:
                        return org, org.projects[project_uuid]
            raise KeyError(f"no project {project_uuid}")

    def rename_project(self, project_uuid: str, name: str) -> None:
        with self.lock:
            project = self.find_project(project_uuid)[1]
            project.name = name
            project.updated_at = self.clock.tick()

    def set_instructions(self, project_uuid: str, text: str) -> None:
        with self.lock:
            project = self.find_project(project_uuid)[1]
            project.prompt_template = text
            project.updated_at = self.clock.tick()

    def add_doc(self, project_uuid: str, file_name: str, content: str) -> Doc:
        """A knowledge doc. Like edits and removals, it leaves the project's `updated_at`."""
        with self.lock:
            project = self.find_project(project_uuid)[1]
            doc = Doc(self.new_uuid(), file_name, content, self.clock.tick())
            project.docs[doc.uuid] = doc
            return doc

    def edit_doc(self, project_uuid: str, doc_uuid: str, content: str) -> None:
        with self.lock:
            self.find_project(project_uuid)[1].docs[doc_uuid].content = content

    def add_project_file(
        self, project_uuid: str, kind: FileKind = "document", name: str | None = None
    ) -> Upload:
        """A binary project file (not in `account/files`); bumps the project's `updated_at`."""
        with self.lock:
            org, project = self.find_project(project_uuid)
            upload = self.add_upload(org, kind, name)
            upload.in_account_list = False
            project.files.append(upload)
            project.updated_at = self.clock.tick()
            return upload

    def delete_project(self, project_uuid: str) -> None:
        with self.lock:
            org, _ = self.find_project(project_uuid)
            del org.projects[project_uuid]

    def set_memory(self, org: Org, text: str | None, project_uuid: str | None = None) -> None:
        """Claude's memory of the user (org-wide, or one project's); None turns it off (404)."""
        with self.lock:
            now = self.clock.tick()
            if project_uuid is None:
                org.memory, org.memory_updated_at = text, now
            else:
                project = self.find_project(project_uuid)[1]
                project.memory, project.memory_updated_at = text, now

    def memory_json(self, org: Org, project_uuid: str | None = None) -> JSON | None:
        with self.lock:
            if project_uuid is None:
                if org.memory is None:
                    return None
                return memory_json(org.memory, org.memory_updated_at)
            project = org.projects.get(project_uuid)
            if project is None or project.memory is None:
                return None
            return memory_json(project.memory, project.memory_updated_at)

    def project_chats(self, org: Org, project_uuid: str) -> list[JSON]:
        with self.lock:
            items = self.list_chats(org)
            return [item for item in items if item.get("project_uuid") == project_uuid]

    # -- JSON views ------------------------------------------------------------

    def chat_summary(self, chat: Chat) -> JSON:
        """The v1/v2 list item."""
        with self.lock:
            style = chat.empty_style
            out: JSON = {"uuid": chat.uuid, "name": chat.name}
            _put_empty(out, "summary", chat.summary, style)
            out.update(
                model=chat.model,
                created_at=chat.created_at,
                updated_at=chat.updated_at,
                is_starred=chat.is_starred,
                is_temporary=chat.is_temporary,
                is_archived=chat.is_archived,
            )
            _put_empty(out, "current_leaf_message_uuid", chat.current_leaf_message_uuid, style)
            out["settings"] = copy.deepcopy(chat.settings)
            _put_empty(out, "project_uuid", chat.project_uuid, style)
            _put_empty(out, "session_id", None, style)
            out["platform"] = chat.platform
            return out

    def chat_detail(self, chat: Chat) -> JSON:
        """Exactly what GET .../chat_conversations/{uuid}?tree=True serves."""
        with self.lock:
            out = self.chat_summary(chat)
            out["chat_messages"] = [m.to_json(chat.empty_style) for m in chat.messages]
            return out

    def list_chats(
        self, org: Org, *, starred: bool | None = None, archived: bool | None = None
    ) -> list[JSON]:
        """List items, most recently updated first (ties by uuid), optionally filtered."""
        with self.lock:
            chats = sorted(org.chats.values(), key=lambda c: c.uuid)
            chats.sort(key=lambda c: c.updated_at, reverse=True)
            return [
                self.chat_summary(c)
                for c in chats
                if (starred is None or c.is_starred == starred)
                and (archived is None or c.is_archived == archived)
            ]


_DEMO_NAMES = (  # what a real account's sidebar looks like (the fuzzing names are in tests)
    "Plan a trip to Lisbon",
    "Refactor the config parser",
    "Sourdough starter schedule 🍞",
    "Budget 2026 / Q1",
    "Explain git rebase vs merge",
    "Cover letter for the data role",
    "Birthday party ideas for a 7-year-old",
    "Debug a flaky pytest fixture",
    "Summarize the quarterly report",
    "Spanish practice: ordering food",
    "Garden layout for a small balcony",
    "SQL query for monthly active users",
    "Translate the lease into plain English",
    "Marathon training plan, 16 weeks",
    "Write a haiku about autumn",
    "Compare two laptops for travel",
    "Meal prep for a busy week",
    "Draft a reply to the landlord",
    "Regex for ISO dates",
    "Bedtime story about a lighthouse",
    "Book club questions: Middlemarch",
    "Rust lifetimes, explained simply",
    "Wedding toast outline",
    "Kitchen renovation checklist",
)


def populate_demo(
    model: FakeClaude, session_key: str, *, chats: int = 50, email: str = "demo@example.com"
) -> Account:
    """One account with two chat orgs and one API-only org, holding `chats` varied chats."""
    with model.lock:
        account = model.add_account(session_key, email, "Demo User")
        personal = account.add_org(f"{email}'s Organization")
        team = account.add_org("Demo Team", ("chat", "raven"))
        account.add_org("API Console", ("api",))
        rng = random.Random(model.seed + 1)
        for i in range(chats):
            base = _DEMO_NAMES[i % len(_DEMO_NAMES)]
            name = base if i < len(_DEMO_NAMES) else f"{base} ({i // len(_DEMO_NAMES) + 1})"
            model.add_chat(
                team if i % 4 == 3 else personal,
                name,
                turns=rng.randint(1, 6),
                branches=rng.choice((0, 0, 0, 1, 2)),
            )
        _demo_extras(model, personal)
        from claude_backup.fakeapi.account_plus import populate_plus  # (it imports this one)

        populate_plus(model, account, personal)
        return account


def _demo_extras(model: FakeClaude, org: Org) -> None:
    """Uploads, a sandbox, artifacts, a project and memory, so a demo shows all of them."""
    chat = next(iter(org.chats.values()), None)
    if chat is not None:
        model.attach_upload(chat.uuid, "document", "agenda.pdf")
        model.add_sandbox_turn(chat.uuid, {"totals.csv": b"month,total\njan,3\nfeb,5\n"})
        notes = {"id": "notes", "type": "text/markdown", "title": "Notes", "command": "create"}
        model.add_artifact_turn(chat.uuid, [{**notes, "content": "# Notes\n\n- draft\n"}])
        edit = {"id": "notes", "command": "update", "old_str": "draft", "new_str": "final"}
        model.add_artifact_turn(chat.uuid, [edit])
    model.add_upload(org, "image", "whiteboard.png")
    project = model.add_project(org, "Demo Project", "Answer briefly.", "A project for the demo")
    model.add_doc(project.uuid, "style-guide.md", "# Style\n\nShort sentences.\n")
    model.add_project_file(project.uuid, "image", "logo.png")
    model.set_memory(org, "**Work context**\nDemo User tests backup tools.")
    model.set_memory(org, "Prefers short answers.", project.uuid)
