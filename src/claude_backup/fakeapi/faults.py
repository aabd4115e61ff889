"""Fault injection for the fake server: scripted faults and a seeded random mix.

Each fault mimics something real clients have met (§4 of claude-api.md):
error envelopes, Cloudflare challenges, region redirects, truncated bodies,
dropped connections, slow answers and 429s.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

FAULT_KINDS = frozenset(
    {
        "status",
        "html",
        "invalid_json",
        "html_200",
        "redirect",
        "reset",
        "stall",
        "rate_limit",
        "not_found",
    }
)
TRANSIENT_KINDS: tuple[str, ...] = ("500", "502", "503", "504", "429", "reset", "invalid_json")
"""Default `random_mix` kinds: a number is an HTTP status, a word a `Fault.kind`."""

REGION_URL = "https://claude.ai/app-unavailable-in-region"

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "permission_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}

_CHALLENGE_HTML = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head>
<body><div class="main-wrapper"><h1>claude.ai</h1>
<h2>Verifying you are human. This may take a few seconds.</h2>
<noscript>Enable JavaScript and cookies to continue</noscript></div></body></html>
"""

_LOGIN_HTML = """<!doctype html><html><head><title>Claude</title></head>
<body><div id="root">Log in to Claude</div><script src="/_next/static/app.js"></script></body>
</html>
"""


@dataclass(frozen=True)
class Reply:
    """A complete HTTP answer; `body` already encoded."""

    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def json_bytes(data: object) -> bytes:
    """UTF-8 JSON, non-ASCII kept; falls back to escapes for lone surrogates."""
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(data, separators=(",", ":")).encode("ascii")


def error_reply(
    status: int,
    message: str,
    request_id: str,
    *,
    code: str | None = None,
    error_type: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Reply:
    """The §2.9 error envelope."""
    details: dict[str, str] = {"error_visibility": "user_facing"}
    if code is not None:
        details["error_code"] = code
    envelope = {
        "type": "error",
        "error": {
            "type": error_type or _ERROR_TYPES.get(status, "api_error"),
            "message": message,
            "details": details,
        },
        "request_id": request_id,
    }
    return Reply(status, json_bytes(envelope), headers=headers)


def not_found_reply(request_id: str) -> Reply:
    return error_reply(
        404, "Conversation not found", request_id, code="chat_conversation_not_found"
    )


@dataclass
class Fault:
    """One injected failure; matches requests by endpoint kind and/or path substring.

    kind: "status" | "html" | "invalid_json" | "html_200" | "redirect" | "reset"
    | "stall" | "rate_limit" | "not_found". `times=None` hits every matching request.
    """

    kind: str
    status: int | None = None
    retry_after: str | None = None
    seconds: float = 0.0
    endpoint: str | None = None
    path_contains: str | None = None
    times: int | None = 1

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be None or at least 1")

    def matches(self, endpoint: str, path: str) -> bool:
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        return self.path_contains is None or self.path_contains in path

    def reply(self, request_id: str) -> Reply | None:
        """The response to send; None for "reset" (and "stall", which answers normally)."""
        kind = self.kind
        if kind == "status":
            status = self.status or 500
            return error_reply(status, f"Injected error {status}", request_id)
        if kind == "rate_limit":
            extra = (("Retry-After", self.retry_after),) if self.retry_after else ()
            return error_reply(self.status or 429, "Rate limited", request_id, headers=extra)
        if kind == "not_found":
            return not_found_reply(request_id)
        if kind == "html":
            headers = (
                ("cf-mitigated", "challenge"),
                ("server", "cloudflare"),
                ("cf-ray", "8f00000000000000-LHR"),
            )
            return Reply(
                self.status or 403, _CHALLENGE_HTML.encode(), "text/html; charset=UTF-8", headers
            )
        if kind == "html_200":
            return Reply(200, _LOGIN_HTML.encode(), "text/html; charset=utf-8")
        if kind == "invalid_json":
            return Reply(200, b'{"data":[{"uuid":"0b4c1f6e-', "application/json")
        if kind == "redirect":
            return Reply(self.status or 302, b"", None, (("Location", REGION_URL),))
        return None


def parse_kind(spec: str) -> Fault:
    """A mix kind: "503" -> status fault, "429" -> rate limit, a word -> that kind."""
    if spec.isdigit():
        status = int(spec)
        kind = "rate_limit" if status == 429 else "status"
        return Fault(kind, status=status, times=None)
    return Fault(spec, seconds=1.0 if spec == "stall" else 0.0, times=None)


@dataclass
class _Mix:
    rate: float
    rng: random.Random
    faults: tuple[Fault, ...]
    endpoints: frozenset[str] | None


class FaultPlan:
    """Thread-safe set of pending faults. Scripted faults win over the random mix."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._mix: _Mix | None = None
        self._hits = 0
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def random_mix(
        self,
        rate: float,
        seed: int,
        kinds: Sequence[str] = TRANSIENT_KINDS,
        *,
        endpoints: Collection[str] | None = None,
    ) -> None:
        """From now on each (matching) request fails with probability `rate`."""
        faults = tuple(parse_kind(k) for k in kinds)
        only = frozenset(endpoints) if endpoints is not None else None
        with self._lock:
            self._mix = _Mix(rate, random.Random(seed), faults, only)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._mix = None

    def hits(self) -> int:
        with self._lock:
            return self._hits

    def take(self, endpoint: str, path: str) -> Fault | None:
        """The fault for this request, if any, consuming one of its `times`."""
        with self._lock:
            fault = self._take_scripted(endpoint, path) or self._take_random(endpoint)
            if fault is not None:
                self._hits += 1
            return fault

    def _take_scripted(self, endpoint: str, path: str) -> Fault | None:
        return take_first(self._faults, endpoint, path)

    def _take_random(self, endpoint: str) -> Fault | None:
        mix = self._mix
        if mix is None or not mix.faults:
            return None
        if mix.endpoints is not None and endpoint not in mix.endpoints:
            return None
        if mix.rng.random() >= mix.rate:
            return None
        return mix.rng.choice(mix.faults)


class _Scripted(Protocol):
    times: int | None

    def matches(self, endpoint: str, path: str) -> bool: ...


S = TypeVar("S", bound=_Scripted)


def take_first(faults: list[S], endpoint: str, path: str) -> S | None:
    """The first scripted fault for this request, used up once (`times`); None if none."""
    for fault in faults:
        if fault.matches(endpoint, path):
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    faults.remove(fault)
            return fault
    return None
