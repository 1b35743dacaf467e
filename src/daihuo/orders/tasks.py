"""The reservation sweeper: a background task of each app process.

It keeps no state of its own: every round asks the database for orders still
``created`` whose window has passed, so a restart (or a crash) loses nothing and the
first round after start-up catches up on whatever expired while no process ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from daihuo.core.db import Database, commit
from daihuo.orders import service
from daihuo.orders.gate import write_gate

log = logging.getLogger("daihuo.orders.sweeper")


async def sweep_once(db: Database, window: timedelta, *, batch: int = 200) -> int:
    """Expire every overdue reservation now, a batch per transaction; returns how many."""
    total = 0
    while True:
        async with write_gate(db), db.session(all_tenants=True) as session:
            n = await service.expire_orders(session, window=window, limit=batch)
            await commit(session)
        total += n
        if n < batch:
            return total


class ReservationSweeper:
    def __init__(self, db: Database, *, window: timedelta, interval: float) -> None:
        self.db = db
        self.window = window
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="daihuo-reservation-sweeper")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            # Let the round in progress finish (a cancelled database call would leave its
            # driver thread behind); cancel only if it does not finish in time.
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                n = await sweep_once(self.db, self.window)
                if n:
                    log.info("expired unpaid orders", extra={"count": n})
            except Exception:  # keep sweeping: the next round retries from the database
                log.exception("reservation sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
