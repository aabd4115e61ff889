"""The environment every process we start gets: ours, less every secret.

The session key may come from $CLAUDE_SESSION_KEY and a git token from $CLAUDE_BACKUP_GIT_TOKEN;
a child (ssh, git, a credential helper, whatever they start in turn: a ProxyCommand, a helper
script) has no business with either, and may log its environment. `keys.take_secret` removes
them from our own environment as they are read, which covers the processes libraries start;
`child_env` is what we pass to each process we start ourselves, in case one came back.
"""

from __future__ import annotations

import os

from claude_backup.keys import KEY_PREFIX, SECRET_ENV_VARS


def child_env(**extra: str) -> dict[str, str]:
    """os.environ without our secrets (by name, and any value holding a session key), plus
    `extra`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in SECRET_ENV_VARS and KEY_PREFIX not in value
    }
    env.update(extra)
    return env
