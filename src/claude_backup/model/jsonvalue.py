"""JSON read and written without limits: whatever parses as JSON can be stored as served.

Python's own parser and printers recurse (a document nested 100,000 deep raises
RecursionError) and refuse integers of more than 4,300 digits. `loads` tries the fast
standard parser first and, only when it gives up, parses again without recursion: containers
deeper than `MAX_DEPTH` and integers too long for `int` are kept as `RawJson`, their exact
text, which `dumps_pretty` writes back verbatim. `dumps_pretty` never recurses either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

MAX_DEPTH = 200  # deeper containers stay text (orjson writes at most 255 levels)
MAX_INT_DIGITS = 4000  # below Python's int/str conversion limit (4,300 by default)
_TOKEN = re.compile(
    r"""[ \t\n\r]*(?:
      (?P<punct>[\[\]{}:,])
    | (?P<string>")
    | (?P<number>-?(?:0|[1-9][0-9]*)(?P<frac>(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?))
    | (?P<literal>true|false|null|NaN|Infinity|-Infinity)
    )""",
    re.VERBOSE,
)
_TRAILING = re.compile(r"[ \t\n\r]*")
_LITERALS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": float("-inf"),
}

# what may come next
_VALUE, _FIRST_VALUE, _KEY, _FIRST_KEY, _COLON, _AFTER, _END = range(7)


class RawJson:
    """A JSON value kept as its exact text (too deep or too long for Python's json)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawJson) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"RawJson({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


def loads(data: bytes | str) -> Any:
    """The value of a JSON document; ValueError if it is not JSON. Never RecursionError."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        pass
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8: {exc}") from None
    else:
        text = data
    return _parse(text.removeprefix("\ufeff"))


def _parse(text: str) -> Any:
    """An iterative parser: an explicit stack instead of recursion."""
    stack: list[tuple[str, Any]] = []  # (bracket, container being built or None in raw text)
    keys: list[str] = []  # the pending key of each open object
    raw_from = -1  # where the outermost container kept as text starts
    raw_level = 0  # the stack height below it
    state = _VALUE
    result: Any = None
    pos = 0

    def fail(message: str) -> ValueError:
        return ValueError(f"{message} at char {pos}")

    def emit(value: Any) -> int:
        nonlocal result
        if not stack:
            result = value
            return _END
        bracket, container = stack[-1]
        if container is not None:
            if bracket == "[":
                container.append(value)
            else:
                container[keys[-1]] = value
        return _AFTER

    while state != _END:
        match = _TOKEN.match(text, pos)
        if match is None:
            raise fail("invalid JSON")
        kind = match.lastgroup
        if kind == "frac":
            kind = "number"
        pos = match.end()
        if kind == "punct":
            char = match.group("punct")
            if char in "[{":
                if state not in (_VALUE, _FIRST_VALUE):
                    raise fail(f"unexpected {char!r}")
                container: Any = None
                if raw_from < 0 and len(stack) >= MAX_DEPTH:
                    raw_from, raw_level = match.start("punct"), len(stack)
                if raw_from < 0:
                    container = [] if char == "[" else {}
                stack.append((char, container))
                if char == "{":
                    keys.append("")
                state = _FIRST_VALUE if char == "[" else _FIRST_KEY
            elif char in "]}":
                opening = "[" if char == "]" else "{"
                if not stack or stack[-1][0] != opening:
                    raise fail(f"unexpected {char!r}")
                if state not in (_AFTER, _FIRST_VALUE if char == "]" else _FIRST_KEY):
                    raise fail(f"unexpected {char!r}")
                _, done = stack.pop()
                if char == "}":
                    keys.pop()
                if raw_from >= 0 and len(stack) == raw_level:
                    done, raw_from = RawJson(text[raw_from:pos]), -1
                state = emit(done) if raw_from < 0 else _AFTER
            elif char == ",":
                if state != _AFTER or not stack:
                    raise fail("unexpected ','")
                state = _VALUE if stack[-1][0] == "[" else _KEY
            else:
                if state != _COLON:
                    raise fail("unexpected ':'")
                state = _VALUE
        elif kind == "string":
            value, pos = scanstring(text, match.end("string"), True)
            if state in (_KEY, _FIRST_KEY):
                keys[-1] = value
                state = _COLON
            elif state in (_VALUE, _FIRST_VALUE):
                state = emit(value) if raw_from < 0 else _AFTER
            else:
                raise fail("unexpected string")
        else:
            if state not in (_VALUE, _FIRST_VALUE):
                raise fail("unexpected value")
            token = match.group(kind or "")
            if raw_from >= 0:
                state = _AFTER
                continue
            if kind == "literal":
                state = emit(_LITERALS[token])
            elif match.group("frac"):
                state = emit(float(token))
            elif len(token) > MAX_INT_DIGITS:
                state = emit(RawJson(token))
            else:
                state = emit(int(token))
    if _TRAILING.match(text, pos).end() != len(text):  # type: ignore[union-attr]
        raise fail("extra data")
    return result


def dumps_pretty(value: Any) -> bytes:
    """Pretty JSON as `json.dumps(indent=2, sort_keys=True, ensure_ascii=False)` spells it,
    plus a final newline, without recursion; `RawJson` verbatim; a string holding a lone
    surrogate (valid JSON, not valid UTF-8) with \\u escapes."""
    return "".join(_pieces(value)).encode("utf-8") + b"\n"


def _pieces(value: Any) -> Iterator[str]:
    work: list[tuple[Any, int] | str] = [(value, 0)]
    while work:
        item = work.pop()
        if isinstance(item, str):
            yield item
            continue
        node, depth = item
        if isinstance(node, dict) and node:
            inner = "\n" + "  " * (depth + 1)
            later: list[tuple[Any, int] | str] = ["{"]
            for number, key in enumerate(sorted(node)):
                sep = "," if number else ""
                later += [f"{sep}{inner}{_string(str(key))}: ", (node[key], depth + 1)]
            later.append("\n" + "  " * depth + "}")
            work.extend(reversed(later))
        elif isinstance(node, (list, tuple)) and node:
            inner = "\n" + "  " * (depth + 1)
            later = ["["]
            for number, element in enumerate(node):
                later += [("," if number else "") + inner, (element, depth + 1)]
            later.append("\n" + "  " * depth + "]")
            work.extend(reversed(later))
        else:
            yield _scalar(node)


def _scalar(value: Any) -> str:
    if isinstance(value, RawJson):
        return value.text
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    return json.dumps(value)  # numbers, booleans, null; TypeError for anything else


def _string(text: str) -> str:
    spelled = json.dumps(text, ensure_ascii=False)
    try:
        spelled.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(text)  # a lone surrogate: escaped, the value stays the same
    return spelled
