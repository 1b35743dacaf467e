"""The embedded event store: one DuckDB file (or an in-memory database).

Writes go through a staging table: a batch is appended to ``_stage`` with DuckDB's
appender (one bulk call, no per-row statements), then one ``INSERT … SELECT`` moves the
rows whose id is new to ``events`` and numbers them with ``seq``; the stage is emptied
in ``finally``. Bulk loaders that build their own staged table (the JSON Lines importer
does, in SQL) call :meth:`DuckDBWarehouse.append_staged` with the same effect.

DuckDB allows one writing process per file; a second process gets a
:class:`~daihuo.core.warehouse.WarehouseError` that says the file is in use. Within a
process, writes are serialised by a lock and readers take their own cursor
(:meth:`DuckDBWarehouse.cursor`), so reports run while a batch writer appends.
"""

# SQL here is built from this module's constant identifiers; values are bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final

import duckdb

from daihuo.core.warehouse import (
    COLUMNS,
    INTEGER_COLUMNS,
    REQUIRED_COLUMNS,
    AppendResult,
    Row,
    Warehouse,
    WarehouseError,
)

TABLE: Final = "events"
STAGE: Final = "_stage"
TS_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%gZ"  # the contract's shape, e.g. 2026-11-27T12:00:05.120Z


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


COLUMN_LIST: Final = ", ".join(quoted(c) for c in COLUMNS)


def column_definitions() -> str:
    parts = []
    for name in COLUMNS:
        kind = "BIGINT" if name in INTEGER_COLUMNS else "VARCHAR"
        null = " NOT NULL" if name in REQUIRED_COLUMNS else ""
        parts.append(f"{quoted(name)} {kind}{null}")
    return ", ".join(parts)


class DuckDBWarehouse(Warehouse):
    """:class:`~daihuo.core.warehouse.Warehouse` on DuckDB (``path=None``: in memory)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, url: str = "") -> None:
        self.path = None if path is None else Path(path)
        self.url = url or ("duckdb:///:memory:" if path is None else f"duckdb:///{path}")
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = _quiet(duckdb.connect(":memory:" if self.path is None else str(self.path)))
        except duckdb.IOException as exc:
            raise WarehouseError(f"cannot open warehouse {self.path}: {_first_line(exc)}") from None
        self._lock = threading.RLock()
        self._closed = False
        self._con.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (seq BIGINT NOT NULL, {column_definitions()})"
        )
        self._con.execute(f"CREATE TEMP TABLE {STAGE} AS SELECT {COLUMN_LIST} FROM {TABLE} LIMIT 0")
        self._next_seq: int = scalar(self._con, f"SELECT coalesce(max(seq), 0) FROM {TABLE}") + 1

    # --- plumbing for the engine-specific modules (importer, analytics SQL) ---------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own on this database, for one reader or one thread."""
        self._check_open()
        return _quiet(self._con.cursor())

    def writer(self) -> _Writer:
        """``with wh.writer() as con:`` holds the write lock and gives the write connection.

        Temporary tables made on it are visible to :meth:`append_staged`.
        """
        self._check_open()
        return _Writer(self)

    def append_staged(self, con: duckdb.DuckDBPyConnection, table: str, pos: str) -> AppendResult:
        """Move the rows of ``table`` (with the :data:`COLUMNS`) whose id is new to the store.

        ``pos`` is a column of ``table`` (or ``rowid``) giving arrival order, unique and
        increasing: the first row of an id wins, and ``seq`` follows ``pos``. Call it
        inside :meth:`writer`.
        """
        total, last = con.execute(f"SELECT count(*), max({pos}) FROM {table}").fetchall()[0]
        if total == 0:
            return AppendResult()
        base = self._next_seq
        # Dropped: later rows of an id repeated in the batch, and rows whose id is stored.
        # Both sets are found from the (small) set of repeated ids and a semi-join that
        # builds on the batch and probes the store, rather than a hash table of every
        # stored id or a window over the whole batch.
        kept: int = scalar(
            con,
            f"""
            INSERT INTO {TABLE} (seq, {COLUMN_LIST})
            WITH repeated AS (
                SELECT id, min({pos}) AS first FROM {table} GROUP BY id HAVING count(*) > 1
            ),
            stored AS (SELECT DISTINCT id FROM {TABLE} WHERE id IN (SELECT id FROM {table})),
            dropped AS (
                SELECT b.{pos} AS pos FROM {table} b
                JOIN repeated r ON r.id = b.id AND b.{pos} > r.first
                UNION ALL
                SELECT b.{pos} AS pos FROM {table} b JOIN stored s ON s.id = b.id
            )
            SELECT $base + {pos}, {COLUMN_LIST} FROM {table}
            WHERE {pos} NOT IN (SELECT pos FROM dropped)
            """,
            {"base": base},
        )
        self._next_seq = base + last + 1
        return AppendResult(kept=kept, duplicates=total - kept)

    # --- the interface ------------------------------------------------------------------

    def append(self, rows: Iterable[Row]) -> AppendResult:
        with self.writer() as con:
            try:
                append_rows(con, STAGE, rows)
                return self.append_staged(con, STAGE, "rowid")
            finally:
                con.execute(f"DELETE FROM {STAGE}").fetchall()

    def count(self, session: str | None = None) -> int:
        if session is None:
            return int(scalar(self.cursor(), f"SELECT count(*) FROM {TABLE}"))
        return int(
            scalar(self.cursor(), f"SELECT count(*) FROM {TABLE} WHERE session = ?", [session])
        )

    def sessions(self) -> list[str]:
        cur = self.cursor()
        return [
            r[0] for r in cur.execute(f"SELECT DISTINCT session FROM {TABLE} ORDER BY 1").fetchall()
        ]

    def rows(self, session: str, *, batch_size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
        cur = self.cursor()
        cur.execute(
            f"SELECT {COLUMN_LIST} FROM {TABLE} WHERE session = ? ORDER BY ts_ms, seq", [session]
        )
        while batch := cur.fetchmany(batch_size):
            yield batch

    def export_parquet(self, session: str, path: str | os.PathLike[str]) -> int:
        columns = [
            f"strftime(make_timestamp(ts_ms * 1000), '{TS_FORMAT}') AS ts"
            if c == "ts_ms"
            else quoted(c)
            for c in COLUMNS
        ]
        cur = self.cursor()
        relation = cur.sql(
            f"SELECT {', '.join(columns)} FROM {TABLE} WHERE session = $s ORDER BY ts_ms, seq",
            params={"s": session},
        )
        relation.write_parquet(os.fspath(path))
        return self.count(session)

    def _release(self) -> None:
        self._con.close()


class _Writer:
    def __init__(self, warehouse: DuckDBWarehouse) -> None:
        self._wh = warehouse

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self._wh._lock.acquire()
        return self._wh._con

    def __exit__(self, *exc: object) -> None:
        self._wh._lock.release()


def append_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[Row]) -> None:
    """Bulk-append rows to a table with DuckDB's appender: all of them, or none and a
    :class:`~daihuo.core.warehouse.WarehouseError` saying why."""
    appender = con.appender(table)
    try:
        appender.append_rows(rows)
        appender.flush()
    except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
        appender.clear()
        raise WarehouseError(f"rows not storable: {_first_line(exc)}") from None


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """No progress bar: DuckDB draws one on stdout for long queries, even in a library."""
    con.execute("SET enable_progress_bar = false").fetchall()
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    """The single value of a query, with its result consumed (DuckDB 2 wants that)."""
    rows = con.execute(sql, params).fetchall()
    return rows[0][0] if rows else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
