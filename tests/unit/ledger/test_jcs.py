"""RFC 8785 canonical JSON: the RFC's own examples, escaping, numbers and I-JSON limits."""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daihuo.ledger.jcs import MAX_SAFE_INTEGER, canonical_json

PROPERTIES = settings(database=None, deadline=None, max_examples=300)


def test_rfc8785_section_3_2_2_example() -> None:
    source = r"""{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"""
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(json.loads(source)) == expected.encode()


def test_keys_sort_by_utf16_code_units_as_in_rfc8785_section_3_2_3() -> None:
    source = r"""{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }"""
    values = [v for v in json.loads(canonical_json(json.loads(source))).values()]
    # The emoji (surrogates D83D DE00) sorts before U+FB33, unlike code point order.
    assert values == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]


@pytest.mark.parametrize(
    ("ieee754", "expected"),
    [
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),  # minus zero
        ("0000000000000001", "5e-324"),
        ("8000000000000001", "-5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("ffefffffffffffff", "-1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("c340000000000000", "-9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("44b52d02c7e14af6", "1e+23"),
        ("44b52d02c7e14af7", "1.0000000000000001e+23"),
        ("444b1ae4d6e2ef4e", "999999999999999700000"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("41b3de4355555553", "333333333.3333332"),
        ("41b3de4355555554", "333333333.33333325"),
        ("41b3de4355555555", "333333333.3333333"),
        ("41b3de4355555556", "333333333.3333334"),
        ("41b3de4355555557", "333333333.33333343"),
        ("becbf647612f3696", "-0.0000033333333333333333"),
        ("43143ff3c1cb0959", "1424953923781206.2"),  # round to even
    ],
)
def test_rfc8785_appendix_b_numbers(ieee754: str, expected: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(ieee754))
    assert canonical_json(value) == expected.encode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (-0.0, "0"),
        (1.0, "1"),
        (100.0, "100"),
        (0.5, "0.5"),
        (-1.5, "-1.5"),
        (123.456, "123.456"),
        (1.5e300, "1.5e+300"),
        (2.5e-8, "2.5e-8"),
    ],
)
def test_numbers_follow_ecmascript_number_to_string(value: float, expected: str) -> None:
    assert canonical_json(value) == expected.encode()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinities_are_rejected(value: float) -> None:
    with pytest.raises(ValueError, match="no JSON form"):
        canonical_json({"x": [value]})


def test_integers_inside_the_safe_range_are_written_exactly() -> None:
    assert canonical_json([0, -7, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == (
        b"[0,-7,9007199254740991,-9007199254740991]"
    )


@pytest.mark.parametrize("value", [2**53, -(2**53), 2**64, -(10**30)])
def test_integers_beyond_2_53_are_rejected(value: int) -> None:
    with pytest.raises(ValueError, match="round-trip"):
        canonical_json({"amount": value})


def test_literals_are_not_confused_with_numbers() -> None:
    assert canonical_json([True, False, None, 1, 0]) == b"[true,false,null,1,0]"


def test_named_escapes_and_lowercase_unicode_escapes_for_other_controls() -> None:
    text = '"\\\b\f\n\r\t\x00\x01\x1f'
    assert canonical_json(text) == b'"\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f"'


def test_only_mandatory_characters_are_escaped() -> None:
    text = "/ \x7f é € 😀 带货 <script>"
    assert canonical_json(text) == ('"' + text + '"').encode("utf-8")


def test_lone_surrogates_are_rejected() -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        canonical_json("a\ud800b")
    with pytest.raises(ValueError, match="lone surrogate"):
        canonical_json({"\udfff": 1})


def test_nested_values_have_no_whitespace() -> None:
    entry = {
        "kind": "order",
        "tenant": "t1",
        "id": "o-123",
        "ts": "2026-11-27T12:00:05.120Z",
        "body": {"state": "paid", "total_cents": 12900, "items": [{"sku": "A", "qty": 2}]},
    }
    assert canonical_json(entry) == (
        b'{"body":{"items":[{"qty":2,"sku":"A"}],"state":"paid","total_cents":12900},'
        b'"id":"o-123","kind":"order","tenant":"t1","ts":"2026-11-27T12:00:05.120Z"}'
    )
    assert canonical_json({}) == b"{}"
    assert canonical_json([]) == b"[]"


@pytest.mark.parametrize("value", [(1, 2), b"bytes", {1, 2}, object()])
def test_values_without_a_json_form_are_type_errors(value: object) -> None:
    with pytest.raises(TypeError):
        canonical_json({"x": value})


def test_non_string_keys_are_type_errors() -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        canonical_json({1: "one"})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20,
)


@PROPERTIES
@given(json_values)
def test_canonical_json_parses_back_to_the_same_value_and_is_stable(value: Any) -> None:
    encoded = canonical_json(value)
    # JSON numbers are doubles: read them as such, or 4.281614669625597e+16, written
    # "42816146696255970", would come back as a different (exact) Python int.
    parsed = json.loads(encoded, parse_int=float)
    assert parsed == value
    assert canonical_json(parsed) == encoded


@PROPERTIES
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_double_round_trips_through_its_canonical_text(value: float) -> None:
    assert float(canonical_json(value)) == value
