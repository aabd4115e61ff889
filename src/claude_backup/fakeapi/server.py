"""A real HTTP server on 127.0.0.1 serving the fake Claude.ai web API from a `FakeClaude`.

Standard library only: `ThreadingHTTPServer`, HTTP/1.1 keep-alive with
Content-Length. Faults are applied before auth and routing; the request log
keeps method, path, query, status and endpoint kind, never cookies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from claude_backup.fakeapi.account_plus import plus_of, route_plus
from claude_backup.fakeapi.faults import FaultPlan, Reply, error_reply, json_bytes, not_found_reply
from claude_backup.fakeapi.hostile import raw_detail
from claude_backup.fakeapi.model import Account, FakeClaude
from claude_backup.fakeapi.routes import MAX_FILES_PAGE, BadRequest, route_extra
from claude_backup.fakeapi.wire import WirePlan

ENDPOINT_KINDS = ("account", "organizations", "list", "detail", "other")


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: str
    status: int | None  # None when the connection was reset without a response
    kind: str  # one of ENDPOINT_KINDS
    fault: str | None = None  # the injected fault kind, if any
    time: float = 0.0  # time.monotonic() when the request arrived


def _segments(path: str) -> list[str]:
    return [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []


def endpoint_kind(path: str) -> str:
    """Classify a request path: "account", "organizations", "list", "detail" or "other"."""
    parts = _segments(path)
    if parts[:1] != ["api"]:
        return "other"
    rest = parts[1:]
    if rest == ["account"]:
        return "account"
    if rest == ["organizations"]:
        return "organizations"
    lists = ("chat_conversations", "chat_conversations_v2")
    if len(rest) == 3 and rest[0] == "organizations" and rest[2] in lists:
        return "list"
    if len(rest) == 4 and rest[0] == "organizations" and rest[2] == "chat_conversations":
        return "other" if rest[3] == "count_all" else "detail"
    return "other"


def _session_key(cookie_headers: list[str]) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    for header in cookie_headers:
        with contextlib.suppress(CookieError):
            jar.load(header)
    morsel = jar.get("sessionKey")
    return morsel.value if morsel is not None else None


class _BadRequest(Exception):
    pass


def _int_param(query: dict[str, list[str]], name: str) -> int | None:
    values = query.get(name)
    if not values:
        return None
    try:
        value = int(values[0])
    except ValueError:
        raise _BadRequest(f"{name} must be an integer") from None
    if value < 0:
        raise _BadRequest(f"{name} must not be negative")
    return value


def _bool_param(query: dict[str, list[str]], name: str) -> bool | None:
    values = query.get(name)
    if not values:
        return None
    value = values[0].lower()
    if value not in ("true", "false"):
        raise _BadRequest(f"{name} must be true or false")
    return value == "true"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    app: FakeClaudeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hang up; print anything else."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeClaude/1.0"
    timeout = 120
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.app._connections_add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.app._connections_discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        app = self.server.app
        with app._in_flight():
            self._drain_body()
            cookies = self.headers.get_all("Cookie") or []
            reply = app._answer(self.command, self.path, cookies, dict(self.headers.items()))
            path = urlsplit(self.path).path
            wire = app.wire.take(endpoint_kind(path), path) if reply is not None else None
            if reply is None:
                self._reset()
            elif wire is not None:
                self.close_connection = True
                wire.send(reply, self, app._stopping)
            else:
                self._send(reply)

    def send_head(self, status: int, headers: list[tuple[str, str]]) -> None:
        """The status line and headers (for wire.py's faults, which send the body themselves)."""
        self.send_response_only(status)
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()

    def send_bytes(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _drain_body(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True  # not worth decoding: no endpoint takes a body
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)

    def _send(self, reply: Reply) -> None:
        self.send_response_only(reply.status)
        if not any(name.lower() == "server" for name, _ in reply.headers):
            self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        if reply.content_type is not None:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)
        self.wfile.flush()

    def _reset(self) -> None:
        """Drop the connection with an RST and no response at all."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)


class FakeClaudeServer:
    """Serves `model` on a random free port of 127.0.0.1. Use as a context manager."""

    def __init__(
        self, model: FakeClaude, *, latency: float = 0.0, invalid_session_status: int = 403
    ) -> None:
        self.model = model
        self.latency = latency
        self.invalid_session_status = invalid_session_status
        self.faults = FaultPlan()
        self.wire = WirePlan()  # drips, gzip bombs, renewed and cleared session keys
        self._stopping = threading.Event()
        self.files_page_size = MAX_FILES_PAGE  # lower it to make `account/files` page sooner
        # Set to make the chat listing paginate as the real one does for large accounts: at
        # most this many chats a page, even when no limit is asked for.
        self.chats_page_size: int | None = None
        # Called with the page number (0 first) after each chat listing page is served: a
        # test changes the model there, as a user would while a sync reads the listing.
        self.after_listing_page: Callable[[int], None] | None = None
        self._listing_pages = 0
        self.max_in_flight = 0
        self.connections_opened = 0  # TCP connections accepted: clients should keep them alive
        self._in_flight_now = 0
        self._log: list[RequestRecord] = []
        self._stats_lock = threading.Lock()
        self._request_counter = 0
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """e.g. "http://127.0.0.1:54321"; clients append /api/..."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> None:
        if self._httpd is not None:
            return
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", port), _Handler)
        httpd.app = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"fakeapi-{self.port}",
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, then hang up on every open connection."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        waiter = threading.Thread(target=httpd.shutdown, daemon=True)
        waiter.start()
        with contextlib.suppress(OSError):  # wake the accept loop now, not at its next poll
            socket.create_connection(("127.0.0.1", httpd.server_address[1]), timeout=1).close()
        waiter.join()
        with self._stats_lock:
            open_sockets = list(self._connections)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Block until interrupted (for `python -m claude_backup.fakeapi`)."""
        self.start()
        try:
            while True:
                time.sleep(3600)
        finally:
            self.stop()

    def __enter__(self) -> FakeClaudeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- stats -----------------------------------------------------------------

    def request_log(self) -> list[RequestRecord]:
        with self._stats_lock:
            return list(self._log)

    def count(self, kind: str) -> int:
        """Requests seen of one endpoint kind (see ENDPOINT_KINDS)."""
        with self._stats_lock:
            return sum(1 for r in self._log if r.kind == kind)

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Until no request is being handled (a reply reaches the client a moment before its
        handler counts itself done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._stats_lock:
                if self._in_flight_now == 0:
                    return
            time.sleep(0.01)

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._log.clear()
            self.max_in_flight = self._in_flight_now

    @contextlib.contextmanager
    def _in_flight(self) -> Iterator[None]:
        with self._stats_lock:
            self._in_flight_now += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight_now)
        try:
            yield
        finally:
            with self._stats_lock:
                self._in_flight_now -= 1

    def _connections_add(self, sock: socket.socket) -> None:
        with self._stats_lock:
            self._connections.add(sock)
            self.connections_opened += 1

    def _connections_discard(self, sock: socket.socket) -> None:
        with self._stats_lock:
            self._connections.discard(sock)

    def _next_request_id(self) -> str:
        with self._stats_lock:
            self._request_counter += 1
            return f"req_011Fake{self._request_counter:016d}"

    def _record(self, record: RequestRecord) -> None:
        with self._stats_lock:
            self._log.append(record)

    # -- request handling ------------------------------------------------------

    def _answer(
        self,
        method: str,
        raw_path: str,
        cookies: list[str],
        headers: dict[str, str] | None = None,
    ) -> Reply | None:
        """The reply for one request (None = reset the connection); logs it first."""
        arrived = time.monotonic()
        url = urlsplit(raw_path)
        kind = endpoint_kind(url.path)
        request_id = self._next_request_id()
        self.wire.note_cookies(cookies)
        fault = self.faults.take(kind, url.path)
        stall = fault.seconds if fault is not None and fault.kind == "stall" else 0.0
        reply = fault.reply(request_id) if fault is not None else None
        if reply is None and (fault is None or fault.kind == "stall"):
            reply = self._safe_route(
                method, url.path, url.query, cookies, request_id, headers or {}
            )
            if reply.status < 400 and url.path.startswith("/api/"):
                extra = self.wire.cookies_for(self.model, _session_key(cookies))
                if extra:
                    reply = dataclasses.replace(reply, headers=(*reply.headers, *extra))
        # the reply leaves `latency` (plus any stall) after the request arrived, the fake's own
        # work included, as a server with that latency would answer
        wait = arrived + self.latency + stall - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        status = reply.status if reply is not None else None
        fault_kind = fault.kind if fault is not None else None
        record = RequestRecord(method, url.path, url.query, status, kind, fault_kind, arrived)
        self._record(record)
        return reply

    def _safe_route(
        self,
        method: str,
        path: str,
        query: str,
        cookies: list[str],
        request_id: str,
        headers: dict[str, str],
    ) -> Reply:
        try:
            return self._route(method, path, query, cookies, request_id, headers)
        except (_BadRequest, BadRequest) as exc:
            return error_reply(400, str(exc), request_id)
        except Exception as exc:  # a bug in the fake: make it loud, not a hang
            traceback.print_exc()
            return error_reply(500, f"fake server bug: {exc!r}", request_id, error_type="fake_bug")

    def _route(
        self,
        method: str,
        path: str,
        query: str,
        cookies: list[str],
        request_id: str,
        headers: dict[str, str],
    ) -> Reply:
        if method != "GET":
            return error_reply(
                405, f"Method {method} not allowed", request_id, headers=(("Allow", "GET"),)
            )
        account = self._authenticate(cookies)
        if account is None:
            return error_reply(
                self.invalid_session_status,
                "Invalid authorization",
                request_id,
                code="account_session_invalid",
                error_type="permission_error",
            )
        rest = _segments(path)[1:]
        kind = endpoint_kind(path)
        params = parse_qs(query, keep_blank_values=True)
        plus = route_plus(self.model, account, _segments(path), params, headers, request_id)
        if plus is not None:
            return plus
        if kind == "account":
            return Reply(200, json_bytes(self.model.account_json(account)))
        if kind == "organizations":
            with self.model.lock:
                orgs = [org.to_json() for org in account.orgs]
            return Reply(200, json_bytes(orgs))
        if kind == "list":
            return self._list(
                account, rest[1], rest[2] == "chat_conversations_v2", params, request_id
            )
        if kind == "detail":
            return self._detail(account, rest[1], rest[3], request_id)
        extra = route_extra(
            self.model, account, rest, params, request_id, files_page_size=self.files_page_size
        )
        if extra is not None:
            return extra
        return error_reply(404, "Not found", request_id, code="not_found")

    def _authenticate(self, cookie_headers: list[str]) -> Account | None:
        key = _session_key(cookie_headers)
        return self.model.account_for_key(key) if key is not None else None

    def _org_denied(self, account: Account, org_uuid: str, request_id: str) -> Reply | None:
        org = account.org(org_uuid)
        if org is None or "chat" not in org.capabilities:
            return error_reply(
                403,
                "Invalid authorization for organization",
                request_id,
                error_type="permission_error",
            )
        return None

    def _list(
        self,
        account: Account,
        org_uuid: str,
        v2: bool,
        params: dict[str, list[str]],
        request_id: str,
    ) -> Reply:
        denied = self._org_denied(account, org_uuid, request_id)
        if denied is not None:
            return denied
        limit, offset = _int_param(params, "limit"), _int_param(params, "offset") or 0
        if self.chats_page_size is not None:
            limit = min(limit or self.chats_page_size, self.chats_page_size)
        org = account.org(org_uuid)
        assert org is not None
        items = self.model.list_chats(
            org, starred=_bool_param(params, "starred"), archived=_bool_param(params, "archived")
        )
        cap = plus_of(self.model).listing_cap
        if limit is None and cap is not None and v2:  # a listing that stops short (issue 17)
            items = items[:cap]
        end = len(items) if limit is None else offset + limit
        page = items[offset:end]
        if self.after_listing_page is not None:
            with self._stats_lock:
                number = self._listing_pages
                self._listing_pages += 1
            self.after_listing_page(number)
        if not v2:
            return Reply(200, json_bytes(page))
        body = {"data": page, "has_more": end < len(items), "search_incomplete": False}
        return Reply(200, json_bytes(body))

    def _detail(self, account: Account, org_uuid: str, chat_uuid: str, request_id: str) -> Reply:
        denied = self._org_denied(account, org_uuid, request_id)
        if denied is not None:
            return denied
        raw = raw_detail(self.model, chat_uuid)
        if raw is not None:
            return Reply(200, raw)
        with self.model.lock:
            org = account.org(org_uuid)
            chat = org.chats.get(chat_uuid) if org is not None else None
            detail = self.model.chat_detail(chat) if chat is not None else None
        if detail is None:
            return not_found_reply(request_id)
        return Reply(200, json_bytes(detail))
