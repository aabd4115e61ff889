"""Text for people: one-line messages from server text, sizes in binary units."""

from __future__ import annotations

import re

# control and invisible characters, and lone surrogates (which no terminal or commit can hold)
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff\s]+"
)


def one_line(text: object, limit: int = 100) -> str:
    """Server text made safe for a one-line message: no control or invisible characters, no
    lone surrogate."""
    value = _UNPRINTABLE.sub(" ", text if isinstance(text, str) else "").strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def human_size(size: int) -> str:
    """1536 -> '1.5 KiB' (binary units; bytes below 1 KiB)."""
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{size} B" if size < 1024 else f"{value:.1f} {unit}"
    return f"{size} B"


def plural(count: int, word: str, many: str | None = None) -> str:
    """1 -> '1 chat', 2 -> '2 chats' (`many` for irregular plurals)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
