"""JSON without limits: the iterative parser and printer agree with the standard library
wherever it works, and go on where it gives up (depth, integer length)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_backup.model.canonical import json_bytes
from claude_backup.model.jsonvalue import MAX_DEPTH, RawJson, _parse, dumps_pretty, loads

scalars = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def _has_surrogate(value: Any) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in json.dumps(value, ensure_ascii=False))


@given(values)
def test_the_printer_spells_what_the_standard_library_spells(value: Any) -> None:
    printed = dumps_pretty(value)
    assert json.loads(printed) == value
    if not _has_surrogate(value):
        expected = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        assert printed == expected.encode("utf-8")
        # orjson spells an exponent `e-6` where the standard library writes `e-06`: same value
        assert json.loads(json_bytes(value)) == value


@given(values)
def test_the_parser_reads_what_the_standard_library_reads(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, indent=3, ensure_ascii=False)):
        assert _parse(text) == value


@given(st.text(alphabet='[]{}:,"0123456789.eE+-tfrunl \\x', max_size=30))
def test_the_parser_refuses_what_the_standard_library_refuses(text: str) -> None:
    try:
        expected: Any = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            _parse(text)
    else:
        got = _parse(text)
        assert got == expected or (isinstance(got, float) and math.isnan(got))


def test_depth_and_long_integers_are_kept_as_text() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    digits = "9" * 5000
    document = f'{{"deep": {deep}, "big": {digits}, "small": -12}}'.encode()
    value = loads(document)
    assert value["big"] == RawJson(digits) and value["small"] == -12
    inner = value["deep"]
    for _ in range(MAX_DEPTH - 1):
        (inner,) = inner
    assert inner == RawJson("[" * (100_000 - MAX_DEPTH + 1) + "]" * (100_000 - MAX_DEPTH + 1))
    stored = json_bytes(value)
    assert loads(stored) == value
    assert f'"big": {digits},'.encode() in stored


@pytest.mark.parametrize(
    "document", [b"[" * 100_000, b"[1,]", b'{"a":1,}', b"[01]", b'"\\ud83d', b"\xff", b"{}x"]
)
def test_what_is_not_json_raises_value_error(document: bytes) -> None:
    with pytest.raises(ValueError):
        loads(document)


def test_a_lone_surrogate_is_escaped_only_where_it_is() -> None:
    stored = json_bytes({"a": "é \ud83d", "b": "é"})
    assert stored == b'{\n  "a": "\\u00e9 \\ud83d",\n  "b": "\xc3\xa9"\n}\n'
    assert json.loads(stored) == {"a": "é \ud83d", "b": "é"}
