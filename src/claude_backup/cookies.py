"""The cookies of one run: the session key, and what the server sets on the way (Cloudflare's
`__cf_bm` and `cf_clearance`, and a renewed `sessionKey`), sent back as a browser would.

claude.ai can renew the key (`Set-Cookie: sessionKey=<new>`) and can clear it (`sessionKey=""`,
`Max-Age=0`). A renewed key that looks like a key is used from then on; a cleared or malformed
one is ignored, so the key in use is never emptied. If the server then refuses the renewed key,
the previous one is put back (`refused`). Values never appear in a repr or a message.
"""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime

from claude_backup.keys import SessionKey

SESSION_COOKIE = "sessionKey"
KEY_PATTERN = re.compile(r"sk-ant-sid0\d-[A-Za-z0-9_\-]{8,500}")
"""What a renewed key must look like to be used (and written back): `sk-ant-sid0N-...`."""


def is_session_key(value: str) -> bool:
    return KEY_PATTERN.fullmatch(value) is not None


class RunCookies:
    """Cookies kept for the run, in the order first set; the session key first."""

    def __init__(self, key: SessionKey) -> None:
        self.key = key
        self.original = key
        self.previous: SessionKey | None = None  # the key before an unconfirmed renewal
        self._others: dict[str, str] = {}
        self._refused: list[SessionKey] = []  # renewed keys the server refused
        self._retired: list[SessionKey] = []  # keys a renewal replaced

    def __repr__(self) -> str:
        return f"RunCookies(<hidden>, {len(self._others)} other cookie(s))"

    @property
    def renewed(self) -> bool:
        """A new key is in use (whether or not the server has accepted it yet)."""
        return self.key != self.original

    def header(self) -> str:
        pairs = [(SESSION_COOKIE, self.key.reveal()), *self._others.items()]
        return "; ".join(f"{name}={value}" for name, value in pairs)

    def update(self, set_cookie_headers: list[str]) -> bool:
        """Take the server's Set-Cookie headers; True when they renewed the session key."""
        renewed = False
        for header in set_cookie_headers:
            parsed = _parse_set_cookie(header)
            if parsed is None:
                continue
            name, value, expired = parsed
            if name == SESSION_COOKIE:
                known = [self.key, *self._refused]
                fresh = all(value != k.reveal() for k in known)
                if not expired and is_session_key(value) and fresh:
                    self.previous = self.key
                    self._retired.append(self.key)
                    self.key = SessionKey(value, self.key.source)
                    renewed = True
                continue  # a cleared or malformed key is never taken
            if expired or not value:
                self._others.pop(name, None)
            else:
                self._others[name] = value
        return renewed

    def confirm(self, sent_with: SessionKey) -> SessionKey | None:
        """The server accepted `sent_with`: the renewed key to keep, when that was it."""
        if self.previous is None or sent_with != self.key:
            return None
        self.previous = None
        return self.key

    def refused(self, sent_with: SessionKey) -> bool:
        """The server refused `sent_with`: True when the request is worth sending again with
        the key now in use: `sent_with` was replaced meanwhile, or it was a renewed key not yet
        accepted, and the previous key is back in use."""
        if sent_with != self.key and (sent_with in self._refused or sent_with in self._retired):
            return True  # sent with a key since replaced: worth asking again with the current one
        if self.previous is None or sent_with != self.key:
            return False
        self._refused.append(self.key)
        self.key, self.previous = self.previous, None
        return True


def _parse_set_cookie(header: str) -> tuple[str, str, bool] | None:
    """(name, value, expired) of one Set-Cookie header; None when it is not one."""
    first, *attributes = header.split(";")
    name, sep, value = first.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name:
        return None
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    expired = False
    has_max_age = any(a.strip().lower().startswith("max-age") for a in attributes)
    for attribute in attributes:
        key, _, arg = attribute.partition("=")
        key, arg = key.strip().lower(), arg.strip()
        if key == "max-age":
            try:
                expired = int(arg) <= 0
            except ValueError:
                continue
        elif key == "expires" and not has_max_age:  # Max-Age wins over Expires
            try:
                expired = parsedate_to_datetime(arg).timestamp() <= time.time()
            except (TypeError, ValueError, IndexError, OverflowError):
                continue
    return name, value, expired
