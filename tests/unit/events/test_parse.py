"""The event model and the JSON Lines reader against shared/spec/events.md."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from daihuo.events.model import (
    EVENT_TYPES,
    REQUIRED_KEYS,
    SOURCES,
    Event,
    InvalidEvent,
    event_from_obj,
    event_to_obj,
    format_ts,
    parse_ts,
)
from daihuo.events.parse import ParseSummary, Reject, load_events, parse_line, parse_lines

TS = "2026-11-27T12:00:05.120Z"

# A valid value for every known key a type may require.
VALUES: dict[str, Any] = {
    "user": "u1",
    "source": "feed",
    "product": "p1",
    "order": "o1",
    "qty": 2,
    "amount": 19800,
    "text": "这个多少钱",
}


def obj(etype: str = "comment", **keys: Any) -> dict[str, Any]:
    """A valid object of ``etype`` with exactly its required keys, then ``keys`` applied."""
    out: dict[str, Any] = {"id": "e1", "ts": TS, "session": "s1", "type": etype}
    out.update({key: VALUES[key] for key in REQUIRED_KEYS[etype]})
    out.update(keys)
    return out


def line(etype: str = "comment", **keys: Any) -> str:
    return json.dumps(obj(etype, **keys), ensure_ascii=False)


def reason(text: str | bytes) -> str:
    with pytest.raises(InvalidEvent) as caught:
        parse_line(text)
    return str(caught.value)


def read(lines: list[Any]) -> tuple[list[Event], ParseSummary]:
    summary = ParseSummary()
    return list(parse_lines(lines, summary)), summary


# --- accepted events ---------------------------------------------------------------------


@pytest.mark.parametrize("etype", sorted(EVENT_TYPES))
def test_every_type_with_its_required_keys_is_accepted(etype: str) -> None:
    event = parse_line(line(etype))
    assert event.type == etype
    assert event.ts == TS
    for key in REQUIRED_KEYS[etype]:
        assert getattr(event, key) == VALUES[key]


def test_timestamp_becomes_epoch_milliseconds_and_keeps_its_string() -> None:
    event = parse_line(line())
    expected = datetime(2026, 11, 27, 12, 0, 5, 120_000, tzinfo=UTC)
    assert event.ts_ms == int(expected.timestamp()) * 1000 + 120
    assert event.ts == TS


def test_format_ts_is_the_inverse_of_parse_ts() -> None:
    for ts in [
        TS,
        "1970-01-01T00:00:00.000Z",
        "2028-02-29T23:59:59.999Z",
        "1969-12-31T23:59:59.001Z",
    ]:
        assert format_ts(parse_ts(ts)) == ts


def test_unknown_keys_are_kept_and_ignored() -> None:
    event = parse_line(line("like", count=3, client="ios", nested={"a": [1, 2.5]}))
    assert event.count == 3
    assert event.extra == {"client": "ios", "nested": {"a": [1, 2.5]}}
    assert parse_line(line("like")).extra is None


def test_optional_keys_are_read_and_null_counts_as_absent() -> None:
    event = parse_line(line("comment", device="d1", ip="10.0.0.1", meta={"coupon": "c9"}))
    assert (event.device, event.ip, event.meta) == ("d1", "10.0.0.1", {"coupon": "c9"})
    bare = parse_line(line("like", count=None, device=None, meta=None))
    assert (bare.count, bare.device, bare.meta, bare.extra) == (None, None, None, None)


def test_event_to_obj_gives_back_the_object() -> None:
    original = obj("order_paid", device="d1", meta={"coupon": "c9"}, client="ios")
    assert event_to_obj(event_from_obj(original)) == original


def test_refund_without_product_is_accepted_because_the_order_names_it() -> None:
    # Decision (see daihuo.events.model): the spec's example and the samples write refunds
    # without product; the refund is attributed through its order.
    event = parse_line(line("order_refunded"))
    assert event.product is None
    assert parse_line(line("order_refunded", product="p1")).product == "p1"


def test_amount_zero_is_allowed() -> None:
    assert parse_line(line("order_created", amount=0)).amount == 0


# --- rejection reasons --------------------------------------------------------------------


@pytest.mark.parametrize("key", ["id", "ts", "session", "type"])
def test_missing_envelope_key_is_rejected(key: str) -> None:
    broken = obj()
    del broken[key]
    assert reason(json.dumps(broken)) == f"missing required key {key!r}"


def test_null_required_key_is_reported_as_missing() -> None:
    assert reason(line(user=None)) == "missing required key 'user' for type comment (it is null)"
    assert reason(line(id=None)) == "missing required key 'id' (it is null)"


@pytest.mark.parametrize(
    ("etype", "key"),
    [(etype, key) for etype, keys in sorted(REQUIRED_KEYS.items()) for key in keys],
)
def test_missing_required_key_for_type_is_rejected(etype: str, key: str) -> None:
    broken = obj(etype)
    del broken[key]
    assert reason(json.dumps(broken)) == f"missing required key {key!r} for type {etype}"


def test_the_required_keys_follow_the_spec_table() -> None:
    user_types = EVENT_TYPES - {"live_start", "live_end"}
    assert all("user" in REQUIRED_KEYS[t] for t in user_types)
    assert {t for t, keys in REQUIRED_KEYS.items() if "source" in keys} == {"impression", "enter"}
    assert {t for t, keys in REQUIRED_KEYS.items() if "order" in keys} == {
        "order_created",
        "order_paid",
        "order_refunded",
    }
    assert {t for t, keys in REQUIRED_KEYS.items() if "qty" in keys} == {
        "cart_add",
        "order_created",
        "order_paid",
    }
    assert {t for t, keys in REQUIRED_KEYS.items() if "amount" in keys} == {
        "order_created",
        "order_paid",
        "order_refunded",
    }
    assert {t for t, keys in REQUIRED_KEYS.items() if "text" in keys} == {"comment"}
    assert {t for t, keys in REQUIRED_KEYS.items() if "product" in keys} == {
        "product_impression",
        "product_click",
        "cart_add",
        "order_created",
        "order_paid",
    }


def test_unknown_type_is_rejected() -> None:
    assert reason(line(type="gift")) == 'unknown type "gift"'


def test_float_amount_is_rejected_even_when_whole() -> None:
    assert (
        reason(line("order_paid", amount=100.0))
        == "amount must be an integer number of fen, got float 100.0"
    )
    exponent = line("order_refunded").replace("19800", "1e2")
    assert reason(exponent) == "amount must be an integer number of fen, got float 100.0"


@pytest.mark.parametrize(
    ("etype", "key", "unit"),
    [("order_paid", "amount", "fen"), ("cart_add", "qty", "units"), ("like", "count", "likes")],
)
def test_boolean_is_not_an_integer(etype: str, key: str, unit: str) -> None:
    assert reason(line(etype, **{key: True})) == (
        f"{key} must be an integer number of {unit}, got boolean true"
    )


@pytest.mark.parametrize(
    ("etype", "key", "value", "expected"),
    [
        ("cart_add", "qty", 0, "qty must be >= 1, got 0"),
        ("order_paid", "qty", -1, "qty must be >= 1, got -1"),
        ("order_paid", "amount", -5, "amount must be >= 0, got -5"),
        ("like", "count", 0, "count must be >= 1, got 0"),
        ("cart_add", "qty", "2", 'qty must be an integer number of units, got string "2"'),
    ],
)
def test_integer_bounds_are_enforced(etype: str, key: str, value: Any, expected: str) -> None:
    assert reason(line(etype, **{key: value})) == expected


def test_a_known_key_is_type_checked_on_any_type() -> None:
    # qty is not required on a like, but a present qty must still be an integer
    assert reason(line("like", qty=1.5)) == "qty must be an integer number of units, got float 1.5"


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"id": 7}, "id must be a string, got integer 7"),
        ({"id": ""}, "id must be a non-empty string"),
        ({"session": ["s"]}, 'session must be a string, got array ["s"]'),
        ({"type": True}, "type must be a string, got boolean true"),
        ({"user": ""}, "user must be a non-empty string"),
        ({"user": 12}, "user must be a string, got integer 12"),
        ({"text": {"t": 1}}, 'text must be a string, got object {"t": 1}'),
        ({"device": 3}, "device must be a string, got integer 3"),
        ({"ts": 1764244805120}, "ts must be a string, got integer 1764244805120"),
    ],
)
def test_strings_must_be_strings(keys: dict[str, Any], expected: str) -> None:
    assert reason(line("comment", **keys)) == expected


def test_empty_comment_text_is_allowed() -> None:
    assert parse_line(line("comment", text="")).text == ""


def test_source_must_be_one_of_the_allowed_set() -> None:
    allowed = ", ".join(SOURCES)
    assert reason(line("enter", source="tv")) == f'source must be one of {allowed}; got "tv"'
    assert reason(line("like", source="Feed")) == f'source must be one of {allowed}; got "Feed"'
    for source in SOURCES:
        assert parse_line(line("impression", source=source)).source == source


def test_meta_must_be_an_object() -> None:
    assert reason(line(meta="coupon")) == 'meta must be an object, got string "coupon"'
    assert reason(line(meta=[1])) == "meta must be an object, got array [1]"


@pytest.mark.parametrize(
    "ts",
    [
        "2026-11-27T12:00:05Z",  # no milliseconds
        "2026-11-27T12:00:05.12Z",  # two fraction digits
        "2026-11-27T12:00:05.120000Z",  # microseconds
        "2026-11-27T12:00:05.120+00:00",  # offset instead of Z
        "2026-11-27T20:00:05.120+08:00",
        "2026-11-27T12:00:05.120z",  # lower-case z
        "2026-11-27t12:00:05.120Z",
        "2026-11-27 12:00:05.120Z",  # space separator
        "2026-11-27T12:00:05.120",  # no zone
        "2026-11-27T12:00:0٥.120Z",  # Arabic-Indic digit
        "",
    ],
)
def test_timestamp_of_another_shape_is_rejected(ts: str) -> None:
    assert reason(line(ts=ts)) == (
        "ts must be RFC 3339 UTC with milliseconds, shaped like 2026-11-27T12:00:05.120Z; "
        f"got {json.dumps(ts, ensure_ascii=False)}"
    )


@pytest.mark.parametrize(
    "ts",
    [
        "2026-02-29T12:00:00.000Z",  # 2026 is not a leap year
        "2026-11-31T12:00:00.000Z",
        "2026-13-01T12:00:00.000Z",
        "2026-11-27T24:00:00.000Z",
        "2026-11-27T12:60:00.000Z",
        "2026-12-31T23:59:60.000Z",  # leap second
        "0000-01-01T00:00:00.000Z",
    ],
)
def test_timestamp_that_is_not_a_real_instant_is_rejected(ts: str) -> None:
    assert reason(line(ts=ts)) == f'ts is not a real date and time: "{ts}"'


def test_bad_json_is_rejected_with_its_position() -> None:
    assert reason('{"id": "e1", "ts": ') == "bad JSON: Expecting value at column 20"
    assert reason(line() + " x").startswith("bad JSON: Extra data at column")


def test_nan_and_infinity_are_not_json() -> None:
    assert reason(line("order_paid").replace("19800", "NaN")) == "bad JSON: NaN is not valid JSON"
    assert reason(line("like", extra_key=1).replace("1}", "Infinity}")) == (
        "bad JSON: Infinity is not valid JSON"
    )


def test_a_line_that_is_not_an_object_is_rejected() -> None:
    assert reason("[1, 2]") == "not a JSON object (got array)"
    assert reason('"hello"') == "not a JSON object (got str)"


def test_non_utf8_bytes_reject_the_line_without_stopping_the_read() -> None:
    good = line().encode()
    latin1 = line(text="café").encode("latin-1")
    events, summary = read([good, latin1, line(id="e2").encode()])
    assert [e.id for e in events] == ["e1", "e2"]
    assert summary.rejected == 1
    (reject,) = summary.rejects
    assert reject.line == 2
    assert reject.reason.startswith("not valid UTF-8: byte 0xe9 at offset")


def test_lone_surrogate_in_text_input_is_rejected() -> None:
    broken = line(text="ok").replace('"ok"', '"o\udce9"')
    offset = broken.index("\udce9")
    assert reason(broken) == f"not valid UTF-8: unpaired surrogate at offset {offset}"


# --- the reader: numbering, blanks, duplicates, summary ----------------------------------


def test_rejects_carry_line_numbers_and_read_as_the_spec_says() -> None:
    broken = obj("order_paid")
    del broken["order"]
    lines = [line(), json.dumps(broken), line("order_paid", id="e3", amount=100.0)]
    _, summary = read(lines)
    assert [str(r) for r in summary.rejects] == [
        "line 2: missing required key 'order' for type order_paid",
        "line 3: amount must be an integer number of fen, got float 100.0",
    ]
    assert summary.rejects[0] == Reject(2, "missing required key 'order' for type order_paid")


def test_blank_lines_are_skipped_not_rejected_but_still_numbered() -> None:
    events, summary = read(["\n", line() + "\n", "   \r\n", "", line(id="e2", ts="x")])
    assert [e.id for e in events] == ["e1"]
    assert (summary.lines, summary.kept, summary.rejected, summary.blank) == (5, 1, 1, 3)
    assert summary.rejects[0].line == 5


def test_duplicate_ids_first_one_wins_and_are_counted_apart_from_rejects() -> None:
    events, summary = read(
        [line(id="a", text="first"), line(id="b"), line(id="a", text="second"), line(id="a")]
    )
    assert [(e.id, e.text) for e in events] == [("a", "first"), ("b", VALUES["text"])]
    assert (summary.kept, summary.duplicates, summary.rejected) == (2, 2, 0)


def test_a_rejected_line_does_not_claim_its_id() -> None:
    events, summary = read([line(id="a", user=""), line(id="a", text="valid")])
    assert [(e.id, e.text) for e in events] == [("a", "valid")]
    assert (summary.rejected, summary.duplicates) == (1, 0)


def test_dedupe_can_be_turned_off() -> None:
    events = list(parse_lines([line(id="a"), line(id="a")], dedupe=False))
    assert len(events) == 2


def test_summary_keeps_the_first_rejects_and_counts_all() -> None:
    summary = ParseSummary(max_rejects=2)
    list(parse_lines(["{"] * 5 + [line()], summary))
    assert (summary.rejected, summary.kept, len(summary.rejects)) == (5, 1, 2)
    assert str(summary) == "6 lines: kept 1, rejected 5, duplicates 0, blank 0"


def test_summary_counts_what_was_read_when_the_reader_stops_early() -> None:
    summary = ParseSummary()
    stream = parse_lines([line(id="a"), "{", line(id="b"), line(id="c")], summary)
    assert next(stream).id == "a"
    assert next(stream).id == "b"
    assert (summary.lines, summary.kept, summary.rejected) == (3, 2, 1)


def test_file_with_bom_crlf_and_bad_bytes_is_read_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + line(id="a").encode()
        + b"\r\n"
        + b'{"id": "b", "text": "\xff\xfe"}\r\n'
        + b"\r\n"
        + line(id="c").encode()
        + b"\n"
        + line(id="a").encode()  # duplicate, no final newline
    )
    events, summary = load_events(path)
    assert [e.id for e in events] == ["a", "c"]
    assert (summary.lines, summary.kept, summary.rejected, summary.duplicates, summary.blank) == (
        5,
        2,
        1,
        1,
        1,
    )
    assert summary.rejects[0].line == 2


def test_bom_is_only_forgiven_on_the_first_line() -> None:
    _, summary = read([line(id="a"), "\ufeff" + line(id="b")])
    assert summary.rejected == 1
    assert summary.rejects[0].reason == "bad JSON: byte-order mark not at the start of the file"
