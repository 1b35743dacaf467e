"""Group commit: one writer runs many requests' write transactions as one.

A transaction per order spends most of its time on the parts every transaction pays
for — taking the write lock (SQLite has one writer; a hot SKU row on PostgreSQL is
one lock), committing — and concurrent requests queue for them one by one. Here a
request hands its unit of work to the writer and waits; the writer takes every unit
that queued while the previous batch ran (up to ``max_batch``), runs them one after
another in **one** transaction and commits once.

Invariants:

- Each unit runs inside its own SAVEPOINT. A unit that raises is rolled back alone —
  its rows, its after-commit hooks — and its exception is raised in its submitter
  right away; the other units of the batch go on. A refused request changes nothing.
- A submitter gets its result only after the batch's commit returned: an answered
  request is durable (SQLite ``synchronous=FULL``, PostgreSQL ``synchronous_commit``).
  If the commit fails, every unit of the batch gets that error and nothing of it
  is kept.
- Units of a batch run in arrival order, each seeing the effects of the ones before
  it, so a conditional UPDATE ("reserve if enough is left") stays exact across them.
- After-commit hooks (broadcasts, hub events) of the kept units run after the commit,
  in order, before the results are handed back — as ``core.db.commit`` does.
- A unit whose submitter went away (cancelled) before the writer reached it is not
  run; one cancelled after it ran is still committed (like a request whose client hung
  up after the commit).

On SQLite the batch opens with ``BEGIN IMMEDIATE`` (the write lock up front, so the
transaction never fails upgrading a read lock) and holds the process's write gate, so
other gated writers queue behind it rather than in SQLite's busy handler. PostgreSQL
batches are capped lower by default: more than 64 written subtransactions in one
transaction overflow each backend's subtransaction cache and slow every snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.db import Database, rollback, run_after_commit, scope_session
from daihuo.core.gate import write_gate

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[Any]]

log = logging.getLogger(__name__)


class WriterStopped(RuntimeError):
    """The group-commit writer is not running (the app is starting or stopping)."""


@dataclass
class _Unit:
    work: Work
    tenant_id: str | None
    all_tenants: bool
    future: asyncio.Future[Any] = field(repr=False)


class GroupCommit:
    """``await writer.run(work, tenant_id=...)``: ``work(session)`` committed with others."""

    def __init__(self, db: Database, *, max_batch: int | None = None) -> None:
        self.db = db
        self.max_batch = max_batch or (256 if db.dialect == "sqlite" else 64)
        self._queue: asyncio.Queue[_Unit] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.units = 0

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="daihuo-group-commit")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while not self._queue.empty():
            unit = self._queue.get_nowait()
            if not unit.future.done():
                unit.future.set_exception(WriterStopped("the server is shutting down"))

    async def run(
        self,
        work: Callable[[AsyncSession], Awaitable[T]],
        *,
        tenant_id: str | None,
        all_tenants: bool = False,
    ) -> T:
        """Run ``work`` in the next batch's transaction; return once that committed."""
        if self._task is None or self._task.done():
            raise WriterStopped("the group-commit writer is not running")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Unit(work, tenant_id, all_tenants, future))
        return await future

    async def _loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._run(batch)

    async def _run(self, batch: list[_Unit]) -> None:
        live = [u for u in batch if not u.future.done()]
        if not live:
            return
        kept: list[tuple[_Unit, Any]] = []
        async with write_gate(self.db), self.db.sessionmaker() as session:
            try:
                if self.db.dialect == "sqlite":
                    await session.execute(text("BEGIN IMMEDIATE"))
                for unit in live:
                    if unit.future.done():
                        continue
                    scope_session(session, unit.tenant_id, all_tenants=unit.all_tenants)
                    hooks = session.info.setdefault("after_commit", [])
                    mark = len(hooks)
                    try:
                        async with session.begin_nested():
                            result = await unit.work(session)
                    except Exception as exc:
                        del hooks[mark:]
                        unit.future.set_exception(exc)
                        continue
                    kept.append((unit, result))
                await session.commit()
            except BaseException as exc:
                await rollback(session)
                error = exc if isinstance(exc, Exception) else WriterStopped("cancelled")
                for unit in live:
                    if not unit.future.done():
                        unit.future.set_exception(error)
                if not isinstance(exc, Exception):
                    raise
                log.exception("group commit batch failed")
                return
            self.batches += 1
            self.units += len(kept)
            await run_after_commit(session, log_failures=True)
            for unit, result in kept:
                if not unit.future.done():
                    unit.future.set_result(result)
