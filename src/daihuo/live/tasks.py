"""The draw closer: draws the winners of lucky draws whose time is up.

Like every background job it reads its work from the database, so a draw that fell due
while no process ran is drawn by the first round after start-up; several processes may
run it at once (each draw moves running → drawn in one conditional UPDATE, so it is
drawn once). The room hears of the result after the commit.
"""

from __future__ import annotations

import logging

from daihuo.core.db import Database, after_commit, commit
from daihuo.core.gate import write_gate
from daihuo.core.tasks import Periodic
from daihuo.live import service
from daihuo.live.room import RoomHub
from daihuo.live.schemas import DrawRead

log = logging.getLogger("daihuo.live.draws")


async def close_due_draws(db: Database, hub: RoomHub) -> list[DrawRead]:
    """Draw every draw that is due now; returns them."""
    async with write_gate(db), db.session(all_tenants=True) as session:
        drawn = await service.finish_due_draws(session)

        async def announce() -> None:
            for draw in drawn:
                await hub.draw_finished(draw)

        after_commit(session, announce)
        await commit(session)
    return drawn


class DrawCloser(Periodic):
    def __init__(self, db: Database, hub: RoomHub, *, interval: float) -> None:
        super().__init__("draw-closer", self.close_due, interval=interval)
        self.db = db
        self.hub = hub

    async def close_due(self) -> None:
        drawn = await close_due_draws(self.db, self.hub)
        if drawn:
            log.info("drew %d lucky draw(s)", len(drawn))
