"""The key an unattended run uses, stored by `claude-backup key set`: in the OS keyring
(Secret Service, macOS Keychain, Windows Credential Locker, through the `keyring` library) or,
with `--file`, in a 0600 file beside the config file. One place at a time: storing in one
forgets the other, so there is never a stale copy to be used by mistake."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from claude_backup.config import config_path
from claude_backup.errors import ClaudeBackupError
from claude_backup.keys import SessionKey, parse_keys
from claude_backup.privatefile import write_private

SERVICE = "claude-backup"
USERNAME = "session-keys"
KEYRING_SOURCE = "keyring"


class KeyringUnavailable(ClaudeBackupError):
    """No usable OS keyring (a headless machine without Secret Service, a locked store)."""

    exit_code = 4


def key_file_path(environ: Mapping[str, str] | None = None) -> Path:
    return config_path(environ).parent / "session-key"


@dataclass(frozen=True)
class Stored:
    """Where a stored key lives, and how many keys it holds."""

    place: str  # "keyring" or the file's path
    keys: int
    backend: str = ""


def keyring_backend_name() -> str:
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception:  # keyring's own start-up can fail on odd machines
        return "none"
    # The default chains every usable backend: name those it chains.
    chained = getattr(backend, "backends", None) or [backend]
    return "+".join(_name(b) for b in chained)


def _name(backend: object) -> str:
    module = type(backend).__module__.removeprefix("keyring.backends.")
    return f"{module}.{type(backend).__name__}"


def _keyring_read() -> str | None:
    """The stored text, or None when nothing is stored or no keyring can be used here."""
    try:
        import keyring

        return keyring.get_password(SERVICE, USERNAME)
    except Exception:  # NoKeyringError, a locked store, D-Bus gone: fall through to the next source
        return None


def keyring_keys() -> list[SessionKey]:
    text = _keyring_read()
    return parse_keys(text, KEYRING_SOURCE) if text else []


def file_keys(environ: Mapping[str, str] | None = None) -> list[SessionKey]:
    path = key_file_path(environ)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    return parse_keys(text, str(path))


def stored_keys() -> list[SessionKey]:
    """The keyring's keys, else the key file's; [] when neither holds one."""
    return keyring_keys() or file_keys()


def stored_places() -> list[Stored]:
    places = []
    text = _keyring_read()
    if text:
        places.append(
            Stored(KEYRING_SOURCE, len(parse_keys(text, KEYRING_SOURCE)), keyring_backend_name())
        )
    found = file_keys()
    if found:
        places.append(Stored(str(key_file_path()), len(found)))
    return places


def store(keys: list[SessionKey], *, in_file: bool) -> str:
    """Store `keys` (one per account) and forget any other stored copy. Returns the place."""
    text = "".join(f"{key.reveal()}\n" for key in keys)
    if in_file:
        path = key_file_path()
        try:
            write_private(path, text.encode())
        except OSError as exc:
            raise ClaudeBackupError(f"cannot write {path}: {exc.strerror}") from exc
        _keyring_delete()
        return str(path)
    try:
        import keyring

        keyring.set_password(SERVICE, USERNAME, text)
    except Exception as exc:
        raise KeyringUnavailable(
            f"the OS keyring cannot store the key here ({type(exc).__name__}); "
            "use `claude-backup key set --file` to keep it in a private file instead"
        ) from None
    with contextlib.suppress(FileNotFoundError):
        key_file_path().unlink()
    return KEYRING_SOURCE


def _keyring_delete() -> bool:
    try:
        import keyring

        if keyring.get_password(SERVICE, USERNAME) is None:
            return False
        keyring.delete_password(SERVICE, USERNAME)
    except Exception:
        return False
    return True


def remove() -> list[str]:
    """Forget every stored key; the places they were removed from."""
    removed = []
    if _keyring_delete():
        removed.append(KEYRING_SOURCE)
    path = key_file_path()
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        removed.append(str(path))
    return removed


def store_renewed_key(old: SessionKey, new_value: str) -> bool:
    """Write a renewed key (the server's `Set-Cookie: sessionKey`) back where `old` came from,
    when that is the keyring or our key file; False for any other source (the caller handles
    --session-key-file; the environment, stdin and browsers are not ours to write).

    Other keys stored beside `old` (other accounts) are kept. The new key's 28 days start now.
    """
    try:
        found = parse_keys(new_value, old.source)
    except ClaudeBackupError:
        return False
    if len(found) != 1:
        return False
    renewed = found[0]
    if old.source == KEYRING_SOURCE:
        current = keyring_keys()
    elif old.source == str(key_file_path()):
        current = file_keys()
    else:
        return False
    if old not in current:
        return False
    updated = [renewed if key == old else key for key in current]
    try:
        store(updated, in_file=old.source != KEYRING_SOURCE)
    except ClaudeBackupError:
        return False
    from claude_backup.keyage import KeyAges, ages_path, now_utc

    ages = KeyAges(ages_path())
    ages.restart(renewed, now_utc())
    ages.save(now_utc())
    return True
