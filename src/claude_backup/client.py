"""The Claude.ai web API client: httpx, bounded concurrency, politeness, retries.

Politeness is enforced here, in one place: at most `connections` requests in flight, a pause of
`success_delay` after each success (holding the slot), and a 429 pauses every request, not only
the one that got it, and makes later pauses longer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import backoff
import httpx

from claude_backup.cookies import RunCookies
from claude_backup.errors import (
    ApiError,
    AuthError,
    BlockedError,
    Gone,
    RetryableApiError,
    UnexpectedResponse,
)
from claude_backup.identity import browser_headers
from claude_backup.keys import SessionKey
from claude_backup.model import jsonvalue
from claude_backup.retry import parse_retry_after, wait_generator
from claude_backup.transport.body import Deadline, DeadlinePassed, Limits, read_body
from claude_backup.transport.clients import DEFAULT_HTTP_CLIENT, client_options

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
FRESH_KEY_HINT = "session key expired or invalid — copy a fresh sessionKey cookie from claude.ai"
CLOUDFLARE_HINT = (
    "claude.ai's bot protection (Cloudflare) blocked the request; try fewer connections (-c 1), "
    "a longer delay (-d 2), or another network (VPN and datacenter addresses are often blocked)"
)
HTTP_CLIENT_HINT = {
    "chrome": "the request was sent by the chrome client (Chrome's handshake); "
    "--http-client httpx tries plain httpx",
    "httpx": "the request was sent by the plain httpx client, which Cloudflare tells from a "
    "browser; --http-client chrome (the default) sends Chrome's handshake",
}
TREE_PARAMS = {
    "tree": "True",
    "rendering_mode": "messages",
    "render_all_tools": "true",
    "return_dangling_human_message": "true",
    "consistency": "strong",
}
MAX_LIST_PAGES = 10_000
MAX_CATCH_UP = 3  # rereadings of a paginated listing's top, for chats that moved up meanwhile


@dataclass(frozen=True)
class Politeness:
    connections: int = 2
    success_delay: float = 0.25
    retries: int = 5
    min_retry_delay: float = 1.0
    max_retry_delay: float = 60.0
    timeout: float = 60.0


RetryListener = Callable[[str, float, BaseException], None]
KeyListener = Callable[[SessionKey, SessionKey], None]
"""Told (old key, renewed key) once the server has accepted a renewed key."""


@dataclass(frozen=True)
class _Expect:
    """What a request's answer should be: from an auth endpoint (any 403 means a bad key),
    possibly gone (404/410 raise Gone), raw bytes rather than JSON, or a body streamed `into`
    a file."""

    auth_endpoint: bool
    gone_on_404: bool
    raw: bool
    headers: tuple[tuple[str, str], ...] = ()  # sent with this request only
    outside_api: bool = False  # the path is under the host, not under /api
    into: Path | None = None


class ClaudeClient:
    def __init__(
        self,
        base_url: str,
        key: SessionKey,
        politeness: Politeness,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: str = DEFAULT_HTTP_CLIENT,
        on_retry: RetryListener | None = None,
        on_key_renewed: KeyListener | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.politeness = politeness
        self.http_client = http_client
        self._slots = asyncio.Semaphore(politeness.connections)
        self._resume_at = 0.0
        self._penalty = 0.0
        self._on_retry = on_retry
        self._on_key_renewed = on_key_renewed
        self._limits = limits or Limits(timeout=politeness.timeout)
        self.cookies = RunCookies(key)
        self.key_renewed = False  # a renewed key was accepted during this run
        self._kept_key = key  # the key last confirmed (and so written back)
        self.requests = 0
        self.retries = 0
        self._origin = base_url.rstrip("/")
        options: dict[str, Any] = {"transport": transport}
        if transport is None:
            options = client_options(http_client, connections=politeness.connections)
        self._http = httpx.AsyncClient(
            base_url=self._origin + "/api",
            headers=browser_headers(base_url),
            follow_redirects=False,
            # httpx keeps no cookie: the run's cookies live in self.cookies, sent as one header
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            timeout=httpx.Timeout(politeness.timeout, connect=min(politeness.timeout, 15.0)),
            limits=httpx.Limits(
                max_connections=politeness.connections,
                max_keepalive_connections=politeness.connections,
            ),
            **options,
        )
        # decorated once: backoff starts a fresh wait generator for every call (typed loosely:
        # backoff's hints do not allow the exception our generator is sent)
        wait: Any = wait_generator(politeness.min_retry_delay, politeness.max_retry_delay)
        self._attempt = backoff.on_exception(
            wait,
            RetryableApiError,
            max_tries=politeness.retries + 1,
            jitter=None,
            on_backoff=self._backing_off,
        )(self._request)

    async def __aenter__(self) -> ClaudeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    # -- endpoints ------------------------------------------------------------------------------

    async def account(self) -> dict[str, Any]:
        data = await self.get_json("/account", auth_endpoint=True)
        if not isinstance(data, dict):
            raise UnexpectedResponse("/account did not return a JSON object", path="/account")
        return data

    async def list_chats(self, org_uuid: str) -> list[dict[str, Any]]:
        """Every chat of an organization. One request when the server sends the whole list;
        otherwise pages that overlap by one item, then the top read again for the chats
        created or bumped up while the pages were read (`_catch_up`)."""
        path = f"/organizations/{org_uuid}/chat_conversations_v2"
        items, has_more = _listing_page(await self.get_json(path, {"consistency": "strong"}), path)
        seen = {str(item.get("uuid")) for item in items}
        limit = max(len(items), 50)
        pages = 0
        while has_more and pages < MAX_LIST_PAGES:
            pages += 1
            offset = max(len(items) - 1, 0)
            params = {"limit": str(limit), "offset": str(offset), "consistency": "strong"}
            page, has_more = _listing_page(await self.get_json(path, params), path)
            new = [item for item in page if str(item.get("uuid")) not in seen]
            seen.update(str(item.get("uuid")) for item in new)
            items.extend(new)
            if not new:  # an empty page, or one the server repeats (an offset it ignores)
                break
            limit = min(limit * 2, 1000)
        if pages:
            await self._catch_up(path, items, max(min(limit, 100), 1))
        return items

    async def _catch_up(self, path: str, items: list[dict[str, Any]], limit: int) -> None:
        """A paginated listing is read over several requests, and the chats created or
        updated meanwhile move to its top, which was read first: read the top again, page by
        page until a chat already seen unchanged shows, and take in what is new there (a
        bumped chat's newer entry replaces its older one). Again while that finds anything,
        a few times at most; what appears after that is the next sync's."""
        position = {str(item.get("uuid")): n for n, item in enumerate(items)}
        for _ in range(MAX_CATCH_UP):
            changed = False
            offset = 0
            while True:
                params = {"limit": str(limit), "offset": str(offset), "consistency": "strong"}
                page, has_more = _listing_page(await self.get_json(path, params), path)
                known = False
                for item in page:
                    uuid = str(item.get("uuid"))
                    if uuid not in position:
                        position[uuid] = len(items)
                        items.append(item)
                        changed = True
                    elif items[position[uuid]].get("updated_at") != item.get("updated_at"):
                        items[position[uuid]] = item
                        changed = True
                    else:
                        known = True
                if known or not has_more or not page:
                    break
                offset += max(len(page) - 1, 1)  # overlapping by one, as the first reading
            if not changed:
                return

    async def list_chats_paged(self, org_uuid: str, page_size: int = 200) -> list[dict[str, Any]]:
        """Every chat of an organization asked for page by page (`limit`/`offset`) until a
        short page, whatever `has_more` says: the second look when the first listing came out
        shorter than `count_all`."""
        path = f"/organizations/{org_uuid}/chat_conversations_v2"
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(MAX_LIST_PAGES):
            offset = max(len(items) - 1, 0)  # one item of overlap, as in list_chats
            params = {"limit": str(page_size), "offset": str(offset), "consistency": "strong"}
            page, _ = _listing_page(await self.get_json(path, params), path)
            new = [item for item in page if str(item.get("uuid")) not in seen]
            seen.update(str(item.get("uuid")) for item in new)
            items.extend(new)
            if len(page) < page_size or not new:
                break
        return items

    async def count_chats(self, org_uuid: str) -> int | None:
        """`count_all`: how many chats the organization holds, or None when the server does
        not say (404, another shape)."""
        path = f"/organizations/{org_uuid}/chat_conversations/count_all"
        data = await self.get_json(path, gone_on_404=True)
        count = data.get("count") if isinstance(data, dict) else None
        return count if isinstance(count, int) and not isinstance(count, bool) else None

    async def get_chat(self, org_uuid: str, chat_uuid: str) -> dict[str, Any]:
        path = f"/organizations/{org_uuid}/chat_conversations/{chat_uuid}"
        data = await self.get_json(path, TREE_PARAMS, gone_on_404=True)
        if not isinstance(data, dict):
            raise ApiError(f"chat {chat_uuid}: the API did not return a JSON object", path=path)
        return data

    # -- requests -------------------------------------------------------------------------------

    async def get_json(
        self,
        path: str,
        params: dict[str, str] | None = None,
        *,
        auth_endpoint: bool = False,
        gone_on_404: bool = False,
    ) -> Any:
        """GET a JSON endpoint (under /api), with retries and politeness."""
        return await self._with_retries(path, params, _Expect(auth_endpoint, gone_on_404, False))

    async def get_json_outside_api(
        self, path: str, params: dict[str, str] | None, headers: dict[str, str]
    ) -> Any:
        """GET a JSON endpoint that lives beside /api (Claude Code's `/v1/code/...`), with
        extra headers. 404/410 raise Gone."""
        expect = _Expect(False, True, False, tuple(headers.items()), outside_api=True)
        return await self._with_retries(path, params, expect)

    async def get_bytes(self, path: str, params: dict[str, str] | None = None) -> bytes:
        """GET raw bytes (a file's contents), with retries and politeness. 404/410 -> Gone."""
        data = await self._with_retries(path, params, _Expect(False, True, True))
        assert isinstance(data, bytes)
        return data

    async def download_to(self, path: str, dest: Path, params: dict[str, str] | None = None) -> int:
        """GET a file's bytes straight into `dest` (truncated on every attempt), in constant
        memory, with retries and politeness; 404/410 -> Gone. Returns the size written."""
        size = await self._with_retries(path, params, _Expect(False, True, True, into=dest))
        assert isinstance(size, int)
        return size

    async def _with_retries(self, path: str, params: dict[str, str] | None, expect: _Expect) -> Any:
        return await self._attempt(path, params, expect)

    async def _request(self, path: str, params: dict[str, str] | None, expect: _Expect) -> Any:
        async with self._slots:
            await self._wait_for_resume()
            self.requests += 1
            sent_with = self.cookies.key
            url = self._origin + path if expect.outside_api else path
            response, size = await self._fetch(url, path, params, expect)
            try:
                check_status(
                    response,
                    path,
                    auth_endpoint=expect.auth_endpoint,
                    gone_on_404=expect.gone_on_404,
                    http_client=self.http_client,
                )
            except AuthError:
                if self.cookies.refused(sent_with):  # a renewed key refused: the old again
                    raise RetryableApiError(
                        f"{path}: the renewed session key was refused", path=path
                    ) from None
                raise
            self._key_accepted(sent_with)
            if expect.into is not None:
                data: Any = size
            else:
                data = response.content if expect.raw else parse_json(response, path)
            self._penalty *= 0.9
            pause = max(self.politeness.success_delay, self._penalty)
            if pause > 0:  # (no pause: the slot goes to the next request at once)
                await asyncio.sleep(pause)
            return data

    async def _fetch(
        self, url: str, path: str, params: dict[str, str] | None, expect: _Expect
    ) -> tuple[httpx.Response, int]:
        """One GET within the request's deadline and size limits: the response with its body
        read and decoded, or, for a success with `expect.into`, the body written to that file
        (in constant memory) and its size. The answer's cookies are kept for the run."""
        headers = {**dict(expect.headers), "cookie": self.cookies.header()}
        request = self._http.build_request("GET", url, params=params, headers=headers)
        size = 0
        try:
            async with Deadline(self._limits) as deadline:
                response = await deadline.wait(self._http.send(request, stream=True), 0)
                try:
                    self.cookies.update(response.headers.get_list("set-cookie"))
                    if expect.into is not None and response.is_success:
                        with open(expect.into, "wb") as out:
                            size = await read_body(response, deadline, self._limits, path, out)
                        body = b""
                    else:
                        body = await read_body(response, deadline, self._limits, path)
                finally:
                    await response.aclose()
        except (DeadlinePassed, httpx.TimeoutException) as exc:
            raise RetryableApiError(f"{path}: timed out", path=path) from exc
        except httpx.TransportError as exc:
            raise RetryableApiError(f"{path}: connection failed ({exc})", path=path) from exc
        except httpx.DecodingError as exc:
            raise RetryableApiError(f"{path}: {exc}", path=path) from exc
        kept = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(response.status_code, headers=kept, content=body), size

    def _key_accepted(self, sent_with: SessionKey) -> None:
        renewed = self.cookies.confirm(sent_with)
        if renewed is None:
            return
        self.key_renewed = True
        kept, self._kept_key = self._kept_key, renewed
        if self._on_key_renewed is not None:
            self._on_key_renewed(kept, renewed)

    async def _wait_for_resume(self) -> None:
        loop = asyncio.get_running_loop()
        while (wait := self._resume_at - loop.time()) > 0:
            await asyncio.sleep(wait)

    def _backing_off(self, details: Any) -> None:
        exc = details.get("exception")
        wait = float(details.get("wait") or 0.0)
        self.retries += 1
        if isinstance(exc, RetryableApiError) and exc.status == 429:
            loop = asyncio.get_running_loop()
            self._resume_at = max(self._resume_at, loop.time() + wait)
            self._penalty = min(
                self.politeness.max_retry_delay,
                max(self.politeness.min_retry_delay, self._penalty * 2),
            )
        if self._on_retry is not None and isinstance(exc, BaseException):
            self._on_retry(str(details.get("args", ("",))[0]), wait, exc)


def _listing_page(data: Any, path: str) -> tuple[list[dict[str, Any]], bool]:
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        items, has_more = data["data"], bool(data.get("has_more"))
    elif isinstance(data, list):
        items, has_more = data, False
    else:
        raise UnexpectedResponse(f"{path}: the chat listing has an unknown shape", path=path)
    return [item for item in items if isinstance(item, dict)], has_more


def check_status(
    response: httpx.Response,
    path: str,
    *,
    auth_endpoint: bool = False,
    gone_on_404: bool = False,
    http_client: str | None = None,
) -> None:
    """Raise the error a response's status (and a challenge page) stands for."""
    status = response.status_code
    body = response.content
    looks_html = _looks_html(response)
    if response.headers.get("cf-mitigated", "").lower() == "challenge" or (
        status in (403, 429, 503) and looks_html and _is_cloudflare(response)
    ):
        hint = HTTP_CLIENT_HINT.get(http_client or "", "")
        raise BlockedError(f"{CLOUDFLARE_HINT}; {hint}" if hint else CLOUDFLARE_HINT)
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        if "unavailable-in-region" in location:
            raise BlockedError("claude.ai is not available from this network's region")
        raise UnexpectedResponse(
            f"{path}: the server redirected to {location or '?'}; redirects are not followed "
            "so the session key never leaves the API host (is --base-url right?)",
            status=status,
            path=path,
        )
    if status in RETRY_STATUSES:
        raise RetryableApiError(
            f"{path}: HTTP {status}",
            status=status,
            path=path,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    if status < 400:
        return  # a success: its body (maybe megabytes) is parsed once, by the caller
    error = _error_envelope(body)
    if status == 401 or (status == 403 and (auth_endpoint or _is_session_error(error))):
        raise AuthError(FRESH_KEY_HINT)
    if status in (404, 410) and gone_on_404:
        raise Gone(f"{path}: not found", status=404, path=path)
    if status >= 400:
        detail = _error_message(error) or f"HTTP {status}"
        raise ApiError(f"{path}: {detail}", status=status, path=path)


def parse_json(response: httpx.Response, path: str) -> Any:
    """The JSON body of a successful response; an HTML page or a truncated body is an error."""
    body, status = response.content, response.status_code
    if _looks_html(response):
        raise UnexpectedResponse(
            f"{path}: expected JSON but got an HTML page (a login page, a proxy or a captive "
            "portal?); check --base-url and your network",
            status=status,
            path=path,
        )
    try:
        return jsonvalue.loads(body)
    except ValueError as exc:
        raise RetryableApiError(
            f"{path}: the response is not valid JSON (truncated?)", status=status, path=path
        ) from exc


def _looks_html(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    head = response.content[:256].lstrip().lower()
    return "html" in ctype or head.startswith((b"<!doctype", b"<html"))


def _is_cloudflare(response: httpx.Response) -> bool:
    text = response.content[:65536].lower()
    return (
        response.headers.get("server", "").lower() == "cloudflare"
        or b"just a moment" in text
        or b"challenge-platform" in text
    )


def _error_envelope(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _is_session_error(error: dict[str, Any]) -> bool:
    details = error.get("details")
    code = details.get("error_code") if isinstance(details, dict) else None
    return code == "account_session_invalid" or error.get("message") == "Invalid authorization"


def _error_message(error: dict[str, Any]) -> str:
    message = error.get("message")
    return message[:200] if isinstance(message, str) else ""
