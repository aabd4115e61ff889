"""Will the scheduled job find a session key? It runs without your terminal, your environment
and (often) your unlocked desktop session, so say so at install time, not at 03:17."""

from __future__ import annotations

from collections.abc import Sequence

KEYRING = "keyring"


def key_advice(backend: str, stored: Sequence[str], keyring_backend: str) -> list[str]:
    """Advice lines, given where keys are stored (places, in lookup order) and the keyring
    backend in use. Empty when the job will find its key."""
    if not stored:
        return [
            "no stored session key yet: run `claude-backup key set`, or every run fails (exit 4)"
        ]
    if stored[0] != KEYRING or "SecretService" not in keyring_backend:
        return []
    if backend == "cron":
        return [
            "cron jobs cannot reach the desktop keyring: `claude-backup key set --file` keeps "
            "the key where they can read it"
        ]
    if backend == "systemd":
        return [
            "the desktop keyring is locked while you are logged out; if the timer runs then "
            "(enable-linger), `claude-backup key set --file` keeps the key where it can read it"
        ]
    return []
