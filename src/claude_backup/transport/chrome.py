"""The chrome transport: httpx-curl-cffi's transport over curl_cffi (curl-impersonate), so the
TLS ClientHello and the HTTP/2 preface are Chrome's, with the gaps that transport leaves closed:

- every curl error becomes the httpx exception plain httpx raises for the same fault, also
  when it happens while the body streams (httpx-curl-cffi lets those out raw, and maps
  certificate failures and "empty reply" to the base `httpx.RequestError`, which is not retried);
- headers go out in Chromium's fetch() order (curl would otherwise reorder them into its
  navigation order) with fetch()'s HTTP/2 stream weight;
- curl does not decode the body (its decoder would inflate a gzip bomb whole, in one go, before
  anyone could stop it): body.py decodes it in bounded steps, as for plain httpx;
- a body left unread is stopped at once (curl_cffi's own close waits for all of it).

Imported only when a chrome client is built (clients.py): curl_cffi takes a while to load.
Connections are kept alive and HTTP/2 streams share them (never curl's FRESH_CONNECT).
"""

from __future__ import annotations

import asyncio
import os
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from curl_cffi import CurlOpt
from curl_cffi.curl import CurlError
from curl_cffi.utils import CurlCffiWarning
from httpx_curl_cffi import AsyncCurlTransport

from claude_backup.identity import HEADER_ORDER, impersonate_target

# On Windows, asyncio's default (Proactor) loop lacks add_reader: curl_cffi then runs a selector
# thread of its own, which works, and says so with a warning on every sync. Nothing to act on.
warnings.filterwarnings("ignore", message=r"\s*Proactor event loop", category=CurlCffiWarning)

FETCH_STREAM_WEIGHT = 220
"""Chromium's HTTP/2 weight for fetch() (priority u=1); curl's target uses navigation's 256."""

_CONNECT = httpx.ConnectError
_PROTOCOL = httpx.RemoteProtocolError
CURL_ERRORS: dict[int, type[httpx.RequestError]] = {
    1: httpx.UnsupportedProtocol,  # UNSUPPORTED_PROTOCOL
    3: httpx.UnsupportedProtocol,  # URL_MALFORMAT
    5: httpx.ProxyError,  # COULDNT_RESOLVE_PROXY
    6: _CONNECT,  # COULDNT_RESOLVE_HOST
    7: _CONNECT,  # COULDNT_CONNECT
    8: _PROTOCOL,  # WEIRD_SERVER_REPLY
    16: _PROTOCOL,  # HTTP2 framing error
    18: _PROTOCOL,  # PARTIAL_FILE: the body ended before its length
    23: httpx.ReadError,  # WRITE_ERROR: the body's reader went away
    26: httpx.ReadError,  # READ_ERROR
    27: httpx.ReadError,  # OUT_OF_MEMORY
    28: httpx.ReadTimeout,  # OPERATION_TIMEDOUT (ConnectTimeout when it says so, below)
    35: _CONNECT,  # SSL_CONNECT_ERROR
    47: _PROTOCOL,  # TOO_MANY_REDIRECTS (redirects are not followed; defensive)
    52: _PROTOCOL,  # GOT_NOTHING: "Empty reply from server"
    53: _CONNECT,  # SSL_ENGINE_NOTFOUND
    55: httpx.WriteError,  # SEND_ERROR
    56: httpx.ReadError,  # RECV_ERROR: connection reset
    58: _CONNECT,  # SSL_CERTPROBLEM
    59: _CONNECT,  # SSL_CIPHER
    60: _CONNECT,  # PEER_FAILED_VERIFICATION: untrusted certificate
    61: httpx.DecodingError,  # BAD_CONTENT_ENCODING
    77: _CONNECT,  # SSL_CACERT_BADFILE
    80: _CONNECT,  # SSL_SHUTDOWN_FAILED
    83: _CONNECT,  # SSL_ISSUER_ERROR
    90: _CONNECT,  # SSL_PINNEDPUBKEYNOTMATCH
    91: _CONNECT,  # SSL_INVALIDCERTSTATUS
    92: _PROTOCOL,  # HTTP2_STREAM: a stream reset
    95: _PROTOCOL,  # HTTP3
    97: httpx.ProxyError,  # PROXY handshake
}


def httpx_error(exc: CurlError, request: httpx.Request) -> httpx.RequestError:
    """The httpx exception plain httpx raises for the same fault: a TransportError (retried)
    for everything but a bad encoding; the curl code stays in the message."""
    code = int(getattr(exc, "code", 0) or 0)
    kind = CURL_ERRORS.get(code, httpx.TransportError)
    message = str(exc) or f"curl error {code}"
    if kind is httpx.ReadTimeout and "connect" in message.lower():
        kind = httpx.ConnectTimeout
    return kind(message, request=request)


class ChromeTransport(AsyncCurlTransport):
    """An httpx transport that shakes hands as Chrome does (see the module docstring)."""

    def __init__(
        self, *, connections: int, proxy: str | None = None, verify: str | bool = True
    ) -> None:
        options: dict[CurlOpt, Any] = {
            CurlOpt.HTTPHEADER_ORDER: ",".join(HEADER_ORDER),
            CurlOpt.STREAM_WEIGHT: FETCH_STREAM_WEIGHT,
            CurlOpt.HTTP_CONTENT_DECODING: 0,  # body.py decodes, within limits
        }
        if isinstance(verify, str) and os.path.isdir(verify):
            options[CurlOpt.CAPATH] = verify
            verify = True
        super().__init__(
            impersonate=impersonate_target(),  # type: ignore[arg-type]
            default_headers=False,  # our headers are fetch()'s, not curl's navigation ones
            max_connections=connections,
            proxy=proxy,
            verify=verify,  # type: ignore[arg-type]  # curl_cffi takes a CA path too
            curl_options=options,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.RequestError as exc:
            cause = exc.__cause__
            if isinstance(cause, CurlError):
                raise httpx_error(cause, request) from cause
            raise
        except CurlError as exc:
            raise httpx_error(exc, request) from exc

    def _create_response(self, req: httpx.Request, _resp: Any) -> httpx.Response:
        response = super()._create_response(req, _resp)
        response.stream = _TranslatedStream(
            response.stream,  # type: ignore[arg-type]
            req,
            lambda: self._abort(_resp),
        )
        return response

    def _abort(self, _resp: Any) -> asyncio.Task[None] | None:
        """Stop a transfer whose body we no longer want, at once: curl_cffi's own close waits
        for the whole body (a dripping server: for ever; a gzip bomb: all of it, decoded)."""
        task: asyncio.Task[None] | None = getattr(_resp, "astream_task", None)
        if task is None or task.done():
            return task
        quit_now = getattr(_resp, "quit_now", None)
        if quit_now is not None:
            quit_now.set()  # the next write from curl fails
        curl = getattr(_resp, "curl", None)
        if curl is not None:
            self._session.acurl.remove_handle(curl)  # and the transfer ends now
        return task


class _TranslatedStream(httpx.AsyncByteStream):
    """The body, with curl errors raised while it streams turned into httpx's."""

    def __init__(
        self,
        inner: httpx.AsyncByteStream,
        request: httpx.Request,
        abort: Callable[[], asyncio.Task[None] | None],
    ) -> None:
        self._inner = inner
        self._request = request
        self._abort = abort
        self._finished = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except CurlError as exc:
            self._finished = True
            raise httpx_error(exc, self._request) from exc
        self._finished = True

    async def aclose(self) -> None:
        if not self._finished:  # left before the end: stop the transfer, then it is closed
            task = self._abort()
            if task is not None:
                await asyncio.wait({task})  # (never raises, even for the task we cancelled)
                return
        try:
            await self._inner.aclose()
        except CurlError as exc:
            raise httpx_error(exc, self._request) from exc
