"""claude-backup: a complete, private, git-versioned archive of your Claude.ai chats."""

import sys as _sys

if _sys.version_info < (3, 10):  # noqa: UP036 - pip refuses to install it there; copies run anyway
    raise SystemExit(
        "claude-backup needs Python 3.10 or newer; this is Python "
        f"{_sys.version_info[0]}.{_sys.version_info[1]}. "
        "Install it with a newer one: pipx install --python python3.12 ."
    )

__version__ = "0.1.0"
__all__ = ["__version__"]
