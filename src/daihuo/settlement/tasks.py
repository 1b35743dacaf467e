"""The releaser: moves held money to available once its holding period has ended.

Like every background job it reads its work from the database (``release_due``), so
money that fell due while no process ran is released by the first round after start-up,
and several processes may release at once (each order is locked and released once).
"""

from __future__ import annotations

import logging

from daihuo.core.clock import utcnow
from daihuo.core.db import Database, commit
from daihuo.core.gate import write_gate
from daihuo.core.tasks import Periodic
from daihuo.settlement import service

log = logging.getLogger("daihuo.settlement.releaser")


async def release_once(db: Database, *, batch: int = service.RELEASE_BATCH) -> int:
    """Release everything due now, a batch per transaction; returns how many orders."""
    total = 0
    while True:
        async with write_gate(db), db.session(all_tenants=True) as session:
            released = await service.release_due(session, utcnow(), limit=batch)
            await commit(session)
        total += len(released)
        if len(released) < batch:
            return total


class SettlementReleaser(Periodic):
    def __init__(self, db: Database, *, interval: float) -> None:
        super().__init__("settlement-releaser", self.release, interval=interval)
        self.db = db

    async def release(self) -> None:
        n = await release_once(self.db)
        if n:
            log.info("released settled money", extra={"orders": n})
