"""A consumer of the event sink that buffers what it is given and applies it in batches.

The sink calls :meth:`BufferedFeed.add` with each batch of accepted events from its
recording thread, so ``add`` never waits: it keeps the events a feed wants and buffers
them. A background job (:class:`daihuo.core.tasks.Periodic`) applies the buffer every
``interval`` seconds; :meth:`BufferedFeed.stop` applies what is left and closes the
feed's store. When the buffer grows past ``max_pending`` (the store has been failing
or the feed cannot keep up) the oldest events go first: the newest matter most to a
live view. Subclasses say which events they keep (:meth:`keep`), how a batch is applied
(:meth:`flush`, taking the buffer with :meth:`take`) and what closing means.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence

from daihuo.core.tasks import Periodic
from daihuo.events.model import Event


class BufferedFeed:
    def __init__(self, name: str, *, interval: float, max_pending: int) -> None:
        self.name = name
        self.interval = interval
        self.max_pending = max_pending
        self.applied = 0
        self.dropped = 0
        self.log = logging.getLogger(f"daihuo.{name}")
        self._pending: list[Event] = []
        self._lock = threading.Lock()  # add() is called from the recording thread
        self._job = Periodic(name, self._round, interval=interval)
        self._running = False

    # --- what a feed defines ----------------------------------------------------------

    def keep(self, events: Sequence[Event]) -> list[Event]:
        """The events this feed wants (all of them by default)."""
        return list(events)

    def apply_now(self, events: list[Event]) -> bool:
        """Apply ``events`` at once, in the caller's thread, when the store allows it;
        False to buffer them for the background job (the default)."""
        return False

    def background(self) -> bool:
        """Whether the buffer needs the background job (False when apply_now takes all)."""
        return True

    async def flush(self) -> None:
        """Apply everything added so far (take it with :meth:`take`)."""
        raise NotImplementedError

    async def close_store(self) -> None:
        """Release the feed's store once the last batch is applied."""

    # --- the buffer -------------------------------------------------------------------

    def add(self, events: Sequence[Event]) -> None:
        kept = self.keep(events)
        if not kept or self.apply_now(kept):
            return
        with self._lock:
            self._pending.extend(kept)
            over = len(self._pending) - self.max_pending
            if over > 0:  # fallen far behind: keep the newest
                del self._pending[:over]
                self.dropped += over
                self.log.error("%s: %d events dropped, it is not keeping up", self.name, over)

    def take(self) -> list[Event]:
        """The buffered events, oldest first; the buffer is empty afterwards."""
        with self._lock:
            batch, self._pending = self._pending, []
        return batch

    def put_back(self, events: list[Event]) -> None:
        """Return ``events`` to the front of the buffer, to be retried before newer ones."""
        with self._lock:
            self._pending[:0] = events

    async def _round(self) -> None:
        if self._pending:
            await self.flush()

    async def start(self) -> None:
        if not self._running and self.background():
            self._running = True
            await self._job.start()

    async def stop(self) -> None:
        if self._running:
            self._running = False
            await self._job.stop()
        with contextlib.suppress(Exception):
            await self.flush()
        await self.close_store()
