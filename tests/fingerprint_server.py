"""A local TLS server that records what a client looks like on the wire: the raw ClientHello
(JA4, ALPN, the extension set), the HTTP/2 preface (SETTINGS, WINDOW_UPDATE) and each request's
pseudo-header order and headers. It answers every request, so a browser and our client can be
compared side by side (tests/test_fingerprint.py).

The ClientHello is read with MSG_PEEK before the TLS handshake, so the bytes are the client's own.
HTTP/2 is parsed frame by frame (hpack decodes the header blocks), HTTP/1.1 line by line.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import ssl
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

import hpack

GREASE = frozenset(0x0A0A + 0x1010 * i for i in range(16))
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
PAGE = b"""<!doctype html><html><head><title>probe</title></head><body>
<script>
fetch("/api/probe?tree=True", {headers: {"anthropic-client-platform": "web_claude_ai"}})
  .then(r => r.text()).then(t => { document.title = "done"; });
</script></body></html>"""


@dataclass
class ClientHello:
    version: int
    ciphers: list[int]
    extensions: list[int]  # in the order sent, GREASE included
    sni: str | None
    alpn: list[str]
    supported_versions: list[int]
    signature_algorithms: list[int]

    @property
    def extension_set(self) -> list[int]:
        return sorted(e for e in self.extensions if e not in GREASE)

    @property
    def ja4(self) -> str:
        """FoxIO's JA4 (TCP): version, SNI, counts, ALPN, sorted cipher and extension hashes."""
        versions = [v for v in self.supported_versions if v not in GREASE] or [self.version]
        tls = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10"}.get(max(versions), "00")
        ciphers = [c for c in self.ciphers if c not in GREASE]
        exts = [e for e in self.extensions if e not in GREASE]
        alpn = self.alpn[0] if self.alpn else ""
        alpn_code = f"{alpn[0]}{alpn[-1]}" if alpn else "00"
        a = f"t{tls}{'d' if self.sni else 'i'}{min(len(ciphers), 99):02d}"
        a += f"{min(len(exts), 99):02d}{alpn_code}"
        b = _hash12(",".join(f"{c:04x}" for c in sorted(ciphers)))
        ext_text = ",".join(f"{e:04x}" for e in sorted(e for e in exts if e not in (0, 16)))
        sigs = [s for s in self.signature_algorithms if s not in GREASE]
        if sigs:
            ext_text += "_" + ",".join(f"{s:04x}" for s in sigs)
        return f"{a}_{b}_{_hash12(ext_text)}"


def _hash12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12] if text else "000000000000"


def parse_client_hello(data: bytes) -> ClientHello:
    """The ClientHello in `data` (one or more TLS handshake records, as sent)."""
    handshake = b""
    pos = 0
    while pos + 5 <= len(data):
        kind, _, length = struct.unpack(">BHH", data[pos : pos + 5])
        if kind != 22:
            break
        handshake += data[pos + 5 : pos + 5 + length]
        pos += 5 + length
    if not handshake or handshake[0] != 1:
        raise ValueError("not a ClientHello")
    body = handshake[4 : 4 + int.from_bytes(handshake[1:4], "big")]
    version = struct.unpack(">H", body[:2])[0]
    p = 2 + 32
    p += 1 + body[p]  # session id
    n = struct.unpack(">H", body[p : p + 2])[0]
    ciphers = list(struct.unpack(f">{n // 2}H", body[p + 2 : p + 2 + n]))
    p += 2 + n
    p += 1 + body[p]  # compression methods
    end = p + 2 + struct.unpack(">H", body[p : p + 2])[0]
    p += 2
    hello = ClientHello(version, ciphers, [], None, [], [], [])
    while p + 4 <= end:
        ext, length = struct.unpack(">HH", body[p : p + 4])
        value = body[p + 4 : p + 4 + length]
        p += 4 + length
        hello.extensions.append(ext)
        if ext == 0 and len(value) > 5:
            hello.sni = value[5 : 5 + struct.unpack(">H", value[3:5])[0]].decode()
        elif ext == 16:
            q = 2
            while q < len(value):
                size = value[q]
                hello.alpn.append(value[q + 1 : q + 1 + size].decode())
                q += 1 + size
        elif ext == 43:
            hello.supported_versions = list(struct.unpack(f">{value[0] // 2}H", value[1:]))
        elif ext == 13:
            count = struct.unpack(">H", value[:2])[0] // 2
            hello.signature_algorithms = list(struct.unpack(f">{count}H", value[2 : 2 + count * 2]))
    return hello


@dataclass
class Request:
    method: str
    path: str
    pseudo_order: list[str]  # ":method", ":authority", ... (HTTP/2 only)
    headers: list[tuple[str, str]]  # regular headers, in the order sent, names lower-cased
    weight: int | None = None  # the HEADERS frame's priority weight (HTTP/2 only)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.headers]

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name), None)


@dataclass
class Connection:
    hello: ClientHello
    alpn: str | None = None
    settings: list[tuple[int, int]] = field(default_factory=list)
    window_update: int | None = None
    requests: list[Request] = field(default_factory=list)

    @property
    def akamai(self) -> str:
        """The Akamai HTTP/2 fingerprint: SETTINGS|WINDOW_UPDATE|PRIORITY|pseudo-header order."""
        settings = ";".join(f"{k}:{v}" for k, v in self.settings)
        order = ",".join(p[1] for p in self.requests[0].pseudo_order) if self.requests else ""
        return f"{settings}|{self.window_update or 0}|0|{order}"


class FingerprintServer:
    """Serves HTTPS on 127.0.0.1 (reach it as https://localhost:PORT) with `cert`/`key` files."""

    def __init__(self, cert_file: str, key_file: str) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert_file, key_file)
        self._context.set_alpn_protocols(["h2", "http/1.1"])
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def __enter__(self) -> FingerprintServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def requests_to(self, path_prefix: str) -> list[tuple[Connection, Request]]:
        with self._lock:
            return [
                (c, r)
                for c in self.connections
                for r in c.requests
                if r.path.startswith(path_prefix)
            ]

    def _accept(self) -> None:
        while not self._stopped:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError, ValueError, struct.error):
            sock.settimeout(20)
            hello = parse_client_hello(_peek_hello(sock))
            conn = Connection(hello)
            with self._lock:
                self.connections.append(conn)
            tls = self._context.wrap_socket(sock, server_side=True)
            conn.alpn = tls.selected_alpn_protocol()
            if conn.alpn == "h2":
                _serve_h2(tls, conn, self._lock)
            else:
                _serve_h1(tls, conn, self._lock)
        with contextlib.suppress(OSError):
            sock.close()


def _peek_hello(sock: socket.socket) -> bytes:
    """The ClientHello's records, left unread in the socket for the TLS handshake."""
    need = 5
    while True:
        data = sock.recv(65536, socket.MSG_PEEK)
        if not data:
            raise ValueError("closed before the ClientHello")
        if len(data) >= 5:
            need = 5 + struct.unpack(">H", data[3:5])[0]
            if len(data) >= 9:
                total = 4 + int.from_bytes(data[6:9], "big")
                need = 5 + total + 5 * ((total - 1) // 16384)
        if len(data) >= need:
            return data[:need]
        threading.Event().wait(0.01)


def _answer(path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    if path == "/" or path.startswith("/?"):
        headers = [
            ("content-type", "text/html; charset=utf-8"),
            ("set-cookie", "sessionKey=sk-ant-sid01-probe; Path=/; Secure"),
        ]
        return 200, headers, PAGE
    if path.startswith("/api/"):
        return 200, [("content-type", "application/json")], b'{"ok":true}'
    return 404, [("content-type", "text/plain")], b"not found"


def _read_exact(tls: ssl.SSLSocket, n: int, buffer: bytearray) -> bytes:
    while len(buffer) < n:
        chunk = tls.recv(65536)
        if not chunk:
            raise OSError("closed")
        buffer += chunk
    data = bytes(buffer[:n])
    del buffer[:n]
    return data


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream) + payload


def _serve_h2(tls: ssl.SSLSocket, conn: Connection, lock: threading.Lock) -> None:
    buffer = bytearray()
    if _read_exact(tls, len(H2_PREFACE), buffer) != H2_PREFACE:
        return
    decoder, encoder = hpack.Decoder(), hpack.Encoder()
    tls.sendall(_frame(4, 0, 0, b""))  # our (empty) SETTINGS
    seen_settings = False
    while True:
        header = _read_exact(tls, 9, buffer)
        length = int.from_bytes(header[:3], "big")
        kind, flags = header[3], header[4]
        stream = struct.unpack(">I", header[5:9])[0] & 0x7FFFFFFF
        payload = _read_exact(tls, length, buffer)
        if kind == 4 and not flags & 1:  # SETTINGS (not an ACK)
            pairs = [struct.unpack(">HI", payload[i : i + 6]) for i in range(0, length, 6)]
            if not seen_settings:
                with lock:
                    conn.settings = [(int(k), int(v)) for k, v in pairs]
                seen_settings = True
            tls.sendall(_frame(4, 1, 0, b""))
        elif kind == 8 and stream == 0 and conn.window_update is None:
            with lock:
                conn.window_update = struct.unpack(">I", payload)[0] & 0x7FFFFFFF
        elif kind == 1:  # HEADERS (no CONTINUATION: our header blocks are small)
            block, weight = payload, None
            if flags & 0x8:  # PADDED
                block = block[1 : len(block) - block[0]]
            if flags & 0x20:  # PRIORITY
                weight = block[4] + 1
                block = block[5:]
            fields = [(str(n), str(v)) for n, v in decoder.decode(block)]
            pseudo = {n: v for n, v in fields if n.startswith(":")}
            request = Request(
                pseudo.get(":method", ""),
                pseudo.get(":path", ""),
                [n for n, _ in fields if n.startswith(":")],
                [(n.lower(), v) for n, v in fields if not n.startswith(":")],
                weight,
            )
            with lock:
                conn.requests.append(request)
            status, headers, body = _answer(request.path)
            block_out = encoder.encode(
                [(":status", str(status)), *headers, ("content-length", str(len(body)))]
            )
            tls.sendall(_frame(1, 0x4, stream, block_out) + _frame(0, 0x1, stream, body))
        elif kind == 6 and not flags & 1:  # PING
            tls.sendall(_frame(6, 1, 0, payload))
        elif kind == 7:  # GOAWAY
            return


def _serve_h1(tls: ssl.SSLSocket, conn: Connection, lock: threading.Lock) -> None:
    buffer = bytearray()
    while True:
        while b"\r\n\r\n" not in buffer:
            chunk = tls.recv(65536)
            if not chunk:
                return
            buffer += chunk
        head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
        buffer = bytearray(rest)
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = [(n.strip().lower(), v.strip()) for n, v in (x.split(":", 1) for x in lines[1:])]
        with lock:
            conn.requests.append(Request(method, path, [], headers))
        status, extra, body = _answer(path)
        out = [f"HTTP/1.1 {status} X", *(f"{n}: {v}" for n, v in extra)]
        out.append(f"content-length: {len(body)}")
        tls.sendall(("\r\n".join(out) + "\r\n\r\n").encode() + body)


def describe(conn: Connection, request: Request) -> dict[str, Any]:
    """What a test failure prints: everything compared, side by side."""
    return {
        "ja4": conn.hello.ja4,
        "alpn_offered": conn.hello.alpn,
        "alpn": conn.alpn,
        "extensions": conn.hello.extension_set,
        "akamai": conn.akamai,
        "pseudo": request.pseudo_order,
        "headers": request.names,
        "weight": request.weight,
    }
