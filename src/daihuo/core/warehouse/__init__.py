"""The event store: one append-only table of live-room events behind one interface.

``make_warehouse(url)`` picks the engine from ``Settings.warehouse_url``: ``duckdb:///path``
(the embedded default, a file under ``./var``; ``duckdb:///:memory:`` for a scratch store),
or ClickHouse, the scale-out engine: ``chdb:///path`` (chDB, ClickHouse embedded, on a
local folder) or ``clickhouse://user:password@host:port/database`` (a server). How the
ClickHouse engine keeps the promises below is in :mod:`daihuo.core.warehouse.clickhouse`.

The store knows columns, not events: ``core`` imports no feature module, so rows arrive
as plain tuples in :data:`COLUMNS` order and the meaning of ``type`` or ``amount`` is the
events and analytics modules' business. What the store guarantees:

* **Unique ids, first wins.** :meth:`Warehouse.append` drops a row whose ``id`` is already
  stored or appears earlier in the same batch, and says how many it kept and dropped.
  Re-appending the same rows therefore adds nothing.
* **Arrival order survives.** Every stored row gets ``seq``, increasing in append order
  (and within a batch in batch order). Readers break ties of ``ts_ms`` with it, which is
  what "the first one in the file wins" needs once the file is gone.
* **Batched, all-or-nothing writes.** One ``append`` is one bulk statement in one
  transaction: after a crash a batch is either stored whole or not at all. Row-by-row
  inserts are never used. :class:`BatchWriter` turns a stream of single rows into such
  batches from a background thread; what a crash can lose is what it has buffered, at
  most the last ``interval`` seconds (see its docstring and docs/analytics.md).
"""

from __future__ import annotations

import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self

# Row layout shared by every engine. ``ts_ms`` is milliseconds since the epoch (UTC);
# ``meta`` and ``extra`` are JSON texts (an object, or None). ``seq`` is added by the store.
COLUMNS: Final = (
    "id",
    "ts_ms",
    "session",
    "type",
    "user",
    "source",
    "product",
    "order",
    "qty",
    "amount",
    "text",
    "count",
    "device",
    "ip",
    "meta",
    "extra",
)
INTEGER_COLUMNS: Final = frozenset({"ts_ms", "qty", "amount", "count"})
REQUIRED_COLUMNS: Final = frozenset({"id", "ts_ms", "session", "type"})
Row = Sequence[Any]


class WarehouseError(Exception):
    """A store that cannot be opened or used as asked; ``str(exc)`` is one readable line."""


@dataclass(frozen=True, slots=True)
class AppendResult:
    """How many rows of a batch were stored, and how many were dropped as repeated ids."""

    kept: int = 0
    duplicates: int = 0

    def __add__(self, other: AppendResult) -> AppendResult:
        return AppendResult(self.kept + other.kept, self.duplicates + other.duplicates)


class Warehouse(ABC):
    """An append-only event table with id de-duplication (see the module docstring)."""

    url: str

    @abstractmethod
    def append(self, rows: Iterable[Row]) -> AppendResult:
        """Store one batch (tuples in :data:`COLUMNS` order) in one transaction."""

    @abstractmethod
    def count(self, session: str | None = None) -> int:
        """Stored rows, of one session or of all."""

    @abstractmethod
    def sessions(self) -> list[str]:
        """Ids of the sessions that have stored rows, sorted."""

    @abstractmethod
    def rows(self, session: str, *, batch_size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
        """A session's rows in :data:`COLUMNS` order, by ``ts_ms`` then arrival, in batches."""

    @abstractmethod
    def export_parquet(self, session: str, path: str | os.PathLike[str]) -> int:
        """Write a session's rows to a Parquet file (``ts`` as the contract's string)."""

    # Engines set ``_lock`` (an RLock around their connection) and ``_closed`` when they
    # open, and give back their connection in ``_release``.
    _lock: threading.RLock
    _closed: bool

    @abstractmethod
    def _release(self) -> None:
        """Give back the engine's connection (called once, under ``_lock``)."""

    def close(self) -> None:
        """Release the store; a closed store refuses further use."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._release()

    def _check_open(self) -> None:
        if self._closed:
            raise WarehouseError("the warehouse is closed")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class BatchWriter:
    """Collects rows one by one and appends them in batches from a background thread.

    :meth:`add` only takes a lock and extends a list, so the server's event loop never
    waits for the store. The thread appends what is waiting every ``interval`` seconds, or
    sooner when ``max_rows`` are waiting. :meth:`flush` appends now and returns when the
    rows are stored; :meth:`close` flushes and stops the thread, so nothing accepted is
    lost on a clean shutdown. A crash (power loss, ``kill -9``) loses the rows buffered
    since the last append: at most ``interval`` seconds of rows, plus the batch being
    written at that instant, which the store applies whole or not at all.

    If an append fails, its rows stay buffered in front of the newer ones and are tried
    again at the next tick; :attr:`last_error` keeps the exception for health checks.
    """

    def __init__(
        self, warehouse: Warehouse, *, interval: float = 1.0, max_rows: int = 100_000
    ) -> None:
        if interval <= 0 or max_rows <= 0:
            raise ValueError("interval and max_rows must be positive")
        self.warehouse = warehouse
        self.interval = interval
        self.max_rows = max_rows
        self.total = AppendResult()
        self.last_error: Exception | None = None
        self._pending: list[Row] = []
        self._lock = threading.Lock()  # guards _pending
        self._write_lock = threading.Lock()  # one append at a time, in order
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="warehouse-writer", daemon=True)
        self._thread.start()

    def add(self, row: Row) -> None:
        """Buffer one row (never blocks on the store)."""
        self.add_many((row,))

    def add_many(self, rows: Iterable[Row]) -> None:
        with self._lock:
            if self._closed:
                raise WarehouseError("the batch writer is closed")
            self._pending.extend(rows)
            full = len(self._pending) >= self.max_rows
        if full:
            self._wake.set()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> AppendResult:
        """Append everything buffered now; raises what the store raises."""
        with self._write_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return AppendResult()
            try:
                result = self.warehouse.append(batch)
            except Exception:
                with self._lock:
                    self._pending[:0] = batch  # keep arrival order for the retry
                raise
            self.total = self.total + result
            return result

    def close(self) -> None:
        """Flush what is buffered and stop the thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wake.set()
        self._thread.join()
        self.flush()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                closed = self._closed
            try:
                self.flush()
                self.last_error = None
            except Exception as exc:  # kept for health checks; the rows are retried
                self.last_error = exc
                if not closed:
                    time.sleep(min(self.interval, 1.0))
            if closed:
                return

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def duckdb_path(url: str) -> str | None:
    """The file of a ``duckdb:///path`` URL (``None`` for ``:memory:`` or no path).

    ``duckdb:///var/w.duckdb`` is relative to the working directory and
    ``duckdb:////srv/w.duckdb`` absolute, as with SQLAlchemy's ``sqlite:///`` URLs.
    """
    if not url.startswith("duckdb://"):
        raise WarehouseError(f"not a DuckDB URL: {url!r}")
    rest = url.removeprefix("duckdb://")
    if rest and not rest.startswith("/"):
        raise WarehouseError(f"a DuckDB URL has no host: use duckdb:///path, not {url!r}")
    path = rest[1:]
    return None if path in ("", ":memory:") else path


def make_warehouse(url: str) -> Warehouse:
    """Open the store named by ``url`` (``Settings.warehouse_url``)."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "duckdb":
        from daihuo.core.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(duckdb_path(url), url=url)
    if scheme in ("chdb", "clickhouse", "clickhouses"):
        from daihuo.core.warehouse.clickhouse import open_clickhouse

        return open_clickhouse(url)
    raise WarehouseError(
        f"unknown warehouse URL {url!r}: expected duckdb:///path, chdb:///path "
        "or clickhouse://user:password@host:port/database"
    )


__all__ = [
    "COLUMNS",
    "INTEGER_COLUMNS",
    "REQUIRED_COLUMNS",
    "AppendResult",
    "BatchWriter",
    "Row",
    "Warehouse",
    "WarehouseError",
    "duckdb_path",
    "make_warehouse",
]
