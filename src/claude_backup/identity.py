"""Who we say we are: the headers of Chrome's fetch() from the claude.ai web app, for the Chrome
whose TLS and HTTP/2 handshake the chrome transport sends (transport/chrome.py). One identity:
the User-Agent, the client hints and the handshake all name the same Chrome.

The order is Chromium's own for a fetch() that sets `anthropic-client-platform`
(tests/test_fingerprint.py compares it with a headless Chromium on every run).
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

CHROME_MAJOR = 152
"""The Chrome the curl_cffi target `IMPERSONATE` sends the handshake of."""
IMPERSONATE = f"chrome{CHROME_MAJOR}"
IMPERSONATE_MACOS = f"chrome{CHROME_MAJOR}_macos"
SEC_CH_UA = (
    f'"Chromium";v="{CHROME_MAJOR}", "Not?A_Brand";v="24", "Google Chrome";v="{CHROME_MAJOR}"'
)
"""Chrome 152's brand list, as Chrome itself (and curl_cffi's target) sends it."""

_PLATFORMS = {
    # sys.platform prefix: (User-Agent's platform part, sec-ch-ua-platform)
    "win": ("Windows NT 10.0; Win64; x64", "Windows"),
    "darwin": ("Macintosh; Intel Mac OS X 10_15_7", "macOS"),
    "linux": ("X11; Linux x86_64", "Linux"),
}
WEB_PLATFORM = "web_claude_ai"

HEADER_ORDER = (
    "sec-ch-ua-platform",
    "user-agent",
    "sec-ch-ua",
    "anthropic-client-platform",
    "sec-ch-ua-mobile",
    "accept",
    "sec-fetch-site",
    "sec-fetch-mode",
    "sec-fetch-dest",
    "referer",
    "accept-encoding",
    "accept-language",
    "cookie",
    "priority",
)
"""Chromium's order for a same-origin fetch() with `anthropic-client-platform` set."""


def platform_names(platform: str | None = None) -> tuple[str, str]:
    """The User-Agent platform and the client-hint platform of this OS (Linux for others):
    the key was copied from a browser on this machine, so its OS is the plausible one."""
    current = sys.platform if platform is None else platform
    for prefix, names in _PLATFORMS.items():
        if current.startswith(prefix):
            return names
    return _PLATFORMS["linux"]


def user_agent(platform: str | None = None) -> str:
    ua_platform, _ = platform_names(platform)
    return (
        f"Mozilla/5.0 ({ua_platform}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{CHROME_MAJOR}.0.0.0 Safari/537.36"
    )


def impersonate_target(platform: str | None = None) -> str:
    """The curl_cffi target whose handshake goes with `user_agent(platform)`."""
    return IMPERSONATE_MACOS if platform_names(platform)[1] == "macOS" else IMPERSONATE


def browser_headers(base_url: str, platform: str | None = None) -> list[tuple[str, str]]:
    """Every header but the cookie, in Chromium's order (the cookie goes in its slot when the
    request is sent: see `order`)."""
    _, hint_platform = platform_names(platform)
    parts = urlsplit(base_url)
    values = {
        "sec-ch-ua-platform": f'"{hint_platform}"',
        "user-agent": user_agent(platform),
        "sec-ch-ua": SEC_CH_UA,
        "anthropic-client-platform": WEB_PLATFORM,
        "sec-ch-ua-mobile": "?0",
        "accept": "*/*",
        "sec-fetch-site": "same-origin",
        "sec-fetch-mode": "cors",
        "sec-fetch-dest": "empty",
        "referer": f"{parts.scheme}://{parts.netloc}/",
        "accept-encoding": "gzip, deflate, br, zstd",
        "accept-language": "en-US,en;q=0.9",
        "priority": "u=1, i",
    }
    return [(name, values[name]) for name in HEADER_ORDER if name in values]


def order(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`headers` in Chromium's order; names it does not know go before `cookie`, in their order."""
    rank = {name: i for i, name in enumerate(HEADER_ORDER)}
    unknown = rank["cookie"] - 0.5
    return sorted(headers, key=lambda h: rank.get(h[0].lower(), unknown))
