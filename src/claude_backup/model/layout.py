"""Where things live in the archive (pure path arithmetic, POSIX relative paths).

    .claude-backup.json                          marks the repository as an archive of ours
    <email>-<account uuid>/account.json
    <email>-<account uuid>/<org name>-<org uuid>/organization.json
    <email>-<account uuid>/<org name>-<org uuid>/chats/<title>-<chat uuid>.json
    <email>-<account uuid>/<org name>-<org uuid>/deleted/<title>-<chat uuid>.json

Names carry the uuid, so a rename on claude.ai is a rename in git, and a path tells which
account, organization and chat a file belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from claude_backup.model.naming import chat_file_name, folder_name, uuid_of

MARKER = ".claude-backup.json"
ACCOUNT_FILE = "account.json"
ORG_FILE = "organization.json"
CHATS = "chats"
DELETED = "deleted"
TEMP_PREFIX = ".claude-backup-tmp-"


def account_dir(account: dict[str, Any]) -> str:
    title = account.get("email_address") or account.get("full_name") or "account"
    return folder_name(title, str(account.get("uuid")))


def org_folder(org: dict[str, Any]) -> str:
    return folder_name(org.get("name"), str(org.get("uuid")))


def org_dir(account_path: str, org: dict[str, Any]) -> str:
    return f"{account_path}/{org_folder(org)}"


def chat_path(org_path: str, name: object, uuid: str, *, deleted: bool = False) -> str:
    return f"{org_path}/{DELETED if deleted else CHATS}/{chat_file_name(name, uuid)}"


@dataclass(frozen=True)
class ChatLocation:
    account_uuid: str
    org_uuid: str
    chat_uuid: str
    deleted: bool


def parse_chat_path(path: str) -> ChatLocation | None:
    """The account, organization and chat a path in the archive belongs to, if it is a chat."""
    parts = path.split("/")
    if len(parts) != 4 or parts[2] not in (CHATS, DELETED) or not parts[3].endswith(".json"):
        return None
    account_uuid, org_uuid, chat_uuid = uuid_of(parts[0]), uuid_of(parts[1]), uuid_of(parts[3])
    if account_uuid is None or org_uuid is None or chat_uuid is None:
        return None
    return ChatLocation(account_uuid, org_uuid, chat_uuid, parts[2] == DELETED)


@dataclass(frozen=True)
class ChatFile:
    """A chat file found in a snapshot of the archive."""

    path: str  # relative to the archive, with forward slashes
    location: ChatLocation

    @property
    def uuid(self) -> str:
        return self.location.chat_uuid


def find_chat_files(
    folders: Callable[[str], Iterable[str]], names: Callable[[str], Iterable[str]]
) -> list[ChatFile]:
    """Every chat file of a snapshot of the archive (the working tree, a git revision), sorted by
    path. `folders(rel)` names the folders in the folder `rel` ("" the archive's root);
    `names(rel)` names what else is in it (nothing when there is no such folder)."""
    found: list[ChatFile] = []
    for account in folders(""):
        for org in folders(account):
            for kind in (CHATS, DELETED):
                folder = f"{account}/{org}/{kind}"
                for name in names(folder):
                    location = parse_chat_path(f"{folder}/{name}")
                    if location is not None:
                        found.append(ChatFile(f"{folder}/{name}", location))
    found.sort(key=lambda f: f.path)
    return found


# Beside chats/ in an organization's folder (sync/extras/paths.py describes them).
FILES = "files"
CHAT_FILES = "chat-files"
PROJECTS = "projects"
DELETED_PROJECTS = "deleted-projects"
CHAT_INDEX = "index.json"
MEMORY_MD = "memory.md"
MEMORY_JSON = "memory.json"
SANDBOX = "sandbox"
SANDBOX_ROOT = "/mnt/user-data/"
ARTIFACTS = "artifacts"
ARTIFACTS_INDEX = f"{ARTIFACTS}/index.json"

# the account's smaller parts (issue 17)
PROFILE = "profile"  # <account>/profile/
PROFILE_JSON = "account_profile.json"
PROFILE_MD = "preferences.md"
STYLES = "styles"
STYLES_JSON = "list_styles.json"
SKILLS = "skills"
SKILLS_JSON = "list-skills.json"
CATALOG = "artifact-catalog"
MEMORY_SETTINGS = "memory-settings.json"
MEMORY_FILES = "memory-files"  # per-file memory, from the official export (`import`)
CODE_SESSIONS = "code-sessions"
CODE_LISTING = "sessions.json"


def is_users_skill(skill: Mapping[str, Any]) -> bool:
    """One of the user's own skills, the ones backed up (not Anthropic's examples, not a
    plugin's)."""
    creator = skill.get("creator_type")
    if isinstance(creator, str):
        return creator == "user"
    return skill.get("source") == "custom"
