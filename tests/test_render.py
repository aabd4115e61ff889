"""The canonical bytes of stored JSON: always the same value back, the stdlib's spelling."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from claude_backup.model.canonical import json_bytes


def stdlib_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


# What a JSON parser can hand us: any text (surrogates included), 64-bit and bigger integers,
# floats in plain notation (exponent floats are spelled differently, checked below).
texts = st.text(st.characters(codec=None))
plain_floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: "e" not in repr(f))
scalars = st.none() | st.booleans() | st.integers() | plain_floats | texts
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=30,
)


@given(values)
def test_bytes_parse_back_to_the_same_value_in_the_stdlib_spelling(value: Any) -> None:
    data = json_bytes(value)
    assert json.loads(data) == value
    try:
        expected = stdlib_bytes(value)
    except UnicodeEncodeError:  # a lone surrogate: escaped in its string, the file stays UTF-8
        data.decode("utf-8")
    else:
        assert data == expected


@given(st.floats(allow_nan=False))
def test_every_float_keeps_its_value(number: float) -> None:
    assert json.loads(json_bytes({"x": number}))["x"] == number


def test_values_orjson_cannot_write_are_written_by_the_stdlib() -> None:
    for value in ({"n": 2**70}, {"x": float("nan")}, {"x": -math.inf}, {"s": "\ud800"}):
        data = json_bytes(value)
        back = json.loads(data)
        assert json.dumps(back) == json.dumps(value)  # NaN compares unequal, its spelling not
