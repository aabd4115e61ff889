"""Faults below the JSON: how an answer travels, and the cookies it sets.

- `drip`: the answer's body leaves one byte every `seconds` (a between-bytes timeout never fires);
- `gzip_bomb`: a 200 whose gzip body (about 1 MB) inflates to `size` bytes (1 GiB by default);
- key events: on an authenticated success, `Set-Cookie` renews the session key (the new key is
  valid from then on, and the old one too unless `revoke_old`), clears it (`sessionKey=""`,
  `Max-Age=0`, as claude.ai has done), or offers a well-formed key the server will refuse.
Each mimics claude.ai or a hostile network (claude-api-2.md §4.1, issue 14 §5).
"""

from __future__ import annotations

import functools
import secrets
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Protocol

from claude_backup.fakeapi.faults import Reply, take_first
from claude_backup.fakeapi.model import FakeClaude

WIRE_KINDS = frozenset({"drip", "gzip_bomb"})
KEY_EVENTS = frozenset({"renew", "clear", "bogus"})


class Sender(Protocol):
    """What the server's request handler offers a wire fault."""

    def send_head(self, status: int, headers: list[tuple[str, str]]) -> None: ...
    def send_bytes(self, data: bytes) -> None: ...


@dataclass
class WireFault:
    """How one matching answer is sent. `times=None` hits every matching request."""

    kind: str
    seconds: float = 1.5  # drip: pause before each byte
    size: int = 1 << 30  # gzip_bomb: bytes once inflated
    endpoint: str | None = None
    path_contains: str | None = None
    times: int | None = 1

    def __post_init__(self) -> None:
        if self.kind not in WIRE_KINDS:
            raise ValueError(f"unknown wire fault {self.kind!r}; one of {sorted(WIRE_KINDS)}")

    def matches(self, endpoint: str, path: str) -> bool:
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        return self.path_contains is None or self.path_contains in path

    def send(self, reply: Reply, sender: Sender, stop: threading.Event) -> None:
        if self.kind == "gzip_bomb":
            body = gzip_bomb(self.size)
            headers = [
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
                ("Content-Length", str(len(body))),
            ]
            sender.send_head(200, headers)
            sender.send_bytes(body)
            return
        headers = list(reply.headers)
        if reply.content_type is not None:
            headers.insert(0, ("Content-Type", reply.content_type))
        headers.append(("Content-Length", str(len(reply.body))))
        sender.send_head(reply.status, headers)
        for i in range(len(reply.body)):
            if stop.wait(self.seconds):
                return
            sender.send_bytes(reply.body[i : i + 1])  # OSError once the client hangs up


@functools.lru_cache(maxsize=2)
def gzip_bomb(size: int) -> bytes:
    """A valid gzip stream of `size` zero bytes (1 GiB: about 1 MB), made in well under a second:
    one block of zeros is deflated once, ending in a full flush (which resets the window, so
    the segment can be repeated), and the CRC is that of the zeros."""
    block = 1 << 20
    whole, rest = divmod(size, block)
    segment = _deflated_zeros(block)
    crc = 0
    zeros = bytes(block)
    for _ in range(whole):
        crc = zlib.crc32(zeros, crc)
    parts = [b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff", segment * whole]
    if rest:
        parts.append(_deflated_zeros(rest))
        crc = zlib.crc32(bytes(rest), crc)
    parts.append(b"\x03\x00")  # an empty final block
    parts.append(struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))
    return b"".join(parts)


def _deflated_zeros(count: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(bytes(count)) + packer.flush(zlib.Z_FULL_FLUSH)


@dataclass
class KeyEvent:
    """A Set-Cookie on the `after`+1-th authenticated success from now (0: the next one)."""

    kind: str
    after: int = 0
    revoke_old: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KEY_EVENTS:
            raise ValueError(f"unknown key event {self.kind!r}; one of {sorted(KEY_EVENTS)}")


class WirePlan:
    """Thread-safe pending wire faults and key events, and what they did (for tests)."""

    def __init__(self) -> None:
        self._faults: list[WireFault] = []
        self._events: list[KeyEvent] = []
        self._lock = threading.Lock()
        self.issued_keys: list[str] = []  # keys handed out by "renew" (valid on the server)
        self.refused_keys: list[str] = []  # keys handed out by "bogus" (never valid)
        self.cleared = 0
        self.cookie_names: list[tuple[str, ...]] = []  # names (never values) each request sent

    def note_cookies(self, cookie_headers: list[str]) -> None:
        names = tuple(
            pair.split("=", 1)[0].strip()
            for header in cookie_headers
            for pair in header.split(";")
            if "=" in pair
        )
        with self._lock:
            self.cookie_names.append(names)

    def add(self, fault: WireFault) -> None:
        with self._lock:
            self._faults.append(fault)

    def add_key_event(self, event: KeyEvent) -> None:
        with self._lock:
            self._events.append(event)

    def clear(self) -> None:
        """No more wire faults or key events."""
        with self._lock:
            self._faults.clear()
            self._events.clear()

    def take(self, endpoint: str, path: str) -> WireFault | None:
        with self._lock:
            return take_first(self._faults, endpoint, path)

    def cookies_for(self, model: FakeClaude, session_key: str | None) -> list[tuple[str, str]]:
        """Set-Cookie headers for an authenticated success sent with `session_key`."""
        with self._lock:
            if not self._events or session_key is None:
                return []
            event = self._events[0]
            if event.after > 0:
                event.after -= 1
                return []
            self._events.pop(0)
            account = model.account_for_key(session_key)
            if event.kind == "clear":
                self.cleared += 1
                return [_set_cookie('sessionKey=""', "Max-Age=0")]
            new = f"sk-ant-sid02-{secrets.token_urlsafe(64)}-{int(time.time())}AA"
            if event.kind == "bogus":
                self.refused_keys.append(new)
            elif account is not None:
                model.add_session_key(account, new)
                self.issued_keys.append(new)
                if event.revoke_old:
                    model.revoke_session_key(session_key)
            return [
                _set_cookie(f"sessionKey={new}", "Max-Age=2419200"),
                _set_cookie(f"__cf_bm=fake-bm-{secrets.token_hex(8)}", "Max-Age=1800"),
            ]


def _set_cookie(pair: str, *attributes: str) -> tuple[str, str]:
    parts = [pair, *attributes, "Path=/", "Domain=.claude.ai", "Secure", "HttpOnly", "SameSite=Lax"]
    return ("Set-Cookie", "; ".join(parts))
