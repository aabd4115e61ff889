"""Canonical bytes for what we store: stable, pretty, greppable JSON."""

from __future__ import annotations

import json
from typing import Any


def json_bytes(value: Any) -> bytes:
    """Pretty-printed JSON, keys sorted so diffs stay minimal, UTF-8 unescaped, final newline.

    A string holding a lone surrogate (valid JSON, not valid UTF-8) falls back to \\u escapes:
    the value stays exactly the same, only its spelling changes.
    """
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, indent=2, ensure_ascii=True, sort_keys=True)
        return (text + "\n").encode("ascii")


def human_size(size: int) -> str:
    """1536 -> '1.5 KiB' (binary units; bytes below 1 KiB)."""
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{size} B" if size < 1024 else f"{value:.1f} {unit}"
    return f"{size} B"
