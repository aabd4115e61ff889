"""The rest of the fake account (issue 17): profile, styles, skills, memory settings, the
artifact catalog, Claude Code sessions and `count_all`.

GET /api/account_profile
GET /api/organizations/{org}/list_styles
GET /api/organizations/{org}/skills/list-skills
GET /api/organizations/{org}/skills/download-dot-skill-file?skill_id=
GET /api/organizations/{org}/memory/settings
GET /api/organizations/{org}/user_artifacts?limit=&offset=
GET /api/organizations/{org}/published_artifacts
GET /api/organizations/{org}/chat_conversations/count_all
GET /v1/code/sessions                      (anthropic-version, anthropic-beta, x-organization-uuid)
GET /v1/code/sessions/{id}/events?limit=&cursor=

Every feature is served by default (empty where a new account has nothing); `disable` makes
one answer 404 for an account or organization, as on a plan without it. The state lives beside
the model (`plus_of`), so the core model stays as it was.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from claude_backup.fakeapi.faults import Reply, error_reply, json_bytes
from claude_backup.fakeapi.model import Account, FakeClaude, Org
from claude_backup.fakeapi.routes import BadRequest, not_found, org_refused, param

JSON = dict[str, Any]
CODE_VERSION = "2023-06-01"
CODE_BETA = "ccr-byoc-2025-07-29"
MAX_ARTIFACTS_PAGE = 50
MAX_EVENTS_PAGE = 100
FEATURES = (
    "profile",
    "styles",
    "skills",
    "memory_settings",
    "user_artifacts",
    "published_artifacts",
    "code_sessions",
    "count_all",
)
DEFAULT_STYLES = (
    ("Normal", "Default responses from Claude"),
    ("Concise", "Shorter responses & more messages"),
    ("Explanatory", "Educational responses for learning"),
    ("Formal", "Clear and well-structured responses"),
)


@dataclass(eq=False)
class FakeSkill:
    id: str
    name: str
    description: str
    files: dict[str, bytes]
    created_at: str
    updated_at: str
    creator_type: str = "user"
    source: str = "custom"
    enabled: bool = True

    def entry(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "source": self.source,
            "creator_type": self.creator_type,
            "partition_by": "user",
            "user_invocable": True,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def zip_bytes(self) -> bytes:
        """A DEFLATE zip with the skill's folder at the top, as the web app's download."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, data in sorted(self.files.items()):
                info = zipfile.ZipInfo(f"{self.name}/{path}", date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        return out.getvalue()


@dataclass(eq=False)
class FakeCodeSession:
    id: str
    title: str
    created_at: str
    updated_at: str
    events: list[JSON] = field(default_factory=list)

    def entry(self, org_uuid: str) -> JSON:
        return {
            "id": self.id,
            "title": self.title,
            "session_status": "idle",
            "environment_id": "env_011Fake",
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "organization_uuid": org_uuid,
            "tags": [],
        }


@dataclass
class OrgPlus:
    styles: list[JSON] = field(default_factory=list)
    skills: list[FakeSkill] = field(default_factory=list)
    memory_settings: JSON = field(
        default_factory=lambda: {
            "memory_mode": "classic",
            "enabled_melange": False,
            "enabled_saffron": True,
            "enabled_saffron_search": True,
        }
    )
    user_artifacts: list[JSON] = field(default_factory=list)
    published: list[JSON] = field(default_factory=list)
    sessions: list[FakeCodeSession] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # feature -> a body served as is
    disabled: set[str] = field(default_factory=set)


@dataclass
class AccountPlus:
    profile: JSON = field(
        default_factory=lambda: {
            "work_function": None,
            "conversation_preferences": None,
            "locale": "en-US",
            "onboarding_topics": [],
            "avatar": None,
        }
    )
    disabled: set[str] = field(default_factory=set)
    orgs: dict[str, OrgPlus] = field(default_factory=dict)


class Plus:
    """The issue-17 state of one fake world, and the calls tests use to change it."""

    def __init__(self, model: FakeClaude) -> None:
        self.model = model
        self.accounts: dict[str, AccountPlus] = {}
        self.listing_cap: int | None = None  # an unpaged v2 listing shows only this many

    def account(self, account: Account) -> AccountPlus:
        with self.model.lock:
            return self.accounts.setdefault(account.uuid, AccountPlus())

    def org(self, org: Org) -> OrgPlus:
        with self.model.lock:
            for account in self.model.accounts:
                if org in account.orgs:
                    return self.account(account).orgs.setdefault(org.uuid, OrgPlus())
        raise KeyError(f"no org {org.uuid}")

    # -- changes --------------------------------------------------------------------------------

    def disable(self, where: Account | Org, feature: str) -> None:
        """Make a feature answer 404 (`FEATURES`)."""
        assert feature in FEATURES, feature
        target = self.account(where) if isinstance(where, Account) else self.org(where)
        with self.model.lock:
            target.disabled.add(feature)

    def serve_raw(self, org: Org, feature: str, body: Any) -> None:
        """Answer `feature` with `body` as is (an unexpected shape)."""
        with self.model.lock:
            self.org(org).raw[feature] = body

    def set_profile(self, account: Account, **values: Any) -> None:
        with self.model.lock:
            self.account(account).profile.update(values)

    def add_style(self, org: Org, name: str, prompt: str, summary: str = "") -> JSON:
        with self.model.lock:
            style = {
                "type": "custom",
                "key": self.model.new_uuid(),
                "uuid": None,
                "name": name,
                "prompt": prompt,
                "summary": summary,
                "isDefault": False,
                "created_at": self.model.clock.tick(),
            }
            style["uuid"] = style["key"]
            self.org(org).styles.append(style)
            return style

    def add_skill(
        self, org: Org, name: str, files: Mapping[str, bytes], *, creator_type: str = "user"
    ) -> FakeSkill:
        with self.model.lock:
            now = self.model.clock.tick()
            skill = FakeSkill(
                f"skill_{self.model.new_uuid().replace('-', '')[:24]}",
                name,
                f"The {name} skill",
                dict(files),
                now,
                now,
                creator_type,
                "custom" if creator_type == "user" else "anthropic-example",
            )
            self.org(org).skills.append(skill)
            return skill

    def edit_skill(self, org: Org, name: str, files: Mapping[str, bytes]) -> FakeSkill:
        """Replace a skill's files; like the real `edit-simple-skill`, it gets a new id."""
        with self.model.lock:
            skill = next(s for s in self.org(org).skills if s.name == name)
            skill.files = dict(files)
            skill.id = f"skill_{self.model.new_uuid().replace('-', '')[:24]}"
            skill.updated_at = self.model.clock.tick()
            return skill

    def remove_skill(self, org: Org, name: str) -> None:
        with self.model.lock:
            plus = self.org(org)
            plus.skills = [s for s in plus.skills if s.name != name]

    def set_melange(self, org: Org) -> None:
        """The per-file memory mode: `/memory` answers an empty string from now on."""
        with self.model.lock:
            self.org(org).memory_settings.update(memory_mode="melange", enabled_melange=True)
            self.model.set_memory(org, "")

    def add_catalog_artifact(self, org: Org, chat_uuid: str, identifier: str, title: str) -> JSON:
        """An artifact in `user_artifacts`, published (in `published_artifacts`) too."""
        with self.model.lock:
            published = self.model.new_uuid()
            chat = org.chats.get(chat_uuid)
            item = {
                "uuid": self.model.new_uuid(),
                "artifact_identifier": identifier,
                "artifact_type": "text/html",
                "title": title,
                "chat_conversation_uuid": chat_uuid,
                "chat_conversation_name": chat.name if chat is not None else "",
                "visibility": "public",
                "latest_artifact_version_uuid": self.model.new_uuid(),
                "latest_published_artifact_uuid": published,
            }
            plus = self.org(org)
            plus.user_artifacts.append(item)
            plus.published.append(
                {
                    "published_artifact_uuid": published,
                    "artifact_identifier": identifier,
                    "artifact_type": "text/html",
                    "code_language": None,
                    "message_uuid": self.model.new_uuid(),
                    "artifact_version_uuid": item["latest_artifact_version_uuid"],
                    "title": title,
                    "deleted": False,
                    "created_at": self.model.clock.tick(),
                    "chat_conversation_uuid": chat_uuid,
                }
            )
            return item

    def add_code_session(self, org: Org, title: str, turns: int = 2) -> FakeCodeSession:
        with self.model.lock:
            now = self.model.clock.tick()
            session = FakeCodeSession(
                f"cse_{self.model.new_uuid().replace('-', '')[:24]}", title, now, now
            )
            self.org(org).sessions.append(session)
        self.add_code_turns(org, session.id, turns)
        return session

    def add_code_turns(self, org: Org, session_id: str, turns: int = 1) -> None:
        with self.model.lock:
            session = next(s for s in self.org(org).sessions if s.id == session_id)
            for _ in range(turns):
                n = len(session.events) // 2 + 1
                for kind, payload in (
                    ("user", {"type": "user", "message": {"role": "user", "content": f"Task {n}"}}),
                    (
                        "assistant",
                        {
                            "type": "assistant",
                            "message": {
                                "role": "assistant",
                                "content": [{"type": "text", "text": f"Done with task {n}."}],
                            },
                        },
                    ),
                ):
                    session.events.append(
                        {
                            "event_id": f"evt_{self.model.new_uuid().replace('-', '')[:20]}",
                            "event_type": kind,
                            "sequence_num": len(session.events) + 1,
                            "source": "session",
                            "created_at": self.model.clock.tick(),
                            "payload": payload,
                        }
                    )
            session.updated_at = self.model.clock.tick()


def plus_of(model: FakeClaude) -> Plus:
    """The world's issue-17 state, made on first use."""
    with model.lock:
        found = model.__dict__.get("_plus")
        if found is None:
            found = model.__dict__["_plus"] = Plus(model)
        assert isinstance(found, Plus)
        return found


# -- routes -------------------------------------------------------------------------------------


def _offset(params: Mapping[str, list[str]], name: str, default: int) -> int:
    raw = param(params, name)
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        value = -1
    if value < 0:
        raise BadRequest(f"{name} must be a non-negative integer")
    return value


def route_plus(
    model: FakeClaude,
    account: Account,
    segments: list[str],
    params: Mapping[str, list[str]],
    headers: Mapping[str, str],
    request_id: str,
) -> Reply | None:
    """The reply for an issue-17 path (all its segments, `api` or `v1` first), else None."""
    plus = plus_of(model)
    if segments == ["api", "account_profile"]:
        mine = plus.account(account)
        if "profile" in mine.disabled:
            return not_found(request_id)
        with model.lock:
            return Reply(200, json_bytes(mine.profile))
    if segments[:3] == ["v1", "code", "sessions"]:
        return _code(model, account, segments[3:], params, headers, request_id)
    if len(segments) < 4 or segments[:2] != ["api", "organizations"]:
        return None
    org = account.org(segments[2])
    tail = segments[3:]
    feature = _feature(tail)
    if feature is None:
        return None
    if org is None or "chat" not in org.capabilities:
        return org_refused(request_id)
    state = plus.org(org)
    if feature in state.disabled:
        return not_found(request_id)
    if feature in state.raw:
        return Reply(200, json_bytes(state.raw[feature]))
    with model.lock:
        return _org_reply(model, org, state, feature, tail, params, request_id)


def _feature(tail: list[str]) -> str | None:
    if tail == ["list_styles"]:
        return "styles"
    if len(tail) == 2 and tail[0] == "skills":
        return "skills"
    if tail == ["memory", "settings"]:
        return "memory_settings"
    if tail == ["user_artifacts"]:
        return "user_artifacts"
    if tail == ["published_artifacts"]:
        return "published_artifacts"
    if tail == ["chat_conversations", "count_all"]:
        return "count_all"
    return None


def _org_reply(
    model: FakeClaude,
    org: Org,
    state: OrgPlus,
    feature: str,
    tail: list[str],
    params: Mapping[str, list[str]],
    request_id: str,
) -> Reply | None:
    if feature == "styles":
        defaults = [
            {
                "type": "default",
                "key": name,
                "name": name,
                "nameKey": f"style_{name.lower()}",
                "prompt": f"{name} style.",
                "summary": summary,
                "summaryKey": f"style_{name.lower()}_summary",
                "isDefault": name == "Normal",
            }
            for name, summary in DEFAULT_STYLES
        ]
        return Reply(200, json_bytes({"defaultStyles": defaults, "customStyles": state.styles}))
    if feature == "skills":
        if tail[1] == "list-skills":
            return Reply(200, json_bytes({"skills": [s.entry() for s in state.skills]}))
        if tail[1] == "download-dot-skill-file":
            wanted = param(params, "skill_id")
            skill = next((s for s in state.skills if s.id == wanted), None)
            if skill is None:
                return not_found(request_id, "Skill not found")
            return Reply(200, skill.zip_bytes(), "application/zip")
        return None
    if feature == "memory_settings":
        return Reply(200, json_bytes(state.memory_settings))
    if feature == "user_artifacts":
        limit = min(_offset(params, "limit", MAX_ARTIFACTS_PAGE) or 1, MAX_ARTIFACTS_PAGE)
        offset = _offset(params, "offset", 0)
        page = state.user_artifacts[offset : offset + limit]
        more = offset + limit < len(state.user_artifacts)
        next_cursor = str(offset + limit) if more else None
        return Reply(200, json_bytes({"artifacts": page, "next_cursor": next_cursor}))
    if feature == "published_artifacts":
        return Reply(200, json_bytes(state.published))
    if feature == "count_all":
        return Reply(200, json_bytes({"count": len(org.chats), "is_first_conversation": False}))
    return None


def _code(
    model: FakeClaude,
    account: Account,
    tail: list[str],
    params: Mapping[str, list[str]],
    headers: Mapping[str, str],
    request_id: str,
) -> Reply | None:
    lower = {k.lower(): v for k, v in headers.items()}
    if lower.get("anthropic-version") != CODE_VERSION or CODE_BETA not in lower.get(
        "anthropic-beta", ""
    ):
        return error_reply(400, "anthropic-version and anthropic-beta are required", request_id)
    org = account.org(lower.get("x-organization-uuid", ""))
    if org is None:
        return error_reply(403, "x-organization-uuid names no organization of yours", request_id)
    state = plus_of(model).org(org)
    if "code_sessions" in state.disabled:
        return not_found(request_id)
    with model.lock:
        if not tail:
            if "code_sessions" in state.raw:
                return Reply(200, json_bytes(state.raw["code_sessions"]))
            items = sorted(state.sessions, key=lambda s: s.updated_at, reverse=True)
            body: JSON = {"data": [s.entry(org.uuid) for s in items], "next_cursor": None}
            return Reply(200, json_bytes(body))
        session = next((s for s in state.sessions if s.id == tail[0]), None)
        if session is None:
            return not_found(request_id, "Session not found")
        if tail[1:] == ["events"]:
            limit = min(_offset(params, "limit", MAX_EVENTS_PAGE) or 1, MAX_EVENTS_PAGE)
            start = _offset(params, "cursor", 0)
            page = session.events[start : start + limit]
            more = start + limit < len(session.events)
            body = {"data": page, "resume_cursor": str(start + limit) if more else None}
            return Reply(200, json_bytes(body))
    return None


def populate_plus(model: FakeClaude, account: Account, org: Org) -> None:
    """Something of every kind for the demo: preferences, a style, two skills (one of
    Anthropic's, not backed up), a published artifact, a Claude Code session; the second
    organization is in melange memory mode and has no skills (404)."""
    plus = plus_of(model)
    plus.set_profile(
        account,
        work_function="Software engineering",
        conversation_preferences="Answer in short paragraphs. Use metric units.",
    )
    plus.add_style(org, "Terse reviewer", "Review like a senior engineer: short, concrete.")
    plus.add_skill(
        org,
        "release-notes",
        {
            "SKILL.md": b"---\nname: release-notes\ndescription: Writes release notes\n---\n\n"
            b"Group changes by kind; one line each.\n",
            "templates/notes.md": b"## Added\n\n## Fixed\n",
        },
    )
    plus.add_skill(org, "pdf", {"SKILL.md": b"---\nname: pdf\n---\n"}, creator_type="anthropic")
    chat = next(iter(org.chats.values()), None)
    if chat is not None:
        plus.add_catalog_artifact(org, chat.uuid, "budget-dashboard", "Budget dashboard")
    plus.add_code_session(org, "Fix the flaky test", turns=2)
    others = [o for o in account.orgs if o is not org and "chat" in o.capabilities]
    for other in others:
        plus.disable(other, "skills")
        plus.set_melange(other)
