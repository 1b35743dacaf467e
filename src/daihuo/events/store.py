"""Events in and out of the warehouse: import a JSON Lines file, export a session.

The parser (:mod:`daihuo.events.parse`) is the authority on what a line means. Running
it on every line costs about 10 µs of Python per event, which caps an import near
80,000 events/s, so the DuckDB importer splits the work:

1. The file is cut into chunks of whole lines (32 MB); once Python's strict UTF-8
   decoder has accepted a chunk, DuckDB reads it as numbered lines (a view of the chunk
   file) and accepts, in one vectorised statement, the *plain* lines: those matching one
   regular expression that follows JSON's grammar for flat objects of known keys,
   typed per key (strings without escapes or control characters where strings go,
   integers of at most 18 digits where integers go, no ``null``, no ``meta``), whose
   values DuckDB's typed ``from_json`` then reads exactly as Python's ``json`` does;
   SQL checks the rest: each key once, the required keys of the ``type``, non-empty
   identifiers, the sources, the integer minimums, a real ``ts``. Nearly every line a
   producer writes is plain (:data:`PLAIN_SQL`).
2. The lines left go through a general filter that accepts the canonical shape with
   ``meta``, escapes and long integers too: each key's raw JSON text, then its value
   (:data:`ACCEPT_SQL`). Both filters are generated from the parser's own tables
   (:data:`~daihuo.events.model.REQUIRED_KEYS`, :data:`~daihuo.events.model.SOURCES`,
   the integer minimums).
3. Every other line — blank, malformed, or merely unusual (unknown keys, ``null``
   values, escapes DuckDB's JSON reader treats differently, trailing commas or ``NaN``
   that DuckDB would let through) — goes to :func:`~daihuo.events.parse.parse_line`,
   which accepts it or gives the reason with its line number.

So SQL only ever *accepts* lines, and only lines the parser accepts with the same
values; everything it is unsure of is decided by the parser. A property test loads
random files (valid and broken lines) both ways and requires the same stored rows and
the same summary; another holds the plain filter alone to the parser's values, line by
line, on lines built to trip it (repeated keys, raw control characters, long or odd
numbers, impossible timestamps). The generic path (any
:class:`~daihuo.core.warehouse.Warehouse`) runs the parser on every line.

Beyond the parser, a line is rejected when the store cannot hold it faithfully: an
integer beyond 64 bits, a string with an unpaired surrogate escape (``"\\ud800"``),
or ``meta`` holding a number JSON cannot write back (``1e400``).

In DuckDB a whole file is staged and then stored by one statement: a crash during an
import stores nothing of it. The generic path (ClickHouse) appends batches of
:data:`BATCH_ROWS`, each whole or not at all, so a crash keeps the batches before it.
Either way running it again is always safe — re-importing adds nothing, since repeated
ids are dropped (the first wins, in file order, and ids already stored count as
duplicates).
"""

# SQL here is built from this module's constant identifiers; values are bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Final

from daihuo.core.warehouse import COLUMNS, Warehouse
from daihuo.core.warehouse.duckdb import DuckDBWarehouse, append_rows, quoted
from daihuo.events.model import (
    _IDENT_KEYS,
    _INT_MINIMUM,
    _TEXT_KEYS,
    REQUIRED_KEYS,
    SOURCES,
    Event,
    InvalidEvent,
    event_to_obj,
    format_ts,
)
from daihuo.events.parse import ParseSummary, parse_file, parse_line

CHUNK_BYTES: Final = 32 * 1024 * 1024
BATCH_ROWS: Final = 100_000
INT64_MAX: Final = 2**63 - 1
Progress = Callable[[int], None]  # called with the bytes consumed since the last call

# --- rows <-> events ---------------------------------------------------------------------


def _json_text(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def storage_problem(event: Event) -> str | None:
    """Why the store cannot hold ``event`` faithfully, or ``None`` (see module docs)."""
    for key in ("qty", "amount", "count"):
        value = getattr(event, key)
        if value is not None and value > INT64_MAX:
            return f"{key} is too large to store (more than 64 bits): {value}"
    for key in ("meta", "extra"):
        value = getattr(event, key)
        if value is not None:
            try:
                _json_text(value).encode("utf-8")  # type: ignore[union-attr]
            except ValueError as exc:  # NaN/inf from an overflowing number, or a surrogate
                name = "meta" if key == "meta" else "an unknown key"
                return f"{name} cannot be stored: {str(exc).splitlines()[0]}"
    for key in ("id", "session", "user", "source", "product", "order", "text", "device", "ip"):
        value = getattr(event, key)
        if value is not None and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"{key} holds an unpaired surrogate escape (\\ud800-\\udfff)"
    return None


def event_row(event: Event) -> tuple[Any, ...]:
    """The warehouse row of an event (:data:`~daihuo.core.warehouse.COLUMNS` order)."""
    return (
        event.id,
        event.ts_ms,
        event.session,
        event.type,
        event.user,
        event.source,
        event.product,
        event.order,
        event.qty,
        event.amount,
        event.text,
        event.count,
        event.device,
        event.ip,
        _json_text(event.meta),
        _json_text(event.extra),
    )


def row_event(row: Sequence[Any]) -> Event:
    """The event of a warehouse row (the inverse of :func:`event_row`)."""
    (eid, ts_ms, session, etype, user, source, product, order, qty, amount, text, count,
     device, ip, meta, extra) = row  # fmt: skip
    return Event(
        eid,
        format_ts(ts_ms),
        ts_ms,
        session,
        etype,
        user,
        source,
        product,
        order,
        qty,
        amount,
        text,
        count,
        device,
        ip,
        None if meta is None else json.loads(meta),
        None if extra is None else json.loads(extra),
    )


# --- the canonical-line filter in SQL ------------------------------------------------------

_KEYS: Final = (*(k for k in COLUMNS if k not in ("ts_ms", "extra")), "ts")
_TS_RE: Final = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"
# DuckDB's JSON reader accepts trailing commas, which Python's json rejects: such lines
# (or any text that looks like one, inside a string too) go to the parser.
_TRAILING_COMMA_RE: Final = r",[ \t\r\n]*[}\]]"
# In meta, which is kept as JSON text: NaN/Infinity in any spelling (DuckDB reads them,
# Python's parser rejects them), long digit runs (DuckDB keeps integers to 64 bits) and
# three-digit exponents (a double may overflow to inf, which the store refuses).
_META_SUSPECT_RE: Final = r"(?i)nan|inf|[0-9]{16}|e[+-]?[0-9]{3}"
_BLANK_CHARS: Final = " \t\n\r\x0b\x0c"  # what bytes.strip() removes, as parse_lines uses


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _int(expr: str) -> str:
    return f"TRY_CAST({expr} AS BIGINT)"


# In the query a key's raw JSON text is the column named after it (``"user"``), its value
# the column ``"v_user"``.
def _raw(key: str) -> str:
    return quoted(key)


def _value(key: str) -> str:
    return quoted(f"v_{key}")


def _derive(key: str) -> str:
    raw = _raw(key)
    if key in _INT_MINIMUM:
        return _int(raw)
    # DuckDB writes a JSON string back with the fewest escapes, so one without a
    # backslash is its value between the quotes; the others are unescaped by DuckDB.
    return (
        f"CASE WHEN contains({raw}, '\\') THEN json_extract_string({raw}, '$') ELSE {raw}[2:-2] END"
    )


def _key_check(key: str) -> str:
    raw, value = _raw(key), _value(key)
    if key in _IDENT_KEYS or key in ("id", "session", "type", "ts"):
        check = f"starts_with({raw}, '\"') AND {value} <> ''"
        if key == "source":
            check += f" AND {value} IN ({', '.join(_literal(s) for s in SOURCES)})"
        return check
    if key in _TEXT_KEYS:
        return f"starts_with({raw}, '\"')"
    if key in _INT_MINIMUM:
        # the integer written back is the text itself: no fraction, exponent or overflow
        return f"CAST({value} AS VARCHAR) = {raw} AND {value} >= {_INT_MINIMUM[key]}"
    if key == "meta":
        return (
            f"starts_with({raw}, '{{') AND NOT regexp_matches({raw}, {_literal(_META_SUSPECT_RE)})"
        )
    raise AssertionError(f"no check for key {key}")  # pragma: no cover


def _mask(keys: Iterable[str]) -> int:
    return sum(1 << _KEYS.index(k) for k in keys)


def _canonical_condition() -> str:
    base = ("id", "ts", "session", "type")
    parts = [_key_check(k) for k in base]
    parts += [f"({_raw(k)} IS NULL OR ({_key_check(k)}))" for k in _KEYS if k not in base]
    # the keys its type requires are present (an unknown type requires the impossible)
    required = " ".join(
        f"WHEN {_literal(etype)} THEN {_mask(keys)}" for etype, keys in REQUIRED_KEYS.items()
    )
    parts.append(
        f"present & (CASE v_type {required} ELSE -1 END) = (CASE v_type {required} ELSE -1 END)"
    )
    # the timestamp has the one shape and is a real instant
    parts.append(f"regexp_full_match(v_ts, '{_TS_RE}')")
    parts.append("ts_date IS NOT NULL AND year(ts_date) >= 1")
    parts.append(
        f"{_int('v_ts[12:13]')} <= 23 AND {_int('v_ts[15:16]')} <= 59"
        f" AND {_int('v_ts[18:19]')} <= 59"
    )
    # every key is known and appears once: as many keys as known keys found
    parts.append("nkeys = bit_count(present)")
    return "\n      AND ".join(parts)


def _accept_sql() -> str:
    raw_struct = _literal(json.dumps({k: "JSON" for k in _KEYS}))
    derived = ", ".join(f"{_derive(k)} AS {_value(k)}" for k in _KEYS if k != "meta")
    present = " | ".join(f"(({_raw(k)} IS NOT NULL)::BIGINT << {i})" for i, k in enumerate(_KEYS))
    date = ", ".join(_int(f"v_ts[{a}:{b}]") for a, b in ((1, 4), (6, 7), (9, 10)))
    values = []
    for column in COLUMNS:
        if column == "ts_ms":
            values.append(
                "(ts_date - DATE '1970-01-01') * 86400000"
                f" + {_int('v_ts[12:13]')} * 3600000 + {_int('v_ts[15:16]')} * 60000"
                f" + {_int('v_ts[18:19]')} * 1000 + {_int('v_ts[21:23]')}"
            )
        elif column == "meta":
            values.append("CAST(meta AS VARCHAR)")
        elif column == "extra":
            values.append("NULL")
        else:
            values.append(_value(column))
    # try(): JSON functions raise on malformed text; such lines come out NULL here and
    # go to the parser. Each step is a subquery so every expression is computed once
    # (run with filter pushdown off, which would copy them into the filters).
    return f"""
    SELECT line, {", ".join(values)}
    FROM (
        SELECT *, try(make_date({date})) AS ts_date
        FROM (
            SELECT *, {present} AS present, {derived}
            FROM (
                SELECT line, nkeys, unnest(r)
                FROM (
                    SELECT line, try(from_json(text, {raw_struct})) AS r,
                           try(len(json_keys(text))) AS nkeys
                    FROM _rest
                    WHERE NOT regexp_matches(text, {_literal(_TRAILING_COMMA_RE)})
                )
                WHERE r IS NOT NULL
            )
        )
    )
    WHERE {_canonical_condition()}
    """


ACCEPT_SQL: Final = _accept_sql()


# --- plain lines: one regular expression, then typed values ------------------------------
#
# Nearly every line a producer writes is "plain": a flat object of known keys whose string
# values have no escape and no control character, whose integers are at most 18 digits,
# with no ``null`` and no ``meta``. Whether a line is plain is one pass of a regular
# expression that follows JSON's grammar for exactly that subset, typed per key (a key of
# ``qty`` must hold an integer, a key of ``user`` a string), so the line is valid JSON
# with the right JSON type under every key, and DuckDB's typed ``from_json`` reads back the
# parser's values byte for byte. What is left to check is what a grammar cannot say: each
# key once, the required keys of the type, non-empty identifiers, the sources, the integer
# minimums and a real date. Lines that are not plain go to the general filter above, and
# what it does not accept to the parser.

_JSON_WS: Final = r"[ \t\r]*"  # JSON whitespace; a line holds no newline
_PLAIN_STRING: Final = r'"[^"\\\x00-\x1f]*"'  # no escape, no control character
_PLAIN_INT: Final = r"-?(?:0|[1-9][0-9]{0,17})"  # fits in 64 bits whatever its digits


def _plain_re() -> str:
    strings = sorted(k for k in _KEYS if k not in _INT_MINIMUM and k not in ("meta", "ts"))
    ints = sorted(_INT_MINIMUM)
    pair = (
        f'"(?:{"|".join(strings)})":{_JSON_WS}{_PLAIN_STRING}'
        f'|"ts":{_JSON_WS}"{_TS_RE}"'
        f'|"(?:{"|".join(ints)})":{_JSON_WS}{_PLAIN_INT}'
    )
    w = _JSON_WS
    return f"{w}\\{{{w}(?:(?:{pair}){w},{w})*(?:{pair}){w}\\}}{w}"


PLAIN_RE: Final = _plain_re()
_PLAIN_KEYS: Final = tuple(k for k in _KEYS if k != "meta")


def _plain_sql(table: str) -> str:
    struct = _literal(
        json.dumps({k: "BIGINT" if k in _INT_MINIMUM else "VARCHAR" for k in _PLAIN_KEYS})
    )
    present = " | ".join(
        f"(({quoted(k)} IS NOT NULL)::BIGINT << {_KEYS.index(k)})" for k in _PLAIN_KEYS
    )
    checks = ["id <> ''", "session <> ''", "type <> ''"]
    checks += [f"({quoted(k)} IS NULL OR {quoted(k)} <> '')" for k in sorted(_IDENT_KEYS)]
    checks.append(f"(source IS NULL OR source IN ({', '.join(_literal(s) for s in SOURCES)}))")
    checks += [
        f"({quoted(k)} IS NULL OR {quoted(k)} >= {minimum})"
        for k, minimum in sorted(_INT_MINIMUM.items())
    ]
    required = " ".join(
        f"WHEN {_literal(etype)} THEN {_mask(keys)}" for etype, keys in REQUIRED_KEYS.items()
    )
    checks.append(
        f"present & (CASE type {required} ELSE -1 END) = (CASE type {required} ELSE -1 END)"
    )
    checks.append("nkeys = bit_count(present)")
    # the regular expression fixed the shape; strptime refuses what is not a real instant
    # (month 13, 30 February, hour 24, second 60) except the year 0000
    checks.append("ts_ms IS NOT NULL AND NOT starts_with(ts, '0000')")
    values = ", ".join(
        f"NULL::VARCHAR AS {quoted(c)}" if c in ("meta", "extra") else quoted(c) for c in COLUMNS
    )
    # Each step is a subquery so every expression is computed once (run with filter
    # pushdown off, as the general filter is).
    return f"""
    SELECT line, {values}
    FROM (
        SELECT *, {present} AS present,
               epoch_ms(try_strptime(ts, '%Y-%m-%dT%H:%M:%S.%gZ')) AS ts_ms
        FROM (
            SELECT line, nkeys, unnest(v)
            FROM (
                SELECT line, len(json_keys(text)) AS nkeys, from_json(text, {struct}) AS v
                FROM {table}
                WHERE regexp_full_match(text, {_literal(PLAIN_RE)})
            )
        )
    )
    WHERE {" AND ".join(checks)}
    """


PLAIN_SQL: Final = _plain_sql("_lines")
_STAGE_COLUMNS: Final = ", ".join(
    f"{quoted(c)} {'BIGINT' if c in ('ts_ms', 'qty', 'amount', 'count') else 'VARCHAR'}"
    for c in COLUMNS
)


# --- import ------------------------------------------------------------------------------------


def _chunks(handle: IO[bytes], size: int) -> Iterator[tuple[bytes, bool]]:
    """Pieces of whole lines without their last newline, and whether that newline was there
    (only the file's last line can lack one)."""
    carry = b""
    while block := handle.read(size):
        data = carry + block if carry else block
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        carry = data[cut + 1 :]
        yield data[:cut], True
    if carry:
        yield carry, False


def _is_blank(text: str | bytes) -> bool:
    if isinstance(text, bytes):
        return not text.strip()
    return not text.strip(_BLANK_CHARS)


class _Staging:
    """Temp tables of one import on the warehouse's write connection, and a scratch
    directory where each chunk is written for DuckDB's ``read_text`` (``_lines`` is a
    view of that file: read where it lies, never copied into a table)."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.scratch = Path(tempfile.mkdtemp(prefix="daihuo-import-"))
        self.piece = self.scratch / "chunk.jsonl"
        con.execute("CREATE OR REPLACE TEMP TABLE _rest (line BIGINT, text VARCHAR)").fetchall()
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _accepted (line BIGINT, {_STAGE_COLUMNS})"
        ).fetchall()

    def load(self, chunk: bytes, first: int) -> None:
        """Make ``_lines`` the lines of ``chunk``, numbered from ``first``."""
        self.piece.write_bytes(chunk)
        self.con.execute(
            "CREATE OR REPLACE TEMP VIEW _lines AS"
            f" SELECT {int(first) - 1} + generate_subscripts(l, 1) AS line,"
            " unnest(l) AS text FROM (SELECT string_split(content, chr(10)) AS l"
            f" FROM read_text({_literal(str(self.piece))}))"
        ).fetchall()

    def accept(self, select: str) -> int:
        """Stage the rows of ``select`` (``line`` and the columns); how many there were."""
        inserted: int = self.con.execute(f"INSERT INTO _accepted {select}").fetchall()[0][0]
        return inserted

    def drop(self) -> None:
        self.con.execute("DROP VIEW IF EXISTS _lines").fetchall()
        for table in ("_rest", "_accepted"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}").fetchall()
        shutil.rmtree(self.scratch, ignore_errors=True)


def _import_duckdb(
    warehouse: DuckDBWarehouse,
    path: str | os.PathLike[str],
    summary: ParseSummary,
    progress: Progress | None,
    chunk_bytes: int,
) -> None:
    with warehouse.writer() as con:
        # The filters' steps are subqueries so that every expression is computed once;
        # filter pushdown would copy them into the filters.
        con.execute("SET disabled_optimizers = 'filter_pushdown'").fetchall()
        stage = _Staging(con)
        try:
            accepted = 0
            first_line = 1
            with open(path, "rb") as handle:
                for number, (chunk, newline) in enumerate(_chunks(handle, chunk_bytes)):
                    consumed = len(chunk) + newline
                    if number == 0 and chunk.startswith(b"\xef\xbb\xbf"):
                        chunk = chunk[3:]
                    count = chunk.count(b"\n") + 1
                    last = first_line + count - 1 if not newline else None
                    accepted += _load_chunk(stage, chunk, first_line, count, last, summary)
                    first_line += count
                    summary.lines += count
                    if progress is not None:
                        progress(consumed)
            result = warehouse.append_staged(con, "_accepted", "line")
            summary.kept = result.kept
            summary.duplicates = accepted - result.kept
        finally:
            stage.drop()
            con.execute("RESET disabled_optimizers").fetchall()


def _load_chunk(
    stage: _Staging,
    chunk: bytes,
    first: int,
    count: int,
    unterminated: int | None,
    summary: ParseSummary,
) -> int:
    """Stage one chunk of ``count`` lines from line ``first`` (``unterminated`` is the
    number of a last line without newline); returns the number of lines accepted."""
    con = stage.con
    undecodable: dict[int, bytes] = {}
    try:
        chunk.decode("utf-8")  # Python's strict decoder, as the parser uses
    except UnicodeDecodeError:
        # SQL reads such a line as blank (which no filter accepts); it is decided below
        lines = chunk.split(b"\n")
        for offset, raw in enumerate(lines):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                undecodable[first + offset] = raw
                lines[offset] = b""
        chunk = b"\n".join(lines)
    # DuckDB reads and splits the chunk from a file faster than from a parameter
    stage.load(chunk, first)
    accepted = stage.accept(PLAIN_SQL)
    rest: list[tuple[int, str | bytes]] = []
    if accepted < count:
        # the other lines: the general filter, then the parser
        staged = f"(SELECT line FROM _accepted WHERE line >= {int(first)})"
        con.execute(
            f"INSERT INTO _rest SELECT line, text FROM _lines WHERE line NOT IN {staged}"
        ).fetchall()
        accepted += stage.accept(ACCEPT_SQL)
        rest = con.execute(f"SELECT line, text FROM _rest WHERE line NOT IN {staged}").fetchall()
        con.execute("DELETE FROM _rest").fetchall()
    if undecodable:
        rest = [(n, undecodable.get(n, text)) for n, text in rest]
    rest.sort()
    return accepted + _decide(stage, rest, unterminated, summary)


def _decide(
    stage: _Staging,
    lines: Iterable[tuple[int, str | bytes]],
    unterminated: int | None,
    summary: ParseSummary,
) -> int:
    """The parser's verdict on the lines SQL did not accept, each given to it as
    :func:`~daihuo.events.parse.parse_file` would: with its newline, since JSON error
    columns count from it. Returns the number of lines it accepted."""
    rows = []
    for number, text in lines:
        if _is_blank(text):
            summary.blank += 1
            continue
        if number != unterminated:
            text = text + b"\n" if isinstance(text, bytes) else text + "\n"
        try:
            event = parse_line(text)
        except InvalidEvent as exc:
            summary.reject(number, str(exc))
            continue
        problem = storage_problem(event)
        if problem is not None:
            summary.reject(number, problem)
            continue
        rows.append((number, *event_row(event)))
    if rows:
        append_rows(stage.con, "_accepted", rows)
    return len(rows)


def _import_generic(
    warehouse: Warehouse,
    path: str | os.PathLike[str],
    summary: ParseSummary,
    progress: Progress | None,
) -> None:
    parsed = ParseSummary(max_rejects=summary.max_rejects)
    accepted = 0
    batch: list[tuple[Any, ...]] = []
    kept = 0
    for event in parse_file(path, parsed, dedupe=False):
        problem = storage_problem(event)
        if problem is not None:
            parsed.kept -= 1
            parsed.reject(parsed.lines, problem)
            continue
        batch.append(event_row(event))
        accepted += 1
        if len(batch) >= BATCH_ROWS:
            kept += warehouse.append(batch).kept
            batch = []
    if batch:
        kept += warehouse.append(batch).kept
    summary.lines, summary.blank = parsed.lines, parsed.blank
    summary.rejected, summary.rejects = parsed.rejected, parsed.rejects
    summary.kept, summary.duplicates = kept, accepted - kept
    if progress is not None:
        progress(os.path.getsize(path))


def import_file(
    warehouse: Warehouse,
    path: str | os.PathLike[str],
    *,
    max_rejects: int = 1000,
    progress: Progress | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> ParseSummary:
    """Store the accepted events of a JSON Lines file; the summary says what happened.

    ``kept`` counts events newly stored; ``duplicates`` the repeated ids, within the
    file or already stored; ``rejected`` the malformed lines (the first ``max_rejects``
    with their line numbers and reasons in ``rejects``); ``blank`` the empty lines.
    """
    summary = ParseSummary(max_rejects=max_rejects)
    if isinstance(warehouse, DuckDBWarehouse):
        _import_duckdb(warehouse, path, summary, progress, chunk_bytes)
    else:
        _import_generic(warehouse, path, summary, progress)
    return summary


# --- export -----------------------------------------------------------------------------------


def session_events(warehouse: Warehouse, session: str) -> Iterator[Event]:
    """A stored session's events, by time then arrival."""
    for batch in warehouse.rows(session):
        yield from map(row_event, batch)


def export_jsonl(warehouse: Warehouse, session: str, out: IO[str]) -> int:
    """Write a session as JSON Lines in the contract's shape; returns the number of lines."""
    written = 0
    for batch in warehouse.rows(session):
        lines = [
            json.dumps(event_to_obj(row_event(row)), ensure_ascii=False) + "\n" for row in batch
        ]
        out.writelines(lines)
        written += len(lines)
    return written
