"""Settings from four places, later ones winning: built-in defaults, the TOML config file,
CLAUDE_BACKUP_* environment variables, command-line flags. Each value remembers where it came
from, for `claude-backup config show`. The session key is never a setting.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claude_backup.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_ENV = "CLAUDE_BACKUP_CONFIG"


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a yes/no value: {text!r}")


def _words(text: str) -> tuple[str, ...]:
    """A list from the environment: items separated by white space."""
    return tuple(text.split())


def _http_client(text: str) -> str:
    value = text.strip().lower()
    if value not in ("chrome", "httpx"):
        raise ValueError(f"not an HTTP client: {text!r}")
    return value


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    low: float | None = None
    high: float | None = None

    @property
    def env(self) -> str:
        return f"CLAUDE_BACKUP_{self.name.upper()}"


FIELDS = {
    field.name: field
    for field in (
        Field("archive", Path, None, "archive folder"),
        Field("base_url", str, "https://claude.ai", "where the Claude.ai API lives"),
        Field("connections", int, 2, "requests in flight at once", 1, 16),
        Field("success_delay", float, 0.25, "seconds to pause after each success", 0),
        Field("retries", int, 5, "retries of a failed request", 0, 100),
        Field("min_retry_delay", float, 1.0, "shortest wait before a retry, seconds", 0),
        Field("max_retry_delay", float, 60.0, "longest wait before a retry, seconds", 0),
        Field("timeout", float, 60.0, "seconds before a silent connection fails", 1),
        Field("http_client", _http_client, "chrome", "chrome (Chrome's handshake) or httpx"),
        Field("remote", str, None, "remote to push to (name or URL)"),
        Field("push", _bool, False, "push after each successful sync"),
        Field("prune_deleted", _bool, False, "remove chats deleted on claude.ai from the tree"),
        Field("files", _bool, True, "back up uploads and sandbox outputs"),
        Field("projects", _bool, True, "back up projects, their knowledge and memory"),
        Field("notify", _words, (), "Apprise URLs told when a sync fails (a list)"),
        Field("notify_command", str, None, "shell command fed the message when a sync fails"),
        Field("notify_success", _bool, False, "notify after a successful sync too"),
        Field("ping_url", str, None, "URL pinged after each sync, URL/fail after a failure"),
        Field("profile", _bool, True, "back up profile preferences and custom styles"),
        Field("skills", _bool, True, "back up your custom Skills, every file"),
        Field("catalog", _bool, True, "back up the artifact catalog and published pages"),
        Field("code", _bool, True, "back up Claude Code on the web session transcripts"),
        Field(
            "full_pass_hours",
            float,
            24.0,
            "hours between full reads of every project (0: every sync)",
            0,
        ),
    )
}


@dataclass(frozen=True)
class Value:
    value: Any
    source: str  # "default", "config file <path>", "env CLAUDE_BACKUP_X", "flag"


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("claude-backup", appauthor=False)) / "config.toml"


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's settings; a missing file is an empty one, a broken one a usage error."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read the config file {path}: {exc}") from exc
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise UsageError(f"unknown setting {unknown[0]!r} in {path}; known: {', '.join(FIELDS)}")
    return data


def resolve(
    flags: Mapping[str, Any],
    *,
    file_settings: Mapping[str, Any],
    file_label: str,
    environ: Mapping[str, str],
) -> dict[str, Value]:
    """Every setting's value and its source. Flags given as None count as not given. Pure."""
    resolved: dict[str, Value] = {}
    for name, field in FIELDS.items():
        value = Value(field.default, "default")
        if name in file_settings:
            value = Value(_coerce(field, file_settings[name], file_label), file_label)
        if environ.get(field.env, "") != "":
            value = Value(_coerce(field, environ[field.env], field.env), f"env {field.env}")
        if flags.get(name) is not None:
            value = Value(flags[name], "flag")
        resolved[name] = value
    return resolved


def _coerce(field: Field, raw: Any, where: str) -> Any:
    """A value from the config file (typed TOML) or the environment (text), checked."""
    bad = UsageError(f"bad value for {field.name} in {where}: {raw!r}")
    try:
        if isinstance(raw, str):
            value = field.parse(raw)
        elif field.parse is _bool and isinstance(raw, bool):
            value = raw
        elif field.parse is _words and isinstance(raw, list):
            if not all(isinstance(item, str) and item for item in raw):
                raise bad
            value = tuple(raw)
        elif field.parse in (int, float) and type(raw) in (int, float):
            value = field.parse(raw)
        else:
            raise bad
    except ValueError as exc:
        raise bad from exc
    if field.low is not None and value < field.low:
        raise bad
    if field.high is not None and value > field.high:
        raise bad
    return value


def load(flags: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Value]:
    """Settings as the CLI sees them: reads the config file and the environment."""
    env = os.environ if environ is None else environ
    path = config_path(env)
    return resolve(
        flags, file_settings=read_config_file(path), file_label=f"config file {path}", environ=env
    )
