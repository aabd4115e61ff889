"""How old a session key is, and when it is expected to expire.

A browser's cookie carries its expiry. A pasted key does not, so the first time we see a key we
remember the moment, under a salted hash of the key (never the key): Claude.ai session keys
live about 28 days after sign-in, and from 5 days before that we warn.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from claude_backup.config import config_path
from claude_backup.keys import SessionKey
from claude_backup.privatefile import write_private

LIFETIME = timedelta(days=28)
WARN_BEFORE = timedelta(days=5)
FORGET_AFTER = timedelta(days=90)
FIX = "paste a fresh sessionKey with `claude-backup key set`"


def ages_path(environ: Mapping[str, str] | None = None) -> Path:
    return config_path(environ).parent / "key-ages.json"


@dataclass(frozen=True)
class KeyAge:
    """What we know of one key's age. `first_used` is None for a browser cookie."""

    source: str
    expires: datetime
    first_used: datetime | None
    from_cookie: bool

    def days_left(self, now: datetime) -> float:
        return (self.expires - now) / timedelta(days=1)

    def describe(self, now: datetime) -> str:
        left = self.days_left(now)
        if self.from_cookie:
            basis = f"the cookie expires {self.expires.date().isoformat()}"
        else:
            assert self.first_used is not None
            used = (now - self.first_used) / timedelta(days=1)
            basis = f"first used {_days(used)} ago; keys last about 28 days"
        when = f"in about {_days(left)}" if left > 0 else f"{_days(-left)} ago"
        verb = "expires" if self.from_cookie and left > 0 else "expected to expire"
        if left <= 0:
            verb = "expired" if self.from_cookie else "expected to have expired"
        return f"session key from {self.source}: {verb} {when} ({basis})"

    def warning(self, now: datetime) -> str | None:
        """A one-line warning once the key is within 5 days of its (expected) expiry."""
        if self.expires - now > WARN_BEFORE:
            return None
        return f"{self.describe(now)}; {FIX}"

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "expires": self.expires.isoformat(timespec="seconds"),
            "first_used": self.first_used.isoformat(timespec="seconds")
            if self.first_used
            else None,
            "from_cookie": self.from_cookie,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyAge | None:
        try:
            first = data.get("first_used")
            return cls(
                source=str(data["source"]),
                expires=datetime.fromisoformat(data["expires"]),
                first_used=datetime.fromisoformat(first) if first else None,
                from_cookie=bool(data.get("from_cookie")),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _days(days: float) -> str:
    whole = max(0, round(days))
    if -1 < days < 1:
        hours = round(abs(days) * 24)
        if hours < 1:
            return "less than an hour"
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{whole} day{'s' if whole != 1 else ''}"


class KeyAges:
    """The file of first-use times: {"salt": hex, "keys": {digest: {"first_used": iso, ...}}}."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data = _read(path)
        salt = data.get("salt")
        self.salt = salt if isinstance(salt, str) and salt else secrets.token_hex(16)
        keys = data.get("keys")
        self.entries: dict[str, dict[str, Any]] = keys if isinstance(keys, dict) else {}
        self.changed = not (path.exists() and salt == self.salt)

    def digest(self, key: SessionKey) -> str:
        return hashlib.sha256(f"{self.salt}:{key.reveal()}".encode()).hexdigest()

    def age(self, key: SessionKey, now: datetime, *, remember: bool = True) -> KeyAge | None:
        """The key's age; a key never seen before is first used `now` (if `remember`)."""
        expires = getattr(key, "expires", None)
        if expires is not None:
            return KeyAge(
                key.source, datetime.fromtimestamp(expires, timezone.utc), None, from_cookie=True
            )
        entry = self.entries.get(self.digest(key))
        first = _parse_time(entry.get("first_used")) if isinstance(entry, dict) else None
        if first is None:
            if not remember:
                return None
            first = now
            self.entries[self.digest(key)] = {"first_used": now.isoformat(timespec="seconds")}
            self.changed = True
        return KeyAge(key.source, first + LIFETIME, first, from_cookie=False)

    def restart(self, key: SessionKey, now: datetime) -> None:
        """A key just pasted or renewed: its 28 days start now."""
        self.entries[self.digest(key)] = {"first_used": now.isoformat(timespec="seconds")}
        self.changed = True

    def should_notify(self, key: SessionKey, now: datetime) -> bool:
        """At most one key-age notification a day per key."""
        entry = self.entries.setdefault(self.digest(key), {})
        today = now.date().isoformat()
        if entry.get("warned") == today:
            return False
        entry["warned"] = today
        self.changed = True
        return True

    def save(self, now: datetime) -> None:
        """Best effort: forgetting an age costs a late warning, never a failed sync."""
        if not self.changed:
            return
        for digest, entry in list(self.entries.items()):
            first = _parse_time(entry.get("first_used")) if isinstance(entry, dict) else None
            if first is not None and now - first > FORGET_AFTER:
                del self.entries[digest]
        data = {"salt": self.salt, "keys": self.entries}
        with contextlib.suppress(OSError):
            write_private(self.path, json.dumps(data, indent=1, sort_keys=True).encode())
            self.changed = False


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
