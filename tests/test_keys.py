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


def test_order_file_then_env_then_stdin_then_browser(tmp_path: Path) -> None:
    f = tmp_path / "keys"
    f.write_text(f"{K2}\n")
    f.chmod(0o600)
    assert keys(environ={"CLAUDE_SESSION_KEY": K1}, stdin=io.StringIO(K2)) == [K1]
    assert keys(stdin=io.StringIO(f"{K1}\n\n{K2}\n{K1}\n")) == [K1, K2]
    assert keys(stdin=io.StringIO(""), key_file=f) == [K2]
    assert keys(browser_lookup=lambda b, h: K1 if h == "claude.ai" else None) == [K1]


def test_an_explicit_key_file_or_browser_wins_over_a_stale_environment(tmp_path: Path) -> None:
    f = tmp_path / "keys"
    f.write_text(f"{K2}\n")
    f.chmod(0o600)
    stale = {"CLAUDE_SESSION_KEY": K1}
    assert keys(environ=stale, key_file=f) == [K2]
    assert keys(environ=stale, browser="firefox", browser_lookup=lambda b, h: K2) == [K2]


def test_a_named_browser_without_the_cookie_is_named() -> None:
    with pytest.raises(AuthError, match=r"sessionKey cookie for claude.ai in firefox"):
        keys(browser="firefox")


@pytest.mark.parametrize(
    "line",
    [
        K1,
        f"  {K1}  ",
        f'"{K1}"',
        f"'{K1}'",
        f"sessionKey={K1}",
        f"sessionKey={K1}; lastActiveOrg=abc",
        f"anthropic-device-id=xyz; sessionKey={K1}; other=1",
        f"\ufeff{K1}",
    ],
)
def test_key_lines_as_people_copy_them(line: str) -> None:
    assert [k.reveal() for k in parse_keys(f"# my key\n\n{line}\n", "file")] == [K1]


def test_sources_name_the_line() -> None:
    parsed = parse_keys(f"# comment\n{K1}\n{K2}\n", "stdin")
    assert [k.where for k in parsed] == ["line 2 of stdin", "line 3 of stdin"]
    assert {k.source for k in parsed} == {"stdin"}


def test_a_key_file_others_can_read_gets_a_warning(tmp_path: Path) -> None:
    f = tmp_path / "keys"
    f.write_text(f"{K1}\n")
    warnings: list[str] = []
    f.chmod(0o644)
    assert keys(key_file=f, warn=warnings.append) == [K1]
    assert warnings and "chmod 600" in warnings[0] and K1 not in warnings[0]
    f.chmod(0o600)
    warnings.clear()
    keys(key_file=f, warn=warnings.append)
    assert warnings == []


def test_browser_cookie_is_looked_up_for_the_api_host() -> None:
    hosts = []
    keys(base_url="http://127.0.0.1:8000", browser_lookup=lambda b, h: hosts.append(h) or K1)
    assert hosts == ["127.0.0.1"]


def test_missing_key_says_where_keys_come_from() -> None:
    with pytest.raises(AuthError, match=r"--session-key-file.*CLAUDE_SESSION_KEY.*stdin.*browser"):
        keys()


def test_bad_key_is_rejected_without_echoing_it() -> None:
    with pytest.raises(AuthError) as info:
        parse_keys("hello secret-value\n", "stdin")
    assert "secret-value" not in str(info.value) and "line 1 of stdin" in str(info.value)
