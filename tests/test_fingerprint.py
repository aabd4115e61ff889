"""Our client next to headless Chromium, on the wire: a local TLS server of our own records the
ClientHello, the HTTP/2 preface and the request headers of both, and they must be equal where
a server can tell (JA4 and the sorted extension set: Chromium shuffles the order per connection,
so not JA3; ALPN; SETTINGS, WINDOW_UPDATE, pseudo-header order; the names and order of the
request headers, and the values of the fetch() metadata headers)."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from claude_backup.client import ClaudeClient, Politeness
from claude_backup.keys import SessionKey
from fingerprint_server import FingerprintServer, describe

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SAME_VALUES = (
    "accept",
    "sec-fetch-site",
    "sec-fetch-mode",
    "sec-fetch-dest",
    "sec-ch-ua-mobile",
    "anthropic-client-platform",
    "accept-encoding",
    "accept-language",
    "priority",
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Chromium and chromedriver are not installed (.ci/run installs them)",
)


def test_our_handshake_and_headers_are_chromiums(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trustme = pytest.importorskip("trustme")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    cert.private_key_pem.write_to_path(tmp_path / "key.pem")
    cert.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))  # as httpx takes it

    with FingerprintServer(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")) as server:
        base = f"https://localhost:{server.port}"
        options = webdriver.ChromeOptions()
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--ignore-certificate-errors",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ):
            options.add_argument(arg)
        options.binary_location = str(CHROMIUM)
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            driver.get(f"{base}/")  # the page fetch()es /api/probe, as the web app calls its API
            deadline = time.monotonic() + 30
            while not server.requests_to("/api/probe") and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            driver.quit()

        async def ours() -> None:
            key = SessionKey("sk-ant-sid01-probe", "test")
            async with ClaudeClient(base, key, Politeness(retries=0, timeout=10)) as client:
                await client.get_json("/ours", {"tree": "True"})

        asyncio.run(ours())
        [(chromium_conn, chromium)] = server.requests_to("/api/probe")
        [(our_conn, mine)] = server.requests_to("/api/ours")

    theirs, got = describe(chromium_conn, chromium), describe(our_conn, mine)
    for item in ("ja4", "alpn_offered", "alpn", "extensions", "akamai", "pseudo", "headers"):
        assert got[item] == theirs[item], (item, got, theirs)
    for name in SAME_VALUES:
        assert mine.header(name) == chromium.header(name), name
    assert mine.header("referer") == f"{base}/"
    assert "claude-backup" not in (mine.header("user-agent") or "")
