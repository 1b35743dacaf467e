"""The in-process side of the order outbox: events are appended here after commit.

The durable record is the ``order_outbox`` table, written in the same transaction as
the change (so a crash between commit and this hook loses nothing); this list is the
"for now" consumer inside one process, for tests and for future in-process listeners.
Analytics, the ledger and settlement read the table (``service.outbox_after``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger("daihuo.orders")
Listener = Callable[[list[dict[str, Any]]], None]


class OrderEventHub:
    def __init__(self, keep: int = 10_000) -> None:
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with each committed batch; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish(self, events: list[dict[str, Any]]) -> None:
        self.recent.extend(events)
        for listener in list(self._listeners):
            try:
                listener(events)
            except Exception:  # a listener's bug must not fail a committed request
                log.exception("order event listener failed")

    def of_order(self, order_id: str) -> list[dict[str, Any]]:
        return [e for e in self.recent if e.get("order") == order_id]


HUB = OrderEventHub()
