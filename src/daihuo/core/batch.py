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

Units of one kind can also be run **together** (:meth:`GroupCommit.run_grouped`): a run
of consecutive queued units of the same :class:`Group` and tenant scope is handed to
the group's ``run_many`` in one SAVEPOINT, so that N orders of a hot SKU cost one
stock UPDATE and one multi-row INSERT per table instead of N of each. ``run_many``
answers each unit with its result or its exception and must leave no trace of a unit
it refused; if it raises instead, its SAVEPOINT is rolled back and every unit of the
run is retried alone through ``run_one``, as an ungrouped unit would be.

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
from typing import Any, Protocol, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.db import Database, rollback, run_after_commit, scope_session
from daihuo.core.gate import write_gate

T = TypeVar("T")
P = TypeVar("P")
Work = Callable[[AsyncSession], Awaitable[Any]]

log = logging.getLogger(__name__)


class WriterStopped(RuntimeError):
    """The group-commit writer is not running (the app is starting or stopping)."""


class Group(Protocol[P, T]):
    """Units of work the writer may run several at a time (see the module's doc)."""

    async def run_one(self, session: AsyncSession, payload: P) -> T: ...

    async def run_many(self, session: AsyncSession, payloads: list[P]) -> list[T | Exception]:
        """One outcome per payload, in order; a refused payload must have changed nothing."""
        ...


@dataclass
class _Unit:
    work: Work
    tenant_id: str | None
    all_tenants: bool
    future: asyncio.Future[Any] = field(repr=False)
    group: Group[Any, Any] | None = None
    payload: Any = None


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

    async def run_grouped(
        self,
        group: Group[P, T],
        payload: P,
        *,
        tenant_id: str | None,
        all_tenants: bool = False,
    ) -> T:
        """Like :meth:`run`, letting the writer run this unit together with the queued
        units of the same ``group`` and scope."""
        if self._task is None or self._task.done():
            raise WriterStopped("the group-commit writer is not running")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()

        async def alone(session: AsyncSession) -> T:
            return await group.run_one(session, payload)

        self._queue.put_nowait(_Unit(alone, tenant_id, all_tenants, future, group, payload))
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
                for run in _runs(live):
                    if len(run) > 1:
                        kept += await self._run_together(session, run)
                    elif (done := await _run_alone(session, run[0])) is not None:
                        kept.append(done)
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

    async def _run_together(
        self, session: AsyncSession, run: list[_Unit]
    ) -> list[tuple[_Unit, Any]]:
        """A run of one group's units through ``run_many``; alone if that raises."""
        run = [u for u in run if not u.future.done()]
        if not run:
            return []
        first = run[0]
        assert first.group is not None
        scope_session(session, first.tenant_id, all_tenants=first.all_tenants)
        hooks = session.info.setdefault("after_commit", [])
        mark = len(hooks)
        try:
            async with session.begin_nested():
                outcomes = await first.group.run_many(session, [u.payload for u in run])
                if len(outcomes) != len(run):
                    raise RuntimeError("run_many answered a different number of units")
        except Exception:
            log.exception("grouped units failed together; running them one by one")
            del hooks[mark:]
            alone = [await _run_alone(session, unit) for unit in run]
            return [done for done in alone if done is not None]
        kept: list[tuple[_Unit, Any]] = []
        for unit, outcome in zip(run, outcomes, strict=True):
            if not isinstance(outcome, Exception):
                kept.append((unit, outcome))
            elif not unit.future.done():
                unit.future.set_exception(outcome)
        return kept


async def _run_alone(session: AsyncSession, unit: _Unit) -> tuple[_Unit, Any] | None:
    """One unit in its own SAVEPOINT: its result, or None when it raised (its submitter
    gets the error at once, and its rows and after-commit hooks are dropped)."""
    if unit.future.done():
        return None
    scope_session(session, unit.tenant_id, all_tenants=unit.all_tenants)
    hooks = session.info.setdefault("after_commit", [])
    mark = len(hooks)
    try:
        async with session.begin_nested():
            result = await unit.work(session)
    except Exception as exc:
        del hooks[mark:]
        if not unit.future.done():
            unit.future.set_exception(exc)
        return None
    return unit, result


def _runs(units: list[_Unit]) -> list[list[_Unit]]:
    """Consecutive units of the same group and scope, together; every other unit alone."""
    runs: list[list[_Unit]] = []
    for unit in units:
        last = runs[-1][0] if runs else None
        if (
            last is not None
            and unit.group is not None
            and last.group is unit.group
            and (last.tenant_id, last.all_tenants) == (unit.tenant_id, unit.all_tenants)
        ):
            runs[-1].append(unit)
        else:
            runs.append([unit])
    return runs
