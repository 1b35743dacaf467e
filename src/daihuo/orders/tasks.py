"""The reservation sweeper: a background task of each app process.

It keeps no state of its own: every round asks the database for orders still
``created`` whose window has passed, so a restart (or a crash) loses nothing and the
first round after start-up catches up on whatever expired while no process ran.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from daihuo.core.db import Database, commit
from daihuo.core.gate import write_gate
from daihuo.core.tasks import Periodic
from daihuo.orders import service

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


class ReservationSweeper(Periodic):
    def __init__(self, db: Database, *, window: timedelta, interval: float) -> None:
        super().__init__("reservation-sweeper", self.sweep, interval=interval)
        self.db = db
        self.window = window

    async def sweep(self) -> None:
        n = await sweep_once(self.db, self.window)
        if n:
            log.info("expired unpaid orders", extra={"count": n})
