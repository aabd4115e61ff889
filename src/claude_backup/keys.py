"""Where session keys come from, in order: --session-key-file or --browser (a flag wins over
the environment, as for every setting), CLAUDE_SESSION_KEY, stdin (when it is not a terminal),
the key stored by `claude-backup key set` (OS keyring, then the private key file), any
browser's cookies. A key is never taken from the command line, and its value never appears in
a message, a repr or a traceback."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from claude_backup.errors import AuthError, UsageError

KEY_PREFIX = "sk-ant-"
ENV_VAR = "CLAUDE_SESSION_KEY"
GIT_TOKEN_ENV = "CLAUDE_BACKUP_GIT_TOKEN"
SECRET_ENV_VARS = frozenset({ENV_VAR, GIT_TOKEN_ENV})  # never passed on to a child process
WHERE_KEYS_COME_FROM = (
    "pass --session-key-file, set CLAUDE_SESSION_KEY, pipe the key on stdin, "
    "store one with `claude-backup key set`, or log in to claude.ai in a browser on this machine"
)
COOKIE_NAME = "sessionKey"


BROWSERS = (
    "chrome",
    "chromium",
    "firefox",
    "brave",
    "edge",
    "opera",
    "vivaldi",
    "safari",
    "librewolf",
)


class SessionKey:
    """A secret that does not print itself."""

    __slots__ = ("_value", "expires", "line", "source")

    def __init__(
        self, value: str, source: str, line: int | None = None, *, expires: float | None = None
    ) -> None:
        self._value = value
        self.source = source  # where it came from: CLAUDE_SESSION_KEY, stdin, a file's path
        self.line = line  # its line there, when it came from text with several lines
        self.expires = expires  # a browser cookie's expiry (Unix time); None when unknown

    @property
    def where(self) -> str:
        """For messages: `line 2 of stdin`."""
        return f"line {self.line} of {self.source}" if self.line else self.source

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"SessionKey(<hidden>, source={self.source!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SessionKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def parse_keys(text: str, source: str) -> list[SessionKey]:
    """Keys one per line (blank lines, `# comments` and surrounding space ignored; duplicates
    dropped). A line may be the key, the key in quotes, or `sessionKey=<key>` as copied from a
    cookie header (other cookies on the line are ignored)."""
    keys: list[SessionKey] = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = _key_of(line)
        if not value:
            continue
        if not value.startswith(KEY_PREFIX) or any(ch.isspace() or ch in ";,'\"" for ch in value):
            raise AuthError(
                f"line {number} of {source} is not a session key (keys start with {KEY_PREFIX})"
            )
        key = SessionKey(value, source, number)
        if key not in keys:
            keys.append(key)
    return keys


def _key_of(line: str) -> str:
    """The key a line holds, unwrapped; "" for a blank or comment line."""
    value = line.strip().lstrip("\ufeff")
    if not value or value.startswith("#"):
        return ""
    if f"{COOKIE_NAME}=" in value:
        cookies = (c.strip() for c in value.split(";"))
        value = next((c for c in cookies if c.startswith(f"{COOKIE_NAME}=")), "")
        value = value[len(COOKIE_NAME) + 1 :].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1].strip()
    return value


def find_keys(
    *,
    key_file: Path | None,
    browser: str | None,
    base_url: str,
    environ: dict[str, str] | None = None,
    stdin: TextIO | None = None,
    browser_lookup: Callable[[str | None, str], str | None] | None = None,
    stored_lookup: Callable[[], list[SessionKey]] | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[SessionKey]:
    """The keys to sync with: an explicit --session-key-file or --browser first (a flag wins
    over the environment), then CLAUDE_SESSION_KEY, stdin, the stored key, any browser."""
    forbid_core_dumps()
    # taken out of the environment whatever wins: no child process inherits it
    from_env = take_secret(ENV_VAR) if environ is None else environ.get(ENV_VAR)
    host = urlsplit(base_url).hostname or "claude.ai"
    if key_file is not None:
        return _from_file(key_file, warn or _warn)
    if browser is not None:
        keys = _from_browser(browser, host, browser_lookup)
        if not keys:
            raise AuthError(
                f"no {COOKIE_NAME} cookie for {host} in {browser}: is {browser} installed, "
                f"and logged in to claude.ai? ({WHERE_KEYS_COME_FROM})"
            )
        return keys
    if from_env and from_env.strip():
        return parse_keys(from_env, ENV_VAR)
    stream = sys.stdin if stdin is None else stdin
    if stream is not None and not _is_terminal(stream):
        keys = parse_keys(stream.read(), "stdin")
        if keys:
            return keys
    if stored_lookup is None:
        from claude_backup.keystore import stored_keys

        stored_lookup = stored_keys
    keys = stored_lookup()
    if keys:
        return keys
    return _from_browser(None, host, browser_lookup) or _none_found()


def _from_browser(
    browser: str | None, host: str, lookup: Callable[[str | None, str], str | None] | None
) -> list[SessionKey]:
    source = f"{browser or 'browser'} cookies"
    if lookup is not None:
        value = lookup(browser, host)
        return parse_keys(value, source) if value else []
    found = browser_session_cookie(browser, host)
    if not found:
        return []
    return [
        SessionKey(k.reveal(), k.source, expires=found[1]) for k in parse_keys(found[0], source)
    ]


def _from_file(key_file: Path, warn: Callable[[str], None]) -> list[SessionKey]:
    path = key_file.expanduser()
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except OSError as exc:
        raise UsageError(f"cannot read --session-key-file {key_file}: {exc.strerror}") from exc
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        warn(f"{key_file} can be read by other users of this machine; run `chmod 600 {key_file}`")
    keys = parse_keys(text, str(key_file))
    if not keys:
        raise AuthError(f"{key_file} holds no session key")
    return keys


def _warn(message: str) -> None:
    print(f"claude-backup: warning: {message}", file=sys.stderr, flush=True)


def _none_found() -> list[SessionKey]:
    raise AuthError(f"no session key found: {WHERE_KEYS_COME_FROM}")


def take_secret(name: str) -> str | None:
    """Read a secret from the environment and remove it from there, so that no process started
    from here on (by us or by a library: ssh, git, a credential helper) inherits it."""
    return os.environ.pop(name, None)


def forbid_core_dumps() -> None:
    """No core dump of this process (nor of its children): it would hold the key. Where the
    platform has no such limit (Windows), there are no core files to begin with."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return
    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, OSError):  # closed
        return True


def browser_session_cookie(browser: str | None, host: str) -> tuple[str, float | None] | None:
    """The `sessionKey` cookie's value and expiry (Unix time, if the browser keeps one)."""
    try:
        import browser_cookie3
    except ImportError:  # pragma: no cover - a dependency, but stay usable without it
        return None
    if browser is not None and browser not in BROWSERS:
        raise UsageError(f"unknown browser {browser!r}; one of: {', '.join(BROWSERS)}")
    loader: Any = getattr(browser_cookie3, browser) if browser else browser_cookie3.load
    try:
        jar = loader(domain_name=host)
    except Exception as exc:  # browser_cookie3 raises many kinds: no browser data, locked, ...
        if browser is None:
            return None  # any browser: finding none is not an error here
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise AuthError(f"cannot read {browser}'s cookies: {reason}") from exc
    for cookie in jar:
        if cookie.name == "sessionKey" and cookie.value:
            expires = cookie.expires
            return str(cookie.value), float(expires) if expires else None
    return None


def write_back_key(path: Path, old: SessionKey, new: SessionKey) -> bool:
    """Put a renewed key in place of `old` in a --session-key-file, atomically, 0600.

    Only a value that looks like a key (`sk-ant-sid0N-...`) is ever written, never an empty one;
    other lines (other accounts' keys) stay as they are. False, and the file untouched, when the
    old key is no longer in the file (changed by hand meanwhile) or the new one is malformed."""
    from claude_backup.cookies import is_session_key

    value = new.reveal()
    if not is_session_key(value):
        return False
    path = path.expanduser()
    text = path.read_bytes().decode("utf-8")  # (line endings kept as they are)
    lines = text.splitlines(keepends=True)
    found = False
    for i, line in enumerate(lines):
        if _key_of(line) == old.reveal():  # a bare, quoted or `sessionKey=` line
            ending = line[len(line.rstrip("\r\n")) :]
            lines[i] = value + ending
            found = True
    if not found:
        return False
    _write_private(path, "".join(lines).encode("utf-8"))
    return True


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a 0600 temporary file in the same folder, then rename."""
    import tempfile

    target = path.resolve()
    fd, tmp = tempfile.mkstemp(prefix=".key-", dir=target.parent)
    try:
        os.chmod(tmp, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
