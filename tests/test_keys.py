import io
from pathlib import Path

import pytest

from claude_backup.errors import AuthError
from claude_backup.keys import find_keys, parse_keys

K1, K2 = "sk-ant-sid01-aaaa", "sk-ant-sid01-bbbb"


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def keys(**kw):  # type: ignore[no-untyped-def]
    base = dict(
        key_file=None,
        browser=None,
        base_url="https://claude.ai",
        environ={},
        stdin=FakeTty(""),
        browser_lookup=lambda b, h: None,
    )
    base.update(kw)
    return [k.reveal() for k in find_keys(**base)]


def test_order_env_then_stdin_then_file_then_browser(tmp_path: Path) -> None:
    f = tmp_path / "keys"
    f.write_text(f"{K2}\n")
    assert keys(environ={"CLAUDE_SESSION_KEY": K1}, stdin=io.StringIO(K2)) == [K1]
    assert keys(stdin=io.StringIO(f"{K1}\n\n{K2}\n{K1}\n")) == [K1, K2]
    assert keys(stdin=io.StringIO(""), key_file=f) == [K2]
    assert keys(browser_lookup=lambda b, h: K1 if h == "claude.ai" else None) == [K1]


def test_browser_cookie_is_looked_up_for_the_api_host() -> None:
    hosts = []
    keys(base_url="http://127.0.0.1:8000", browser_lookup=lambda b, h: hosts.append(h) or K1)
    assert hosts == ["127.0.0.1"]


def test_missing_key_says_where_keys_come_from() -> None:
    with pytest.raises(AuthError, match=r"CLAUDE_SESSION_KEY.*stdin.*--session-key-file.*browser"):
        keys()


def test_bad_key_is_rejected_without_echoing_it() -> None:
    with pytest.raises(AuthError) as info:
        parse_keys("hello secret-value\n", "stdin")
    assert "secret-value" not in str(info.value) and "line 1 of stdin" in str(info.value)
