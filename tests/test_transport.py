"""The client layer on both HTTP clients against the fake API: a whole-request deadline, the
decompression caps, the run's cookies and a renewed session key, proxies from the environment,
and curl errors surfacing as httpx's."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from claude_backup.client import ClaudeClient, Politeness
from claude_backup.errors import ApiError, RetryableApiError
from claude_backup.fakeapi.wire import KeyEvent, WireFault, gzip_bomb
from claude_backup.keys import SessionKey
from claude_backup.transport.body import Limits
from conftest import KEY, Fake, run_cli

CLIENTS = ["chrome", "httpx"]
FAST_FLAGS = ["-c", "2", "-d", "0", "--min-retry-delay", "0.01", "--max-retry-delay", "0.05"]


@pytest.fixture(params=CLIENTS)
def http_client(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def client(fake: Fake, kind: str, timeout: float = 10, retries: int = 0) -> ClaudeClient:
    politeness = Politeness(retries=retries, success_delay=0, timeout=timeout, min_retry_delay=0)
    return ClaudeClient(fake.base_url, SessionKey(KEY, "test"), politeness, http_client=kind)


def test_a_dripping_answer_times_out_as_a_whole(fake: Fake, http_client: str) -> None:
    """One byte every 1.5 s never trips a between-bytes timeout; the request's deadline does."""

    async def main() -> float:
        async with client(fake, http_client, timeout=2) as c:
            await c.account()  # connected and warm
            fake.server.wire.add(WireFault("drip", seconds=1.5, endpoint="account"))
            started = time.monotonic()
            with pytest.raises(RetryableApiError, match="timed out"):
                await c.account()
            return time.monotonic() - started

    took = asyncio.run(main())
    assert 1.5 < took < 6, took


def test_the_deadline_grows_with_a_body_that_flows(fake: Fake, http_client: str) -> None:
    """A body arriving faster than the minimum rate is never cut, however long it takes."""

    async def main() -> None:
        async with client(fake, http_client, timeout=1) as c:
            size = len(json.dumps(await c.account()))
            c._limits = Limits(timeout=1, min_rate=4)  # 4 bytes a second suffice
            # the whole body in about 2 s, twice the timeout, a byte at a time
            fake.server.wire.add(WireFault("drip", seconds=2 / size, endpoint="account"))
            started = time.monotonic()
            account = await c.account()
            assert account["uuid"] and time.monotonic() - started > 1

    asyncio.run(main())


def test_a_gzip_bomb_is_refused_without_inflating(fake: Fake, http_client: str) -> None:
    gzip_bomb(1 << 30)  # made once (about a second), before the clock starts

    async def main() -> None:
        async with client(fake, http_client) as c:
            fake.server.wire.add(WireFault("gzip_bomb", endpoint="account"))
            with pytest.raises(ApiError, match="inflates more than") as info:
                await c.account()
            assert not isinstance(info.value, RetryableApiError)  # not worth asking again

    started_rss = _rss()
    asyncio.run(main())
    assert _rss() - started_rss < 200 * 2**20  # not the gigabyte it inflates to


def test_a_too_large_chat_is_that_chats_failure(fake: Fake, tmp_path: Path) -> None:
    chat = next(iter(fake.model.accounts[0].orgs[0].chats))
    fake.server.wire.add(WireFault("gzip_bomb", size=64 << 20, path_contains=chat, times=None))
    result = run_cli("sync", str(tmp_path / "a"), *FAST_FLAGS, base_url=fake.base_url)
    assert result.returncode == 3, result.stderr
    assert f"chat {chat}" in result.stderr and "inflates more than" in result.stderr
    assert "committed" in result.stderr


def test_server_cookies_are_sent_back(fake: Fake, http_client: str) -> None:
    async def main() -> None:
        async with client(fake, http_client) as c:
            fake.server.wire.add_key_event(KeyEvent("renew"))
            await c.account()
            await c.account()

    asyncio.run(main())
    names = fake.server.wire.cookie_names
    assert names[0] == ("sessionKey",)
    assert names[1] == ("sessionKey", "__cf_bm")  # one header, the key first, as Chrome sends


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys.txt"
    path.write_text(f"\n{KEY}\n", encoding="utf-8")  # (the other lines stay as they are)
    path.chmod(0o600)
    return path


def sync_with_key_file(fake: Fake, archive: Path, key_file: Path, *extra: str) -> str:
    result = run_cli(
        "sync",
        str(archive),
        *FAST_FLAGS,
        "--session-key-file",
        str(key_file),
        *extra,
        base_url=fake.base_url,
        key=None,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_renewed_key_is_used_and_written_back(
    fake: Fake, tmp_path: Path, key_file: Path, http_client: str
) -> None:
    wire = fake.server.wire
    wire.add_key_event(KeyEvent("clear", after=1))  # cleared first: must change nothing
    wire.add_key_event(KeyEvent("renew", after=2, revoke_old=True))  # mid-sync; old key dies
    writes: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(key_file, writes, stop), daemon=True)
    watcher.start()
    try:
        out = sync_with_key_file(fake, tmp_path / "a", key_file, "--http-client", http_client)
    finally:
        stop.set()
        watcher.join()
    assert wire.cleared == 1 and len(wire.issued_keys) == 1
    new = wire.issued_keys[0]
    assert key_file.read_text() == f"\n{new}\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert all(text.strip() and "sessionKey" not in text for text in writes)  # never emptied
    assert "session key renewed" in out and new not in out and KEY not in out
    # the rest of the sync used the new key (the old one was revoked mid-sync), and the next
    # sync starts from the file
    sync_with_key_file(fake, tmp_path / "a", key_file)


def test_a_refused_renewal_keeps_the_old_key(fake: Fake, tmp_path: Path, key_file: Path) -> None:
    fake.server.wire.add_key_event(KeyEvent("bogus", after=1))
    before = key_file.read_text()
    out = sync_with_key_file(fake, tmp_path / "a", key_file)
    assert key_file.read_text() == before
    assert "session key renewed" not in out


def _watch(path: Path, seen: list[str], stop: threading.Event) -> None:
    """Every content the key file had while the sync ran."""
    while not stop.is_set():
        try:
            text = path.read_text()
        except OSError:
            continue
        if not seen or seen[-1] != text:
            seen.append(text)
        time.sleep(0.002)


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- proxies and errors ------------------------------------------------------------------------


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    """A proxy that answers every request itself with a 503, and records its request lines."""
    seen: list[str] = []
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(65536)
                seen.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
                conn.sendall(b"HTTP/1.1 503 No\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", seen
    server.close()


@pytest.mark.parametrize("no_proxy", [None, "127.0.0.1"])
def test_proxies_from_the_environment_as_httpx_reads_them(
    fake: Fake,
    http_client: str,
    proxy: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    no_proxy: str | None,
) -> None:
    url, seen = proxy
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", url)
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)

    async def main() -> None:
        async with client(fake, http_client) as c:
            if no_proxy:
                await c.account()
            else:
                with pytest.raises(RetryableApiError, match="HTTP 503"):
                    await c.account()

    asyncio.run(main())
    if no_proxy:
        assert seen == []
    else:
        assert seen == [f"GET {fake.base_url}/api/account HTTP/1.1"]


def test_curl_errors_are_httpx_errors() -> None:
    pytest.importorskip("curl_cffi")
    from curl_cffi.curl import CurlError

    from claude_backup.transport.chrome import httpx_error

    request = httpx.Request("GET", "https://claude.ai/api/account")
    for code, kind in [
        (7, httpx.ConnectError),
        (18, httpx.RemoteProtocolError),
        (28, httpx.ReadTimeout),
        (52, httpx.RemoteProtocolError),
        (56, httpx.ReadError),
        (60, httpx.ConnectError),
        (92, httpx.RemoteProtocolError),
        (9999, httpx.TransportError),
    ]:
        error = httpx_error(CurlError(f"curl: ({code}) boom", code), request)
        assert type(error) is kind and isinstance(error, httpx.TransportError), code
    timeout = httpx_error(CurlError("Connection timed out after 1000 ms", 28), request)
    assert isinstance(timeout, httpx.ConnectTimeout)


def test_an_untrusted_certificate_is_a_retried_connect_error(tmp_path: Path) -> None:
    """A TLS server whose certificate we do not trust: ConnectError (retried), not the base
    RequestError that httpx-curl-cffi raises."""
    trustme = pytest.importorskip("trustme")
    from fingerprint_server import FingerprintServer

    cert = trustme.CA().issue_cert("localhost")
    cert.private_key_pem.write_to_path(tmp_path / "key.pem")
    cert.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
    with FingerprintServer(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")) as server:
        base = f"https://localhost:{server.port}"
        politeness = Politeness(retries=0, timeout=5)

        async def main() -> None:
            async with ClaudeClient(base, SessionKey(KEY, "t"), politeness) as c:
                with pytest.raises(RetryableApiError, match="connection failed"):
                    await c.account()

        asyncio.run(main())


def test_json_summary_says_whether_the_key_was_renewed(fake: Fake, tmp_path: Path) -> None:
    fake.server.wire.add_key_event(KeyEvent("renew"))
    result = run_cli("sync", str(tmp_path / "a"), "--json", *FAST_FLAGS, base_url=fake.base_url)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["accounts"][0]["session_key_renewed"] is True
    assert fake.server.wire.issued_keys[0] not in result.stdout


def test_a_challenge_names_the_client_and_the_switch(
    fake: Fake, tmp_path: Path, http_client: str
) -> None:
    from claude_backup.fakeapi import Fault

    fake.server.faults.add(Fault("html", endpoint="account", times=None))
    result = run_cli(
        "sync", str(tmp_path / "a"), "--http-client", http_client, base_url=fake.base_url
    )
    assert result.returncode == 5, result.stderr
    assert "Cloudflare" in result.stderr and f"{http_client} client" in result.stderr
    assert "--http-client" in result.stderr


def test_connections_are_kept_alive(fake: Fake, http_client: str) -> None:
    """Never a new connection (and TLS handshake) per request: at most one per request slot."""

    async def main() -> None:
        async with client(fake, http_client) as c:
            for _ in range(3):
                await asyncio.gather(*(c.account() for _ in range(10)))

    asyncio.run(main())
    assert fake.server.count("account") == 30
    assert fake.server.connections_opened <= 2  # Politeness(connections=2)


def test_a_dripping_chat_fails_alone_and_the_sync_ends(fake: Fake, tmp_path: Path) -> None:
    """Issue 14 §5: with --timeout 2, a chat whose answer drips a byte every 1.5 s is that
    chat's failure after its retries; the sync ends, commits the rest and frees the archive."""
    chat = next(iter(fake.model.accounts[0].orgs[0].chats))
    fake.server.wire.add(WireFault("drip", seconds=1.5, path_contains=chat, times=None))
    archive = tmp_path / "a"
    started = time.monotonic()
    result = run_cli(
        "sync", str(archive), *FAST_FLAGS, "--timeout", "2", "-r", "1", base_url=fake.base_url
    )
    took = time.monotonic() - started
    assert result.returncode == 3, result.stderr
    assert f"chat {chat}" in result.stderr and "timed out" in result.stderr
    assert took < 30, took
    fake.server.wire.clear()  # the drip off: the next sync gets the chat
    assert run_cli("sync", str(archive), *FAST_FLAGS, base_url=fake.base_url).returncode == 0


def test_the_deadline_without_asyncio_timeout(
    fake: Fake, http_client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python 3.10 has no asyncio.timeout_at: each wait is a wait_for, with the same result."""
    import claude_backup.transport.body as body

    monkeypatch.setattr(body, "_TIMEOUT_AT", None)
    test_a_dripping_answer_times_out_as_a_whole(fake, http_client)
    fake.server.wire.clear()
    test_the_deadline_grows_with_a_body_that_flows(fake, http_client)


def test_a_gzip_bomb_streamed_to_a_file_stops_early(
    fake: Fake, tmp_path: Path, http_client: str
) -> None:
    """A download goes to disk in constant memory; a bomb stops there too, a few MiB in."""
    gzip_bomb(1 << 30)
    dest = tmp_path / "file.bin"

    async def main() -> None:
        async with client(fake, http_client) as c:
            fake.server.wire.add(WireFault("gzip_bomb", endpoint="account"))
            with pytest.raises(ApiError, match="inflates more than"):
                await c.download_to("/account", dest)

    asyncio.run(main())
    assert dest.stat().st_size < 16 << 20
