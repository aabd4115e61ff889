"""Canonical bytes for what we store: stable, pretty, greppable JSON."""

from __future__ import annotations

from typing import Any

import orjson

from claude_backup.model.jsonvalue import RawJson, dumps_pretty

_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def json_bytes(value: Any) -> bytes:
    """Pretty-printed JSON, keys sorted so diffs stay minimal, UTF-8 unescaped, final newline.

    orjson writes it (the standard library's indenting encoder is pure Python and far slower;
    docs/performance.md). Its output is checked to parse back to the same value, so
    what it cannot spell exactly (NaN, integers beyond 64 bits, a lone surrogate, which is valid
    JSON but not valid UTF-8, more than 255 levels of nesting) is written by
    `jsonvalue.dumps_pretty` instead, in the same layout: the value stays exactly the same,
    only a lone surrogate's spelling changes (a \\u escape). `RawJson` values (what
    `jsonvalue.loads` kept as text) are written verbatim.
    """
    raw: list[bool] = []

    def fragment(item: Any) -> Any:
        if isinstance(item, RawJson):
            raw.append(True)
            return orjson.Fragment(item.text)
        raise TypeError(type(item).__name__)

    try:
        data = orjson.dumps(value, default=fragment, option=_PRETTY)
        if raw or orjson.loads(data) == value:
            return data
    except (TypeError, ValueError, RecursionError):  # orjson's errors subclass the first two
        pass
    return dumps_pretty(value)
