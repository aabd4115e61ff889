"""Canonical bytes for what we store: stable, pretty, greppable JSON."""

from __future__ import annotations

import json
from typing import Any

import orjson

_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def json_bytes(value: Any) -> bytes:
    """Pretty-printed JSON, keys sorted so diffs stay minimal, UTF-8 unescaped, final newline.

    orjson writes it (the standard library's indenting encoder is pure Python and far slower;
    docs/performance.md). Its output is checked to parse back to the same value, so
    what it cannot spell exactly (NaN, integers beyond 64 bits, a lone surrogate, which is valid
    JSON but not valid UTF-8) is written by the standard library instead, with \\u escapes for
    the last: the value stays exactly the same, only its spelling changes.
    """
    try:
        data = orjson.dumps(value, option=_PRETTY)
        if orjson.loads(data) == value:
            return data
    except (TypeError, ValueError):  # orjson's errors subclass these
        pass
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, indent=2, ensure_ascii=True, sort_keys=True)
        return (text + "\n").encode("ascii")
