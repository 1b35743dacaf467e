"""The server's way into the event store: validate, buffer, append in batches.

Every producer in the app process (the order hub today, the live-room gateway next)
calls :meth:`EventSink.record` with events shaped as shared/spec/events.md says. Each
event is validated with the same parser that imports files; one that does not conform is
logged and dropped (it is a producer's bug, not the viewer's). Accepted events go to a
:class:`~daihuo.core.warehouse.BatchWriter`: appended every ``interval`` seconds, all of
them on a clean shutdown, at most one interval lost on a crash (docs/analytics.md).

Listeners (:meth:`subscribe`) get every accepted batch as parsed events, after it is
buffered: the live figures (``analytics/live.py``) are kept up to date from here, the one
place every recorded event passes, so they count exactly what the store will hold.

The store is opened on first use, so an app that records nothing never opens (or locks)
the DuckDB file. Readers take the store from :meth:`flushed`, so a report includes every
event recorded before it was asked for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from daihuo.core.warehouse import BatchWriter, Warehouse, make_warehouse
from daihuo.events.model import Event, InvalidEvent, event_from_obj
from daihuo.events.store import event_row, storage_problem

log = logging.getLogger("daihuo.events.sink")
Listener = Callable[[Sequence[Event]], None]


class EventSink:
    def __init__(self, url: str, *, interval: float = 1.0) -> None:
        self.url = url
        self.interval = interval
        self.rejected = 0
        self._warehouse: Warehouse | None = None
        self._writer: BatchWriter | None = None
        self._open_lock = threading.Lock()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with each batch of accepted events (in the recording thread:
        it must not block); returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _open(self) -> BatchWriter:
        with self._open_lock:
            if self._writer is None:
                self._warehouse = make_warehouse(self.url)
                self._writer = BatchWriter(self._warehouse, interval=self.interval)
            return self._writer

    def record(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Buffer the conforming events; returns how many were accepted."""
        rows = []
        accepted: list[Event] = []
        for obj in events:
            try:
                event = event_from_obj(obj)
            except InvalidEvent as exc:
                self.rejected += 1
                log.error("event refused by the store: %s", exc)
                continue
            problem = storage_problem(event)
            if problem is not None:
                self.rejected += 1
                log.error("event refused by the store: %s", problem)
                continue
            rows.append(event_row(event))
            accepted.append(event)
        if rows:
            self._open().add_many(rows)
            for listener in list(self._listeners):
                try:
                    listener(accepted)
                except Exception:  # a listener's bug must not lose the store's events
                    log.exception("event listener failed")
        return len(rows)

    def flushed(self) -> Warehouse:
        """The store, with everything recorded so far appended: for readers."""
        self._open().flush()
        assert self._warehouse is not None
        return self._warehouse

    def close(self) -> None:
        """Append what is buffered and release the store (idempotent)."""
        with self._open_lock:
            writer, self._writer = self._writer, None
            warehouse, self._warehouse = self._warehouse, None
        if writer is not None:
            writer.close()
        if warehouse is not None:
            warehouse.close()
