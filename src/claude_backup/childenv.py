"""The environment handed to every program we start (ssh and git for a push, git's credential
helpers, notification commands, the scheduler's tools): ours, less every secret.

The session key may come from $CLAUDE_SESSION_KEY and a git token from $CLAUDE_BACKUP_GIT_TOKEN;
a child (or what it starts in turn: a ProxyCommand, a helper script, a hook) has no business
with either, and may log its environment. `keys.take_secret` also removes them from our own
environment as they are read, which covers the processes libraries start (dulwich's ssh).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from claude_backup.keys import KEY_PREFIX, SECRET_ENV_VARS


def scrubbed_environ(
    extra: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A copy without CLAUDE_SESSION_KEY and CLAUDE_BACKUP_GIT_TOKEN, nor any variable whose
    value holds a session key."""
    env = os.environ if environ is None else environ
    clean = {k: v for k, v in env.items() if k not in SECRET_ENV_VARS and KEY_PREFIX not in v}
    clean.update(extra or {})
    return clean
