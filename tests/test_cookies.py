"""The run's cookies, the identity headers and the body decoders, without a network."""

from __future__ import annotations

import asyncio
import gzip
import stat
import zlib
from pathlib import Path

import brotli
import httpx
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from claude_backup.cookies import RunCookies, is_session_key
from claude_backup.identity import HEADER_ORDER, browser_headers, order, user_agent
from claude_backup.keys import SessionKey, write_back_key
from claude_backup.transport.body import BodyTooLarge, Deadline, Limits, decoder_for, read_body

OLD = SessionKey("sk-ant-sid01-old-key-AAAAAAAAAAAA", "keys.txt")
NEW = "sk-ant-sid02-new-key-BBBBBBBBBBBBBBBB"


def test_a_renewed_key_replaces_the_old_one_and_is_confirmed_once() -> None:
    jar = RunCookies(OLD)
    assert jar.update([f"sessionKey={NEW}; Path=/; Max-Age=2419200; Secure"])
    assert jar.key.reveal() == NEW and jar.renewed
    assert jar.confirm(OLD) is None  # a request sent with the old key proves nothing
    confirmed = jar.confirm(jar.key)
    assert confirmed is not None and confirmed.reveal() == NEW
    assert jar.confirm(jar.key) is None
    assert f"sessionKey={NEW}" in jar.header()


@pytest.mark.parametrize(
    "header",
    [
        'sessionKey=""; Max-Age=0; Path=/',
        "sessionKey=; Path=/",
        f"sessionKey={NEW}; Max-Age=0",
        f"sessionKey={NEW}; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "sessionKey=not-a-key",
        "sessionKey=sk-ant-api03-an-api-key-not-a-session",
        "sessionKey=sk-ant-sid01-x",  # too short
        "sessionKey=sk-ant-sid01-has space-AAAAAAAA",
    ],
)
def test_a_cleared_or_malformed_key_is_never_taken(header: str) -> None:
    jar = RunCookies(OLD)
    assert not jar.update([header])
    assert jar.key == OLD and not jar.renewed


def test_a_refused_renewal_goes_back_to_the_old_key_for_good() -> None:
    jar = RunCookies(OLD)
    jar.update([f"sessionKey={NEW}"])
    bogus = jar.key
    assert jar.refused(bogus) and jar.key == OLD
    assert jar.refused(bogus)  # another request sent with it: ask again, with the old key
    assert not jar.update([f"sessionKey={NEW}"])  # offered again: not taken
    assert not jar.refused(OLD)  # the old key refused: a real auth error


def test_other_cookies_are_kept_updated_and_expired() -> None:
    jar = RunCookies(OLD)
    jar.update(["__cf_bm=one; Max-Age=1800; Domain=.claude.ai", "cf_clearance=c; Secure"])
    jar.update(["__cf_bm=two; Max-Age=1800"])
    assert jar.header() == f"sessionKey={OLD.reveal()}; __cf_bm=two; cf_clearance=c"
    jar.update(["cf_clearance=; Max-Age=0"])
    assert jar.header() == f"sessionKey={OLD.reveal()}; __cf_bm=two"
    assert OLD.reveal() not in repr(jar)


@given(st.text(max_size=200))
def test_only_key_shaped_values_are_keys(value: str) -> None:
    if is_session_key(value):
        assert value.startswith("sk-ant-sid0") and not any(c in value for c in ' ;,=\n"')


def test_write_back_replaces_only_that_key_atomically_and_privately(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_bytes(f"sk-ant-sid01-other-AAAAAAAAAA\r\n{OLD.reveal()}\n\n".encode())
    path.chmod(0o644)
    assert write_back_key(path, OLD, SessionKey(NEW, "x"))
    assert path.read_bytes() == f"sk-ant-sid01-other-AAAAAAAAAA\r\n{NEW}\n\n".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["keys.txt"]  # no temporary file left
    before = path.read_text()
    assert not write_back_key(path, OLD, SessionKey("sk-ant-sid02-CCCCCCCCCCCC", "x"))  # gone
    assert not write_back_key(path, SessionKey(NEW, "x"), SessionKey("", "x"))  # never empty
    assert not write_back_key(path, SessionKey(NEW, "x"), SessionKey("garbage", "x"))
    assert path.read_text() == before


def test_write_back_finds_a_key_written_quoted_or_as_copied_from_a_cookie(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    for line in (f'"{OLD.reveal()}"', f"sessionKey={OLD.reveal()}; other=1"):
        path.write_text(f"# my key\n{line}\n")
        assert write_back_key(path, OLD, SessionKey(NEW, "x"))
        assert path.read_text() == f"# my key\n{NEW}\n"


def test_the_identity_is_one_chrome_without_a_tool_suffix() -> None:
    headers = dict(browser_headers("https://claude.ai"))
    assert list(dict(browser_headers("https://claude.ai"))) == [
        n for n in HEADER_ORDER if n != "cookie"
    ]
    major = headers["user-agent"].split("Chrome/")[1].split(".")[0]
    assert f'"Google Chrome";v="{major}"' in headers["sec-ch-ua"]
    assert "claude-backup" not in headers["user-agent"]
    assert headers["referer"] == "https://claude.ai/"
    assert headers["sec-fetch-mode"] == "cors" and headers["sec-fetch-site"] == "same-origin"
    for platform, hint in [("win32", '"Windows"'), ("darwin", '"macOS"'), ("linux", '"Linux"')]:
        assert dict(browser_headers("https://claude.ai", platform))["sec-ch-ua-platform"] == hint
    assert "Windows NT" in user_agent("win32") and "Macintosh" in user_agent("darwin")
    shuffled = [("cookie", "c"), ("x-unknown", "u"), ("accept", "a"), ("sec-ch-ua-platform", "p")]
    assert [n for n, _ in order(shuffled)] == [
        "sec-ch-ua-platform",
        "accept",
        "x-unknown",
        "cookie",
    ]


PAYLOAD = b'{"uuid": "x", "text": "' + b"hello " * 50_000 + b'"}'
ENCODED = {
    "gzip": gzip.compress(PAYLOAD),
    "deflate": zlib.compress(PAYLOAD),
    "br": brotli.compress(PAYLOAD),
    "zstd": zstandard.ZstdCompressor().compress(PAYLOAD),
    "identity": PAYLOAD,
}


@pytest.mark.parametrize("encoding", sorted(ENCODED))
def test_every_encoding_chrome_accepts_is_decoded(encoding: str) -> None:
    body = ENCODED[encoding]
    decoder = decoder_for(encoding, "/x")
    out = b"".join(
        piece for i in range(0, len(body), 1000) for piece in decoder.feed(body[i : i + 1000])
    )
    assert out + b"".join(decoder.flush()) == PAYLOAD


def test_raw_deflate_is_decoded_too() -> None:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = packer.compress(PAYLOAD) + packer.flush()
    decoder = decoder_for("deflate", "/x")
    assert b"".join([*decoder.feed(raw), *decoder.flush()]) == PAYLOAD


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip"])
def test_bombs_in_every_encoding_stop_at_the_ratio(encoding: str) -> None:
    zeros = bytes(64 << 20)
    body = {
        "br": lambda: brotli.compress(zeros, quality=1),
        "zstd": lambda: zstandard.ZstdCompressor().compress(zeros),
        "gzip": lambda: gzip.compress(zeros, 1),
    }[encoding]()

    async def main() -> None:
        async def stream() -> object:
            for i in range(0, len(body), 16384):
                yield body[i : i + 16384]

        response = httpx.Response(
            200,
            headers={"content-encoding": encoding},
            content=stream(),  # type: ignore[arg-type]
        )
        limits = Limits(timeout=30)
        with pytest.raises(BodyTooLarge, match="inflates"):
            async with Deadline(limits) as deadline:
                await read_body(response, deadline, limits, "/x")

    asyncio.run(main())


def test_an_unasked_encoding_is_an_error() -> None:
    with pytest.raises(httpx.DecodingError):
        decoder_for("compress", "/x")


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_a_decoder_hands_out_one_bounded_piece_at_a_time(encoding: str) -> None:
    """Limits are checked between pieces, so one chunk off the wire, however much it inflates,
    is never decoded whole before the first check."""
    import tracemalloc

    compress = {
        "gzip": gzip.compress,
        "br": lambda data: brotli.compress(data, quality=1),
        "zstd": zstandard.ZstdCompressor().compress,
    }[encoding]
    body = compress(bytes(64 << 20))
    decoder = decoder_for(encoding, "bomb")
    tracemalloc.start()
    try:
        first = next(iter(decoder.feed(body)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first and peak < 16 << 20, peak
