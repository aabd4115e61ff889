"""Which memory mode an organization is in, from its stored `memory-settings.json`.

In the per-file ("melange") mode, `GET …/memory` answers an empty string: the memory lives in
files the web API does not serve. The summary of a sync and `status` say so, so that an empty
`memory.md` is not mistaken for a complete backup.
"""

from __future__ import annotations

import json
from pathlib import Path

from claude_backup.model.layout import MEMORY_SETTINGS

MELANGE_NOTE = (
    "memory lives in per-file memory that the web API does not serve; "
    "`claude-backup import` of the official export captures it"
)


def is_melange(settings: object) -> bool:
    """Whether memory settings say the memory is per-file, so `/memory` is not all of it."""
    if not isinstance(settings, dict):
        return False
    mode = settings.get("memory_mode")
    return settings.get("enabled_melange") is True or (
        isinstance(mode, str) and "melange" in mode.lower()
    )


def melange_orgs(root: Path) -> list[str]:
    """The organization folders (`<account>/<org>`) whose stored settings say per-file."""
    found = []
    for settings in sorted(root.glob(f"*/*/{MEMORY_SETTINGS}")):
        try:
            data = json.loads(settings.read_bytes())
        except (OSError, ValueError):
            continue
        if is_melange(data):
            found.append(str(settings.parent.relative_to(root)).replace("\\", "/"))
    return found
