import asyncio
import json
from pathlib import Path

import httpx
import pytest

from claude_backup.client import ClaudeClient, Politeness, check_status, parse_json
from claude_backup.errors import (
    ApiError,
    AuthError,
    BlockedError,
    Gone,
    RetryableApiError,
    UnexpectedResponse,
)
from claude_backup.keys import SessionKey

KEY = SessionKey("sk-ant-sid01-unit-test-key", "test")
FAST = Politeness(connections=2, success_delay=0, retries=3, min_retry_delay=0, max_retry_delay=0)


def interpret(response: httpx.Response, path: str, **kw: bool) -> object:
    check_status(response, path, **kw)
    return parse_json(response, path)


def resp(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    if isinstance(body, (dict, list)):
        return httpx.Response(status, json=body, headers=headers)
    return httpx.Response(status, content=(body or b""), headers=headers)


def envelope(code: str, message: str = "Invalid authorization") -> dict[str, object]:
    return {
        "type": "error",
        "error": {"type": "permission_error", "message": message, "details": {"error_code": code}},
    }


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key_is_an_auth_error(status: int) -> None:
    with pytest.raises(AuthError, match="fresh sessionKey"):
        interpret(resp(status, envelope("account_session_invalid")), "/x")


def test_other_403_is_an_api_error() -> None:
    with pytest.raises(ApiError) as info:
        interpret(resp(403, envelope("x", "Invalid authorization for organization")), "/x")
    assert info.value.status == 403 and not isinstance(info.value, RetryableApiError)


def test_cloudflare_challenge() -> None:
    page = b"<!DOCTYPE html><title>Just a moment...</title>"
    with pytest.raises(BlockedError, match="Cloudflare"):
        interpret(resp(403, page, {"cf-mitigated": "challenge", "content-type": "text/html"}), "/x")
    with pytest.raises(BlockedError):
        interpret(resp(503, page, {"server": "cloudflare", "content-type": "text/html"}), "/x")


def test_redirects_are_errors() -> None:
    region = {"location": "https://claude.ai/app-unavailable-in-region"}
    with pytest.raises(BlockedError, match="region"):
        interpret(resp(302, b"", region), "/x")
    with pytest.raises(UnexpectedResponse, match="redirected"):
        interpret(resp(301, b"", {"location": "https://elsewhere.example/"}), "/x")


def test_html_instead_of_json() -> None:
    with pytest.raises(UnexpectedResponse, match="HTML"):
        interpret(
            resp(200, b"<html><body>log in</body></html>", {"content-type": "text/html"}), "/x"
        )


def test_transient_faults_are_retryable() -> None:
    for status in (429, 500, 502, 503, 504):
        with pytest.raises(RetryableApiError):
            interpret(resp(status, {}), "/x")
    with pytest.raises(RetryableApiError) as info:
        interpret(resp(429, b"", {"retry-after": "3"}), "/x")
    assert info.value.retry_after == 3
    with pytest.raises(RetryableApiError, match="not valid JSON"):
        interpret(resp(200, b'{"data": [', {"content-type": "application/json"}), "/x")


def test_404_on_a_chat_means_gone() -> None:
    with pytest.raises(Gone):
        interpret(resp(404, {}), "/x", gone_on_404=True)


def run_client(handler, politeness: Politeness = FAST):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        async with ClaudeClient(
            "http://127.0.0.1:9", KEY, politeness, transport=httpx.MockTransport(handler)
        ) as client:
            return await client.get_json("/account"), client

    return asyncio.run(go())


def test_retries_then_succeeds_and_sends_only_the_cookie() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return resp(503, {}) if len(seen) < 3 else resp(200, {"ok": True})

    data, client = run_client(handler)
    assert data == {"ok": True} and len(seen) == 3 and client.retries == 2
    assert seen[0].headers["cookie"] == "sessionKey=sk-ant-sid01-unit-test-key"
    assert seen[0].url.path == "/api/account"


def test_gives_up_after_the_retries() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError("reset", request=request)

    with pytest.raises(RetryableApiError, match="connection failed"):
        run_client(handler)
    assert len(calls) == FAST.retries + 1


def test_auth_errors_are_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return resp(401, envelope("account_session_invalid"))

    with pytest.raises(AuthError):
        run_client(handler)
    assert calls == [1]


def test_listing_pages_overlap_when_the_server_pages() -> None:
    items = [{"uuid": f"c{i}"} for i in range(7)]

    def handler(request: httpx.Request) -> httpx.Response:
        limit = request.url.params.get("limit")
        offset = int(request.url.params.get("offset", 0))
        size = int(limit) if limit else 3
        page = items[offset : offset + size]
        return resp(200, {"data": page, "has_more": offset + size < len(items)})

    async def go() -> list[dict[str, object]]:
        async with ClaudeClient(
            "http://127.0.0.1:9", KEY, FAST, transport=httpx.MockTransport(handler)
        ) as client:
            return await client.list_chats("org")

    assert [i["uuid"] for i in asyncio.run(go())] == [f"c{i}" for i in range(7)]


def test_a_listing_that_ignores_the_offset_stops_at_the_first_repeated_page() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params.get("offset"))
        return resp(200, {"data": [{"uuid": "c0"}, {"uuid": "c1"}], "has_more": True})

    async def go() -> list[dict[str, object]]:
        async with ClaudeClient(
            "http://127.0.0.1:9", KEY, FAST, transport=httpx.MockTransport(handler)
        ) as client:
            return await client.list_chats("org")

    assert [i["uuid"] for i in asyncio.run(go())] == ["c0", "c1"]
    assert len(calls) < 10  # not MAX_LIST_PAGES requests for the same two chats


def test_session_key_never_in_repr() -> None:
    assert "unit-test-key" not in repr(KEY) and "unit-test-key" not in str(KEY)
    assert json.dumps({"k": repr(KEY)}).find("sk-ant") == -1


def test_get_bytes_returns_the_body_and_404_is_gone() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/missing"):
            return resp(404, {})
        return httpx.Response(200, content=b"\x89PNG raw", headers={"content-type": "image/png"})

    async def go() -> tuple[bytes, bool]:
        async with ClaudeClient(
            "http://127.0.0.1:9", KEY, FAST, transport=httpx.MockTransport(handler)
        ) as client:
            data = await client.get_bytes("/files/x/contents")
            try:
                await client.get_bytes("/missing")
            except Gone:
                return data, True
            return data, False

    assert asyncio.run(go()) == (b"\x89PNG raw", True)


def test_download_to_streams_into_the_file_and_starts_over_on_a_retry(tmp_path: Path) -> None:
    """A 503 and then the body: the file holds the body once; a 404 is Gone and a 403 from a
    challenge is refused before anything is kept."""
    calls = {"n": 0}
    body = bytes(range(256)) * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/missing"):
            return resp(404, {})
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(503, content=b"busy")
        return httpx.Response(200, content=body, headers={"content-type": "application/pdf"})

    async def go() -> tuple[int, bool]:
        async with ClaudeClient(
            "http://127.0.0.1:9", KEY, FAST, transport=httpx.MockTransport(handler)
        ) as client:
            size = await client.download_to("/files/x/contents", tmp_path / "x")
            try:
                await client.download_to("/missing", tmp_path / "y")
            except Gone:
                return size, True
            return size, False

    assert asyncio.run(go()) == (len(body), True)
    assert (tmp_path / "x").read_bytes() == body
    assert calls["n"] == 2
