"""Importing JSON Lines into DuckDB: the SQL fast path must store exactly what the parser
accepts, reject exactly what it rejects (same line numbers, same reasons), and an import
must be idempotent. Export gives the events back."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daihuo.analytics import engine, reference
from daihuo.core.warehouse import COLUMNS
from daihuo.core.warehouse.duckdb import DuckDBWarehouse
from daihuo.events.model import Event, InvalidEvent, event_to_obj
from daihuo.events.parse import ParseSummary, load_events, parse_line, parse_lines
from daihuo.events.store import (
    _STAGE_COLUMNS,
    PLAIN_SQL,
    _import_generic,
    event_row,
    export_jsonl,
    import_file,
    session_events,
)

from tests.unit.analytics.logs import (
    created,
    end,
    enter,
    ev,
    event_logs,
    impression,
    start,
    write_jsonl,
)

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
SAMPLES = SHARED / "samples"
EXAMPLE = SHARED / "spec" / "examples" / "edge-cases.events.jsonl"


def stored(warehouse: DuckDBWarehouse) -> list[tuple[Any, ...]]:
    """Every stored row in arrival order, JSON columns parsed (their spelling may differ)."""
    rows = warehouse.cursor().execute("SELECT * EXCLUDE (seq) FROM events ORDER BY seq").fetchall()
    meta, extra = COLUMNS.index("meta"), COLUMNS.index("extra")
    out = []
    for row in rows:
        row = list(row)
        for i in (meta, extra):
            row[i] = None if row[i] is None else json.loads(row[i])
        out.append(tuple(row))
    return out


def generic_import(path: Path) -> tuple[list[tuple[Any, ...]], ParseSummary]:
    """The reference import: the parser on every line, appended in batches."""
    warehouse = DuckDBWarehouse(None)
    summary = ParseSummary()
    _import_generic(warehouse, path, summary, None)
    return stored(warehouse), summary


def fast_import(path: Path, chunk_bytes: int) -> tuple[list[tuple[Any, ...]], ParseSummary]:
    warehouse = DuckDBWarehouse(None)
    summary = import_file(warehouse, path, chunk_bytes=chunk_bytes)
    return stored(warehouse), summary


def same_summary(a: ParseSummary, b: ParseSummary) -> None:
    assert (a.lines, a.kept, a.rejected, a.duplicates, a.blank) == (
        b.lines,
        b.kept,
        b.rejected,
        b.duplicates,
        b.blank,
    )
    assert a.rejects == b.rejects


# --- lines that are valid, odd, or broken ---------------------------------------------------------

ODD_VALUES = st.sampled_from(
    [None, 0, -0.0, 1.0, 1e2, 1.5, True, "2", "", [], {}, 2**63, 2**64, -1, "x" * 3]
)
BAD_TS = st.sampled_from(
    [
        "2026-02-30T12:00:00.000Z",
        "2026-11-27T24:00:00.000Z",
        "2026-11-27T12:60:00.000Z",
        "2026-11-27T12:00:60.000Z",
        "0000-01-01T00:00:00.000Z",
        "0001-01-01T00:00:00.000Z",
        "9999-12-31T23:59:59.999Z",
        "2024-02-29T00:00:00.000Z",
        "2026-11-27t12:00:00.000z",
        "2026-11-27T12:00:00.000+00:00",
        "2026-11-27T12:00:00.00Z",
        "2026-11-27 12:00:00.000Z",
        "２026-11-27T12:00:00.000Z",
    ]
)
TEXTS = st.sampled_from(
    ["hi", "这个多少钱", "", 'a "quote"', "back\\slash", "tab\there", "nul\x00", "😀", "a:b,}"]
)


@st.composite
def mutated_obj(draw: st.DrawFn, event: Event) -> dict[str, Any]:
    obj = event_to_obj(event)
    kind = draw(st.integers(0, 12))
    keys = list(obj)
    if kind == 1:  # an unknown key, kept in extra
        obj[draw(st.sampled_from(["extra_key", "版本", "meta2"]))] = draw(
            st.one_of(ODD_VALUES, TEXTS)
        )
    elif kind == 2:  # a known key with an odd value
        obj[draw(st.sampled_from([*keys, "qty", "amount", "count", "meta", "text"]))] = draw(
            ODD_VALUES
        )
    elif kind == 3:  # a key missing
        del obj[draw(st.sampled_from(keys))]
    elif kind == 4:
        obj["ts"] = draw(BAD_TS)
    elif kind == 5:
        obj["meta"] = draw(
            st.sampled_from(
                [
                    {"coupon": "c1", "n": [1, {"deep": None}], "f": 1.5},
                    {"big": 2**70},
                    {"huge": 1e300, "tiny": 1e-300},
                    {},
                    {"版本": "1.2.3", "info": "x"},
                ]
            )
        )
    elif kind == 6:
        obj["text"] = draw(TEXTS)
    elif kind == 7:
        obj["type"] = draw(st.sampled_from(["visit", "Enter", ""]))
    elif kind == 8:
        obj["source"] = draw(st.sampled_from(["tv", "feed", ""]))
    elif kind == 9:
        obj["device"] = draw(TEXTS)
    return obj


@st.composite
def jsonl_lines(draw: st.DrawFn) -> list[bytes]:
    """Lines of a file: most are events (some odd), some are broken in raw ways."""
    log = draw(event_logs(max_events=12))
    lines: list[bytes] = []
    for event in log:
        obj = draw(mutated_obj(event))
        text = json.dumps(
            obj,
            ensure_ascii=draw(st.booleans()),
            separators=draw(st.sampled_from([(", ", ": "), (",", ":"), (" ,", " : ")])),
            allow_nan=True,
        )
        raw = draw(st.integers(0, 14))
        if raw == 1 and text.endswith("}"):
            text = text[:-1] + draw(st.sampled_from([",}", ", }", ',"x":[1,],}']))
        elif raw == 2:
            text = text[:-1] + ', "id": "again"}'  # a repeated key
        elif raw == 3:
            text = (
                text[:-1] + ', "qty": ' + draw(st.sampled_from(["NaN", "Infinity", "-inf"])) + "}"
            )
        elif raw == 4:
            text = draw(st.sampled_from(["", "   ", "\t\r", "\x0b", "[1]", '"x"', "null", "{"]))
        elif raw == 5:
            text = "\ufeff" + text
        elif raw == 6:
            text = "  " + text + " \r"
        elif raw == 7:
            text = text.replace('"id"', '"\\u0069d"', 1)
        elif raw == 8:
            text = text[:-1] + ', "text": "\\ud800"}'  # an unpaired surrogate escape
        elif raw == 9:
            text = text[:-1] + ', "text": "\\u003a\\ud83d\\ude00"}'
        elif raw == 11:
            text = (
                text[:-1]
                + ', "meta": {"x": '
                + draw(st.sampled_from(["1e400", "-1E999", "1e-400"]))
                + "}}"
            )
        line = text.encode("utf-8")
        if raw == 10:
            line = line[:5] + b"\xff" + line[5:]
        lines.append(line)
    return lines


@settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(jsonl_lines(), st.sampled_from([1 << 20, 1 << 20, 400]), st.booleans(), st.booleans())
def test_fast_import_stores_and_rejects_exactly_what_the_parser_does(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[bytes],
    chunk_bytes: int,
    bom: bool,
    trailing_newline: bool,
) -> None:
    path = tmp_path_factory.mktemp("lines") / "events.jsonl"
    data = b"\n".join(lines) + (b"\n" if trailing_newline else b"")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    expected_rows, expected = generic_import(path)
    rows, summary = fast_import(path, chunk_bytes)
    assert rows == expected_rows
    same_summary(summary, expected)
    # and what the parser alone says about the file, apart from what the store refuses
    parsed = ParseSummary()
    kept = list(parse_lines(path.read_bytes().splitlines(keepends=True), parsed))
    assert summary.lines == parsed.lines and summary.blank == parsed.blank
    assert summary.kept <= len(kept)


# --- specific behaviours ---------------------------------------------------------------


def test_rejects_carry_their_line_numbers_across_chunks(tmp_path: Path) -> None:
    good = json.dumps(event_to_obj(start(0))).encode()
    lines = [
        good,  # 1
        b"",  # 2: blank, neither kept nor rejected
        b'{"id": "x", "ts": "2026-11-27T12:00:00.000Z"}',  # 3: no session
        b'{"id": "y\xff"}',  # 4: not UTF-8
        json.dumps(event_to_obj(enter(1, "u1"))).replace("}", ', "amount": 1.5}').encode(),  # 5
        json.dumps(event_to_obj(end(60))).encode(),  # 6
    ]
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with DuckDBWarehouse(None) as warehouse:
        summary = import_file(warehouse, path, chunk_bytes=40)  # several chunks
        assert (summary.lines, summary.kept, summary.rejected, summary.blank) == (6, 2, 3, 1)
        assert [r.line for r in summary.rejects] == [3, 4, 5]
        assert "missing required key 'session'" in summary.rejects[0].reason
        assert "not valid UTF-8" in summary.rejects[1].reason
        assert "amount must be an integer" in summary.rejects[2].reason
        assert warehouse.count() == 2


def test_lines_the_store_cannot_hold_are_rejected_with_a_reason(tmp_path: Path) -> None:
    base = event_to_obj(ev(1, "like", user="u1"))
    lines = [
        json.dumps(base | {"count": 2**63}),
        json.dumps(base | {"id": "b"})[:-1] + ', "text": "\\ud800"}',
        json.dumps(base | {"id": "c"})[:-1] + ', "meta": {"x": 1e400}}',  # inf in Python
        json.dumps(base | {"id": "d", "count": 2**63 - 1}),
    ]
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(lines))
    with DuckDBWarehouse(None) as warehouse:
        summary = import_file(warehouse, path)
        reasons = [r.reason for r in summary.rejects]
    assert [r.line for r in summary.rejects] == [1, 2, 3]
    assert "too large to store" in reasons[0]
    assert "unpaired surrogate" in reasons[1]
    assert "meta cannot be stored" in reasons[2]
    assert summary.kept == 1


def test_import_is_idempotent_and_first_delivery_wins(tmp_path: Path) -> None:
    first = write_jsonl(
        tmp_path / "a.jsonl",
        [start(0, eid="1"), enter(5, "u1", eid="2"), ev(6, "like", eid="3", user="u1")],
    )
    second = write_jsonl(
        tmp_path / "b.jsonl",
        [
            ev(7, "like", eid="3", user="u2", count=9),  # id 3 again, other figures: dropped
            ev(8, "like", eid="4", user="u2"),
            ev(8, "like", eid="4", user="u3"),  # repeated within the file
            end(60, eid="5"),
        ],
    )
    with DuckDBWarehouse(tmp_path / "w.duckdb") as warehouse:
        s1 = import_file(warehouse, first)
        assert (s1.kept, s1.duplicates) == (3, 0)
        again = import_file(warehouse, first)
        assert (again.kept, again.duplicates, again.rejected) == (0, 3, 0)
        s2 = import_file(warehouse, second)
        assert (s2.kept, s2.duplicates) == (2, 2)
        assert warehouse.count() == 5
        likes = [e for e in session_events(warehouse, "s") if e.type == "like"]
        assert [(e.id, e.user, e.count) for e in likes] == [("3", "u1", None), ("4", "u2", None)]
    # stored for good: a new process (here a new handle) sees the same
    with DuckDBWarehouse(tmp_path / "w.duckdb") as warehouse:
        assert warehouse.count() == 5
        assert import_file(warehouse, second).kept == 0


def test_export_gives_back_every_event_by_time_with_unknown_keys(tmp_path: Path) -> None:
    events = [
        end(60),
        start(0, meta={"client": "ios 3.1", "nested": [1, {"a": None}]}),
        ev(10, "comment", user="u1", text='好 "x"\n', device="d1", ip="10.0.0.1"),
        enter(5, "u1"),
    ]
    path = tmp_path / "in.jsonl"
    text = "".join(json.dumps(event_to_obj(e), ensure_ascii=False) + "\n" for e in events)
    text = text.replace('"type": "comment"', '"type": "comment", "版本": null, "x": [1]')
    path.write_text(text, encoding="utf-8")
    with DuckDBWarehouse(None) as warehouse:
        import_file(warehouse, path)
        buffer = io.StringIO()
        assert export_jsonl(warehouse, "s", buffer) == 4
    back = list(parse_lines(buffer.getvalue().splitlines()))
    original, _ = load_events(path)
    assert back == sorted(original, key=lambda e: e.ts_ms)
    comment = next(e for e in back if e.type == "comment")
    assert comment.extra == {"版本": None, "x": [1]}
    assert '"版本": null' in buffer.getvalue()  # unknown keys written back, null included


def test_parquet_export_has_the_contract_columns(tmp_path: Path) -> None:
    with DuckDBWarehouse(None) as warehouse:
        warehouse.append([event_row(e) for e in (start(0), enter(5, "u1"), end(60))])
        assert warehouse.export_parquet("s", tmp_path / "s.parquet") == 3
    rows = duckdb.sql(f"SELECT id, ts, type, \"user\" FROM '{tmp_path / 's.parquet'}'").fetchall()
    assert [r[1:] for r in rows] == [
        ("2026-11-27T12:00:00.000Z", "live_start", None),
        ("2026-11-27T12:00:05.000Z", "enter", "u1"),
        ("2026-11-27T12:01:00.000Z", "live_end", None),
    ]


# --- reports of files -------------------------------------------------------------------


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(event_logs(), st.booleans())
def test_a_file_reports_like_the_oracle_reads_it(
    tmp_path_factory: pytest.TempPathFactory, log: list[Event], ensure_ascii: bool
) -> None:
    path = write_jsonl(tmp_path_factory.mktemp("log") / "e.jsonl", log, ensure_ascii=ensure_ascii)
    got, summary = engine.report_file(path)
    events, parsed = load_events(path)
    assert (summary.kept + summary.duplicates, summary.rejected) == (len(log), 0)
    assert summary.duplicates == parsed.duplicates
    assert got == reference.report(events)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"shared samples folder {SAMPLES} is absent")
def test_samples_report_like_the_oracle_from_the_file_and_from_the_store(tmp_path: Path) -> None:
    for path in sorted(SAMPLES.glob("*.events.jsonl")):
        events, parsed = load_events(path)
        assert parsed.rejected == 0
        expected = reference.report(events)
        got, summary = engine.report_file(path)
        assert (summary.rejected, summary.kept) == (0, parsed.kept)
        assert got == expected
        with DuckDBWarehouse(tmp_path / f"{path.stem}.duckdb") as warehouse:
            import_file(warehouse, path)
            assert engine.report(warehouse) == expected


@pytest.mark.skipif(not EXAMPLE.is_file(), reason=f"{EXAMPLE} is absent")
def test_generic_and_duckdb_imports_agree_on_the_worked_example() -> None:
    expected_rows, expected = generic_import(EXAMPLE)
    rows, summary = fast_import(EXAMPLE, 1 << 20)
    assert rows == expected_rows
    same_summary(summary, expected)


# --- the plain-line path: a regular expression and typed values -------------------------------


def plain_rows(lines: list[str]) -> dict[int, tuple[Any, ...]]:
    """What the plain-line statement alone accepts: line number -> stored row."""
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE _lines (line BIGINT, text VARCHAR)")
    con.execute(f"CREATE TEMP TABLE _accepted (line BIGINT, {_STAGE_COLUMNS})")
    con.executemany("INSERT INTO _lines VALUES (?, ?)", list(enumerate(lines, start=1)))
    con.execute("SET disabled_optimizers = 'filter_pushdown'")
    con.execute("INSERT INTO _accepted " + PLAIN_SQL)
    return {row[0]: tuple(row[1:]) for row in con.execute("SELECT * FROM _accepted").fetchall()}


PLAIN_KEYS = ["id", "ts", "session", "type", "user", "source", "product", "order", "qty",
              "amount", "text", "count", "device", "ip"]  # fmt: skip
PLAIN_ODD_VALUES = st.sampled_from(
    ["", ":", '":', "a\x01b", "tab\there", "\x7f", "é", "😀", "9" * 18, "-0", "007"]
)
RAW_NUMBERS = st.sampled_from(
    ["0", "-0", "1", "-1", "007", "1.0", "1e2", "9" * 18, "9" * 19, "-" + "9" * 18, "true"]
)


@st.composite
def plain_lines(draw: st.DrawFn) -> str:
    """A line near the plain shape: an event written without escapes, then changed a little
    in the ways the plain path must get right (or leave to the others)."""
    log = draw(event_logs(max_events=3))
    obj = event_to_obj(log[0])
    obj.pop("meta", None)
    pairs = [(k, json.dumps(v, ensure_ascii=False)) for k, v in obj.items()]
    kind = draw(st.integers(0, 10))
    if kind == 1:  # a duplicate key, with the same or another value
        key, value = draw(st.sampled_from(pairs))
        pairs.append((key, draw(st.sampled_from([value, '"other"', "2"]))))
    elif kind == 2:  # a string with what JSON forbids or what a pattern might trip on
        pairs.append((draw(st.sampled_from(["text", "device", "user"])), ""))
        key = pairs[-1][0]
        pairs[-1] = (key, '"' + draw(PLAIN_ODD_VALUES) + '"')
    elif kind == 3:  # a number written some way
        pairs.append((draw(st.sampled_from(["qty", "amount", "count", "user"])), draw(RAW_NUMBERS)))
    elif kind == 4:  # a key dropped
        del pairs[draw(st.integers(0, len(pairs) - 1))]
    elif kind == 5:  # a timestamp that is not a real instant, or not the shape
        ts = draw(BAD_TS)
        pairs = [(k, f'"{ts}"' if k == "ts" else v) for k, v in pairs]
    elif kind == 6:  # keys shuffled
        pairs = draw(st.permutations(pairs))
    elif kind == 7:  # a string where an integer goes and the reverse
        pairs.append(draw(st.sampled_from([("qty", '"2"'), ("session", "5"), ("id", "null")])))
    elif kind == 8:  # an unknown type or source
        pairs.append(draw(st.sampled_from([("type", '"visit"'), ("source", '"tv"')])))
    sep = draw(st.sampled_from([", ", ",", " ,\t", ",\r "]))
    colon = draw(st.sampled_from([": ", ":", ":\t", " : "]))
    text = "{" + sep.join(f'"{k}"{colon}{v}' for k, v in pairs) + "}"
    return draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " ", "\r"]))


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(plain_lines(), min_size=1, max_size=8))
def test_plain_lines_are_accepted_only_as_the_parser_reads_them(lines: list[str]) -> None:
    accepted = plain_rows(lines)
    for number, line in enumerate(lines, start=1):
        try:
            event = parse_line(line + "\n")
        except InvalidEvent:
            assert number not in accepted, line
            continue
        if number in accepted:
            assert accepted[number] == event_row(event), line
        else:  # only what the pattern leaves to the others: whitespace before a colon,
            # an escape or control character, a long or odd number, a repeated key
            assert (
                " :" in line
                or "\\" in line
                or any(c < " " and c not in " \t\r" for c in line)
                or any(len(d) > 18 for d in re.findall(r"[0-9]+", line))
                or len(json.loads(line)) != len(re.findall(r'"[a-z]+"\s*:', line))
                or re.search(r'"(?:qty|amount|count|ts)"\s*:\s*"', line) is not None
                or "0000-" in line
            ), line


def test_plain_lines_of_every_type_take_the_plain_path() -> None:
    lines = [
        json.dumps(event_to_obj(e), ensure_ascii=False, separators=sep)
        for sep in ((", ", ": "), (",", ":"))
        for e in (
            start(0, eid="a"),
            impression(1, "u1", device="d", ip="1.2.3.4"),
            enter(2, "u1", source="ads"),
            ev(3, "comment", user="u1", text="好 : , } ] 'x'"),
            ev(4, "like", user="u1", count=9_223_372_036_854),
            created(5, "u1", "o1", qty=2, amount=0),
            ev(6, "order_refunded", user="u1", order="o1", amount=500),
            end(60),
        )
    ]
    accepted = plain_rows(lines)
    assert accepted == {n: event_row(parse_line(line)) for n, line in enumerate(lines, start=1)}


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.tuples(
        st.integers(0, 9999),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 999),
    )
)
def test_the_plain_path_reads_timestamps_as_the_parser_does(parts: tuple[int, ...]) -> None:
    y, mo, d, h, mi, s, ms = parts
    ts = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}Z"
    line = json.dumps({"id": "x", "ts": ts, "session": "s", "type": "live_start"})
    try:
        expected: int | None = parse_line(line).ts_ms
    except InvalidEvent:
        expected = None
    got = plain_rows([line]).get(1)
    assert (None if got is None else got[1]) == expected
