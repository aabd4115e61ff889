"""Which HTTP client reaches claude.ai: `chrome` (the default: Chrome's TLS and HTTP/2 handshake,
through curl_cffi, see chrome.py) or `httpx` (httpx's own, the escape hatch).

claude.ai sits behind Cloudflare, whose bot management challenges clients whose handshake is not
a browser's, even with a valid key. Both clients keep httpx as the API the rest of the program
sees; this module only chooses what goes under it. curl_cffi is imported only when a chrome
client is built, so commands that make no request start fast.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

HTTP_CLIENTS = ("chrome", "httpx")
DEFAULT_HTTP_CLIENT = "chrome"


def client_options(kind: str, *, connections: int) -> dict[str, Any]:
    """The `transport` and `mounts` keyword arguments of `httpx.AsyncClient` for `kind`.

    For chrome, proxies come from the environment exactly as httpx reads them (HTTPS_PROXY,
    HTTP_PROXY, ALL_PROXY, NO_PROXY: httpx stops reading them once a transport is given, so the
    same mounts are built here), and certificates from SSL_CERT_FILE / SSL_CERT_DIR as httpx
    takes them."""
    if kind == "httpx":
        return {}
    if kind != "chrome":
        raise ValueError(f"unknown HTTP client {kind!r}; one of: {', '.join(HTTP_CLIENTS)}")
    from claude_backup.transport.chrome import ChromeTransport

    verify = _ca_from_environment()

    def make(proxy: str | None) -> httpx.AsyncBaseTransport:
        return ChromeTransport(connections=connections, proxy=proxy, verify=verify)

    mounts: dict[str, httpx.AsyncBaseTransport | None] = {
        pattern: None if proxy_url is None else make(proxy_url)  # None: the direct transport
        for pattern, proxy_url in environment_proxies().items()
    }
    return {"transport": make(None), "mounts": mounts}


def environment_proxies() -> dict[str, str | None]:
    """httpx's own reading of the proxy variables: URL pattern -> proxy URL (None: direct)."""
    from httpx._utils import get_environment_proxies  # the very rules plain httpx applies

    return get_environment_proxies()


def _ca_from_environment() -> str | bool:
    """SSL_CERT_FILE, else SSL_CERT_DIR, else True (certifi's bundle, as httpx uses)."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        if os.environ.get(name):
            return os.environ[name]
    return True
