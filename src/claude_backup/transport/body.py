"""Reading a response body within bounds of time and size.

Time: a deadline on the whole request, not only between bytes. The answer has `timeout` seconds
to start, and its body must then keep coming at `MIN_RATE` on average: a server that drips one
byte a second never trips a between-bytes timeout, and would hold the sync (and its lock) for
ever. A large file on a fair line is never cut: its deadline grows with every byte received.

Size: at most `MAX_BODY` bytes once decoded (`MAX_FILE` for a body streamed to a file), and,
past `RATIO_FLOOR`, at most `MAX_RATIO` times the bytes that came over the wire: a 1 MB gzip bomb
stops within a few megabytes instead of inflating to a gigabyte in memory or on disk. Both
clients hand us the body as it came over the wire, and it is decoded here (gzip, deflate, br,
zstd: what Chrome accepts) in bounded steps. A too-large answer is that one item's failure
(`BodyTooLarge`), never a reason to stop the sync.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol, TypeVar

import httpx

from claude_backup.errors import ApiError

MIN_RATE = 1024.0  # bytes per second, on average, once the answer has started
MAX_BODY = 256 * 1024 * 1024
MAX_FILE = 4 * 1024 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 8 * 1024 * 1024
PIECE = 256 * 1024  # decompressed bytes produced per step: the memory one step may take
ZSTD_SLICE = 256  # compressed bytes fed to zstd per step (its ratio can reach 30,000:1)


T = TypeVar("T")


class BodyTooLarge(ApiError):
    """An answer larger than we accept (or compressed suspiciously well). Not retried."""


class DeadlinePassed(Exception):
    """The request ran past its deadline."""


@dataclass(frozen=True)
class Limits:
    timeout: float
    max_body: int = MAX_BODY  # held in memory
    max_file: int = MAX_FILE  # streamed to a file
    max_ratio: int = MAX_RATIO
    ratio_floor: int = RATIO_FLOOR
    min_rate: float = MIN_RATE


class Deadline:
    """`timeout` seconds from the start, plus one second for every `min_rate` bytes received.

    Used as `async with Deadline(limits) as deadline:` around the whole request, each wait
    through `await deadline.wait(awaitable, received)`. Passing it raises DeadlinePassed. On
    Python 3.11 and later one `asyncio.timeout_at` is moved as bytes arrive (no task per chunk);
    on 3.10 each wait is an `asyncio.wait_for`."""

    def __init__(self, limits: Limits) -> None:
        self._loop = asyncio.get_running_loop()
        self._start = self._loop.time()
        self._limits = limits
        self._timer: Any = None

    def at(self, received: int = 0) -> float:
        """The loop time the request must end by, with `received` body bytes so far."""
        return self._start + self._limits.timeout + received / self._limits.min_rate

    async def __aenter__(self) -> Deadline:
        if _TIMEOUT_AT is not None:
            self._timer = _TIMEOUT_AT(self.at(0))
            await self._timer.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        if self._timer is None:
            return None
        try:
            result: bool | None = await self._timer.__aexit__(*exc)
        except TimeoutError:
            raise DeadlinePassed from None
        return result

    async def wait(self, awaitable: Awaitable[T], received: int) -> T:
        """`awaitable`'s result, unless the deadline (with `received` bytes) passes first."""
        when = self.at(received)
        if self._timer is not None:
            self._timer.reschedule(when)
            return await awaitable
        remaining = when - self._loop.time()
        try:
            if remaining <= 0:
                raise asyncio.TimeoutError
            return await asyncio.wait_for(awaitable, remaining)
        except asyncio.TimeoutError:
            close = getattr(awaitable, "close", None)
            if callable(close):
                close()  # (a coroutine never awaited)
            raise DeadlinePassed from None


_TIMEOUT_AT: Any = getattr(asyncio, "timeout_at", None)  # Python 3.11+


async def read_body(
    response: httpx.Response,
    deadline: Deadline,
    limits: Limits,
    path: str,
    out: BinaryIO | None = None,
) -> Any:
    """The decoded body, read within the deadline and the size limits; with `out`, written
    there piece by piece instead (constant memory, up to `limits.max_file`), and its size."""
    if response.is_stream_consumed:  # read already (a MockTransport's answer, in tests)
        content = response.content
        _check(len(content), len(content), limits, path, limits.max_body)
        if out is None:
            return content
        out.write(content)
        return len(content)
    parts: list[bytes] = []
    size = 0
    async for piece in _decoded(response, deadline, limits, path, out is not None):
        size += len(piece)
        if out is None:
            parts.append(piece)
        else:
            out.write(piece)
    return b"".join(parts) if out is None else size


async def _decoded(
    response: httpx.Response, deadline: Deadline, limits: Limits, path: str, to_file: bool
) -> AsyncIterator[bytes]:
    decoder = decoder_for(response.headers.get("content-encoding", ""), path)
    most = limits.max_file if to_file else limits.max_body
    raw: AsyncIterator[bytes] = response.aiter_raw().__aiter__()
    wire = decoded = 0
    while True:
        try:
            chunk = await deadline.wait(raw.__anext__(), wire)
        except StopAsyncIteration:
            break
        wire += len(chunk)
        for piece in decoder.feed(chunk):
            decoded += len(piece)
            _check(decoded, wire, limits, path, most)
            yield piece
    for piece in decoder.flush():
        decoded += len(piece)
        _check(decoded, wire, limits, path, most)
        yield piece


def _check(decoded: int, wire: int, limits: Limits, path: str, most: int) -> None:
    if decoded > most:
        raise BodyTooLarge(
            f"{path}: the answer is larger than {most // 2**20} MiB; skipped", path=path
        )
    if decoded > limits.ratio_floor and decoded > limits.max_ratio * max(wire, 1):
        raise BodyTooLarge(
            f"{path}: the answer inflates more than {limits.max_ratio}:1 when decompressed "
            "(a compression bomb?); skipped",
            path=path,
        )


class Decoder(Protocol):
    """Decoded pieces one at a time: the caller checks the limits between two pieces, so no
    more than one piece is ever decoded past them."""

    def feed(self, data: bytes) -> Iterator[bytes]: ...
    def flush(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def flush(self) -> Iterator[bytes]:
        yield from ()


class _Inflate:
    """gzip or deflate (zlib-wrapped or raw, as servers send either), in bounded pieces."""

    def __init__(self, wbits: int, fallback_wbits: int | None, path: str) -> None:
        self._obj = zlib.decompressobj(wbits)
        self._fallback = fallback_wbits
        self._started = False
        self._path = path

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data and not self._obj.eof:
            try:
                piece = self._obj.decompress(data, PIECE)
            except zlib.error as exc:
                if self._fallback is not None and not self._started:
                    self._obj = zlib.decompressobj(self._fallback)
                    self._fallback = None
                    continue
                raise _bad(self._path, exc) from exc
            self._started = True
            if piece:
                yield piece
            data = self._obj.unconsumed_tail

    def flush(self) -> Iterator[bytes]:
        try:
            tail = self._obj.flush()
        except zlib.error as exc:
            raise _bad(self._path, exc) from exc
        if tail:
            yield tail


class _Brotli:
    """br, with brotli's own output limit per step."""

    def __init__(self, path: str) -> None:
        import brotli

        self._error = brotli.error
        self._obj = brotli.Decompressor()
        self._path = path

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            piece = self._obj.process(data, output_buffer_limit=PIECE)
            while True:
                if piece:
                    yield piece
                if self._obj.can_accept_more_data() or self._obj.is_finished():
                    return
                piece = self._obj.process(b"", output_buffer_limit=PIECE)
        except self._error as exc:
            raise _bad(self._path, exc) from exc

    def flush(self) -> Iterator[bytes]:
        yield from ()


class _Zstd:
    """zstd, fed a few hundred compressed bytes at a time (its decoder has no output limit)."""

    def __init__(self, path: str) -> None:
        import zstandard

        self._error = zstandard.ZstdError
        self._obj = zstandard.ZstdDecompressor().decompressobj()
        self._path = path

    def feed(self, data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), ZSTD_SLICE):
            try:
                piece = self._obj.decompress(data[start : start + ZSTD_SLICE])
            except self._error as exc:
                raise _bad(self._path, exc) from exc
            if piece:
                yield piece

    def flush(self) -> Iterator[bytes]:
        yield from ()


def _bad(path: str, exc: Exception) -> httpx.DecodingError:
    return httpx.DecodingError(f"{path}: bad compressed body ({exc})")


def decoder_for(encoding: str, path: str) -> Decoder:
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return _Identity()
    if codings in (["gzip"], ["x-gzip"]):
        return _Inflate(16 + zlib.MAX_WBITS, None, path)
    if codings == ["deflate"]:
        return _Inflate(zlib.MAX_WBITS, -zlib.MAX_WBITS, path)
    if codings == ["br"]:
        return _Brotli(path)
    if codings == ["zstd"]:
        return _Zstd(path)
    raise httpx.DecodingError(f"{path}: the server used an encoding we did not ask for: {encoding}")
