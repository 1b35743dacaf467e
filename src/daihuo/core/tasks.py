"""A background job of an app process that runs one round every ``interval`` seconds.

Rounds read their work from the database, so a job keeps no state of its own: a restart
(or a crash) loses nothing, and the first round after start-up catches up. A failing
round is logged and retried at the next one. Stopping lets the round in progress finish
(a cancelled database call would leave its driver thread behind) and cancels it only if
it does not finish in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

Round = Callable[[], Awaitable[object]]


class Periodic:
    def __init__(self, name: str, round: Round, *, interval: float, stop_timeout: float = 10):
        self.name = name
        self.round = round
        self.interval = interval
        self.stop_timeout = stop_timeout
        self.log = logging.getLogger(f"daihuo.{name}")
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=f"daihuo-{self.name}")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self.stop_timeout)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.round()
            except Exception:  # keep going: the next round retries from the database
                self.log.exception("%s round failed", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
