"""The environment handed to programs we start (notification commands, the scheduler's tools):
ours, less the session key."""

from __future__ import annotations

import os
from collections.abc import Mapping

from claude_backup.keys import ENV_VAR, KEY_PREFIX


def scrubbed_environ(
    extra: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A copy without CLAUDE_SESSION_KEY, nor any variable whose value holds a session key."""
    env = os.environ if environ is None else environ
    clean = {k: v for k, v in env.items() if k != ENV_VAR and KEY_PREFIX not in v}
    clean.update(extra or {})
    return clean
