"""The scale-out event store: ClickHouse, embedded (chDB) or a server (clickhouse-connect).

Two transports speak the same ClickHouse SQL:

* ``chdb:///path`` — chDB, ClickHouse as a library, on a local folder (``chdb:////abs``
  for an absolute path, ``chdb:///:memory:`` for a scratch store: a database of its own
  in chDB's temporary folder, dropped on close). chDB runs one embedded server per
  process, so a process can have one chDB folder open at a time (several stores on the
  same folder share it; scratch stores count as chDB's temporary folder).
* ``clickhouse://user:password@host:port/database`` — a ClickHouse server over HTTP with
  clickhouse-connect (``clickhouses://`` for HTTPS; port 8123/8443 by default).

The table is a ``MergeTree`` ordered by ``(session, ts_ms, seq)`` with the same columns as
DuckDB's. ClickHouse has no unique keys and no multi-statement transactions, so the
promises of :mod:`daihuo.core.warehouse` are kept this way:

* **Unique ids, first wins.** Every append, under this store's lock: the batch goes to a
  session-private temporary ``Memory`` table with its position; one ``INSERT … SELECT``
  moves the rows that are the first of their id in the batch *and* whose id is not stored
  yet (a bloom-filter index on ``id`` lets that look-up skip most of the table). This
  holds for every write through one process. chDB locks its folder against a second
  process, as DuckDB locks its file; a server cannot be locked that way, and two
  processes appending the same id at the same instant could both store it. Run one
  writer (the server's sink, or an import while it is stopped).
* **Arrival order.** ``seq`` is ``max(seq) + 1 +`` the row's position in the batch, read
  at each append under the lock, so it increases in append order — also across writers
  that take turns (an import after the server stopped).
* **All or nothing.** The ``INSERT … SELECT`` runs on one thread with block squashing
  raised to the whole batch, so the batch is written as one data part, which ClickHouse
  adds to the table atomically (a part is written to a temporary directory and renamed).
  Parts are fsynced (``fsync_after_insert``), as DuckDB syncs its log on commit. A batch
  that cannot be stored (a value of the wrong type, a missing required column) is
  refused whole with a :class:`~daihuo.core.warehouse.WarehouseError` before any insert.
"""

# SQL here is built from this module's constant identifiers; values go through literal().
# ruff: noqa: S608

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import unquote, urlsplit

from daihuo.core.warehouse import (
    COLUMNS,
    INTEGER_COLUMNS,
    REQUIRED_COLUMNS,
    AppendResult,
    Row,
    Warehouse,
    WarehouseError,
)

# clickhouse-connect logs its errors as well as raising them; with no handler configured
# (the CLI) Python's last resort would print them beside our one-line error. A NullHandler
# stops that and leaves them to the app's own handlers (the records still propagate).
logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())

TABLE: Final = "events"
MAX_UINT64: Final = 2**64 - 1
# One part per append: one insert thread, and squashing up to the whole batch.
ONE_PART: Final = (
    "max_threads = 1, max_insert_threads = 1, "
    f"min_insert_block_size_rows = {MAX_UINT64}, min_insert_block_size_bytes = {MAX_UINT64}, "
    f"max_insert_block_size = {MAX_UINT64}"
)
# Output every query reads: 64-bit integers as JSON numbers.
JSON_SETTINGS: Final = (
    "output_format_json_quote_64bit_integers = 0, output_format_json_quote_denormals = 0"
)


def quoted(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def literal(value: str | int | None) -> str:
    """A ClickHouse literal for a string, an integer or NULL."""
    if value is None:
        return "NULL"
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"no literal for {type(value).__name__}")
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


COLUMN_LIST: Final = ", ".join(quoted(c) for c in COLUMNS)


def _column_type(name: str) -> str:
    kind = "Int64" if name in INTEGER_COLUMNS else "String"
    return kind if name in REQUIRED_COLUMNS else f"Nullable({kind})"


def column_definitions() -> str:
    return ", ".join(f"{quoted(c)} {_column_type(c)}" for c in COLUMNS)


# --- transports -------------------------------------------------------------------------


class Transport(Protocol):
    """What the store needs of a ClickHouse connection (not thread-safe: hold the lock)."""

    def command(self, sql: str) -> None: ...

    def raw(self, sql: str, fmt: str) -> bytes: ...

    def insert_arrow(self, table: str, data: Any) -> None: ...

    def close(self) -> None: ...


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class ChdbTransport:
    """chDB: ClickHouse in this process, on a local folder.

    ``path=None`` is a scratch store: chDB's temporary folder, shared by every scratch
    store of the process, so each gets a database of its own, dropped on close.
    """

    def __init__(self, path: Path | None) -> None:
        from chdb import session

        open_session: Any = session.Session  # chDB has no type hints
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
        try:
            self._session: Any = open_session(None if path is None else str(path))
        except Exception as exc:  # chDB raises RuntimeError subclasses with the server's text
            where = "a temporary folder" if path is None else str(path)
            raise WarehouseError(
                f"cannot open chDB warehouse {where}: {_first_line(exc)}"
            ) from None
        self._scratch: str | None = None
        if path is None:
            self._scratch = f"scratch_{uuid.uuid4().hex}"
            self.command(f"CREATE DATABASE {self._scratch}")
            self.command(f"USE {self._scratch}")  # for this session's later queries

    def command(self, sql: str) -> None:
        self._session.query(sql, "Null")

    def raw(self, sql: str, fmt: str) -> bytes:
        result = self._session.query(sql, fmt)
        data: bytes = result.bytes()
        return data

    def insert_arrow(self, table: str, data: Any) -> None:
        # chDB's Python() table function finds the variable by name in this frame
        _daihuo_batch = data
        self._session.query(f"INSERT INTO {table} SELECT * FROM Python(_daihuo_batch)", "Null")

    def close(self) -> None:
        try:
            if self._scratch is not None:
                self.command(f"DROP DATABASE IF EXISTS {self._scratch} SYNC")
        finally:
            self._session.close()


class ServerTransport:
    """A ClickHouse server over HTTP(S), through clickhouse-connect."""

    def __init__(self, url: str) -> None:
        import clickhouse_connect

        parts = urlsplit(url)
        secure = parts.scheme.lower() == "clickhouses"
        database = unquote(parts.path.lstrip("/")) or "default"
        if "/" in database:
            raise WarehouseError(f"a ClickHouse URL names one database: {url!r}")
        try:
            port = parts.port
        except ValueError:
            raise WarehouseError(f"bad port in warehouse URL {_redacted(url)!r}") from None
        if not parts.hostname:
            raise WarehouseError(f"a ClickHouse URL needs a host: {_redacted(url)!r}")
        try:
            self._client = clickhouse_connect.get_client(
                host=parts.hostname,
                port=port or (8443 if secure else 8123),
                username=unquote(parts.username or "default"),
                password=unquote(parts.password or ""),
                database=database,
                secure=secure,
                autogenerate_session_id=True,  # temporary tables live in the session
            )
        except Exception as exc:
            raise WarehouseError(
                f"cannot open ClickHouse warehouse {_redacted(url)}: {_first_line(exc)}"
            ) from None

    def command(self, sql: str) -> None:
        self._client.command(sql)

    def raw(self, sql: str, fmt: str) -> bytes:
        data: bytes = self._client.raw_query(sql, fmt=fmt)
        return data

    def insert_arrow(self, table: str, data: Any) -> None:
        self._client.insert_arrow(table, data)

    def close(self) -> None:
        self._client.close()


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


# --- the store --------------------------------------------------------------------------


class ClickHouseWarehouse(Warehouse):
    """:class:`~daihuo.core.warehouse.Warehouse` on ClickHouse (see the module docstring)."""

    def __init__(self, transport: Transport, *, url: str) -> None:
        self.url = url
        self._transport = transport
        self._lock = threading.RLock()
        self._closed = False
        self._stage = f"_stage_{uuid.uuid4().hex}"
        try:
            transport.command(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (seq Int64, {column_definitions()},"
                f" INDEX id_bloom {quoted('id')} TYPE bloom_filter GRANULARITY 4)"
                " ENGINE = MergeTree ORDER BY (session, ts_ms, seq)"
                " SETTINGS fsync_after_insert = 1, fsync_part_directory = 1"
            )
            transport.command(
                f"CREATE TEMPORARY TABLE {self._stage} (pos UInt64, {column_definitions()})"
                " ENGINE = Memory"
            )
        except WarehouseError:
            raise
        except Exception as exc:
            transport.close()
            raise WarehouseError(f"cannot open warehouse {url}: {_first_line(exc)}") from None

    # --- plumbing for the engine-specific modules (analytics SQL) ----------------------

    def query_json(self, sql: str, *, settings: str = "") -> tuple[list[str], list[list[Any]]]:
        """Column names and rows of a query, read as JSON (``JSONCompact``); ``settings``
        are more ``name = value`` pairs for its ``SETTINGS`` clause."""
        extra = f", {settings}" if settings else ""
        text = self._raw(f"{sql} SETTINGS {JSON_SETTINGS}{extra}", "JSONCompact")
        if not text.strip():
            return [], []
        doc = json.loads(text)
        return [m["name"] for m in doc["meta"]], doc["data"]

    def _raw(self, sql: str, fmt: str) -> bytes:
        with self._lock:
            self._check_open()
            try:
                return self._transport.raw(sql, fmt)
            except Exception as exc:
                raise WarehouseError(f"warehouse query failed: {_first_line(exc)}") from None

    def _command(self, sql: str) -> None:
        with self._lock:
            self._check_open()
            try:
                self._transport.command(sql)
            except Exception as exc:
                raise WarehouseError(f"warehouse command failed: {_first_line(exc)}") from None

    def _scalar(self, sql: str) -> Any:
        _, rows = self.query_json(sql)
        return rows[0][0] if rows else None

    # --- the interface --------------------------------------------------------------------

    def append(self, rows: Iterable[Row]) -> AppendResult:
        batch = list(rows)
        if not batch:
            return AppendResult()
        data = _arrow_batch(batch)  # refuses the whole batch before anything is written
        stage = self._stage
        keep = (
            f"pos IN (SELECT min(pos) FROM {stage} GROUP BY id)"
            f" AND id NOT IN (SELECT id FROM {TABLE} WHERE id IN (SELECT id FROM {stage}))"
        )
        with self._lock:
            self._check_open()
            try:
                self._transport.insert_arrow(stage, data)
                kept = int(self._scalar(f"SELECT count() FROM {stage} WHERE {keep}"))
                if kept:
                    base = int(self._scalar(f"SELECT max(seq) FROM {TABLE}") or 0) + 1
                    self._transport.command(
                        f"INSERT INTO {TABLE} (seq, {COLUMN_LIST}) SETTINGS {ONE_PART}"
                        f" SELECT {base} + pos, {COLUMN_LIST} FROM {stage}"
                        f" WHERE {keep} ORDER BY pos"
                    )
            except WarehouseError:
                raise
            except Exception as exc:
                raise WarehouseError(f"append failed: {_first_line(exc)}") from None
            finally:
                if not self._closed:
                    self._transport.command(f"TRUNCATE TABLE {stage}")
        return AppendResult(kept=kept, duplicates=len(batch) - kept)

    def count(self, session: str | None = None) -> int:
        where = "" if session is None else f" WHERE session = {literal(session)}"
        return int(self._scalar(f"SELECT count() FROM {TABLE}{where}"))

    def sessions(self) -> list[str]:
        _, rows = self.query_json(f"SELECT DISTINCT session FROM {TABLE} ORDER BY session")
        return [r[0] for r in rows]

    def rows(self, session: str, *, batch_size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
        # keyset pages on the table's sort key: each page is one short query
        after = ""
        while True:
            _, page = self.query_json(
                f"SELECT seq, {COLUMN_LIST} FROM {TABLE} WHERE session = {literal(session)}"
                f"{after} ORDER BY ts_ms, seq LIMIT {int(batch_size)}"
            )
            if not page:
                return
            yield [tuple(r[1:]) for r in page]
            ts_ms, seq = page[-1][1 + COLUMNS.index("ts_ms")], page[-1][0]
            after = f" AND (ts_ms, seq) > ({int(ts_ms)}, {int(seq)})"
            if len(page) < batch_size:
                return

    def export_parquet(self, session: str, path: str | os.PathLike[str]) -> int:
        # Written from the rows by Arrow: ClickHouse's DateTime64 stops at 1900 and 2299,
        # while the contract's timestamps go from year 1 to 9999.
        import pyarrow as pa
        import pyarrow.parquet as pq

        names = ["ts" if c == "ts_ms" else c for c in COLUMNS]
        kinds = [
            pa.int64() if c in INTEGER_COLUMNS and c != "ts_ms" else pa.string() for c in COLUMNS
        ]
        # the schema of DuckDB's export: stored NOT NULL columns are required, ts is not
        schema = pa.schema(
            [
                pa.field(name, kind, nullable=c not in REQUIRED_COLUMNS or c == "ts_ms")
                for name, kind, c in zip(names, kinds, COLUMNS, strict=True)
            ]
        )
        ts = COLUMNS.index("ts_ms")
        written = 0
        with pq.ParquetWriter(os.fspath(path), schema) as writer:
            for batch in self.rows(session):
                columns = [list(c) for c in zip(*batch, strict=True)]
                columns[ts] = [contract_ts(v) for v in columns[ts]]
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
                written += len(batch)
        return written

    def _release(self) -> None:
        self._transport.close()


EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def contract_ts(ts_ms: int) -> str:
    """Epoch milliseconds as the contract's string, e.g. ``2026-11-27T12:00:05.120Z``."""
    t = EPOCH + timedelta(milliseconds=ts_ms)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond // 1000:03d}Z"
    )


def _arrow_batch(batch: Sequence[Row]) -> Any:
    """The batch as an Arrow table (``pos`` then the columns), or a WarehouseError."""
    import pyarrow as pa

    if any(len(r) != len(COLUMNS) for r in batch):
        raise WarehouseError(f"rows not storable: a row needs {len(COLUMNS)} values")
    columns = list(zip(*batch, strict=True))
    arrays = [pa.array(range(len(batch)), pa.uint64())]
    for name, values in zip(COLUMNS, columns, strict=True):
        if name in REQUIRED_COLUMNS and any(v is None for v in values):
            raise WarehouseError(f"rows not storable: {name} is missing")
        kind = pa.int64() if name in INTEGER_COLUMNS else pa.string()
        try:
            arrays.append(pa.array(values, kind))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise WarehouseError(f"rows not storable: {name}: {_first_line(exc)}") from None
    return pa.Table.from_arrays(arrays, names=["pos", *COLUMNS])


def chdb_path(url: str) -> Path | None:
    """The folder of a ``chdb:///path`` URL (``None`` for ``:memory:``), as duckdb_path."""
    rest = url.partition("://")[2]
    if rest and not rest.startswith("/"):
        raise WarehouseError(f"a chDB URL has no host: use chdb:///path, not {url!r}")
    path = rest[1:]
    return None if path in ("", ":memory:") else Path(path)


def open_clickhouse(url: str) -> ClickHouseWarehouse:
    """A ClickHouse store from a ``chdb://`` or ``clickhouse(s)://`` URL."""
    scheme = url.partition("://")[0].lower()
    transport: Transport
    if scheme == "chdb":
        transport = ChdbTransport(chdb_path(url))
    elif scheme in ("clickhouse", "clickhouses"):
        transport = ServerTransport(url)
    else:
        raise WarehouseError(f"not a ClickHouse URL: {url!r}")
    return ClickHouseWarehouse(transport, url=_redacted(url))
