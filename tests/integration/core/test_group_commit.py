"""Group commit (core/batch.py) on SQLite and PostgreSQL: units share a transaction,
a failing unit is rolled back alone, nothing is answered before the commit, and a
failed commit fails every unit of its batch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.batch import GroupCommit, WriterStopped
from daihuo.core.db import Database, after_commit, commit


class Boom(Exception):
    pass


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    async with database.session(all_tenants=True) as session:
        await session.execute(text("CREATE TABLE gc_probe (id INTEGER PRIMARY KEY, tag TEXT)"))
        await session.execute(text("CREATE TABLE gc_parent (id INTEGER PRIMARY KEY)"))
        await session.execute(
            text(
                "CREATE TABLE gc_child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES"
                " gc_parent (id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
        await commit(session)
    yield database
    await database.dispose()


@pytest.fixture
async def writer(db: Database) -> AsyncIterator[GroupCommit]:
    w = GroupCommit(db)
    await w.start()
    yield w
    await w.stop()


async def rows(db: Database, table: str = "gc_probe") -> list[int]:
    async with db.session(all_tenants=True) as session:
        got = await session.execute(text(f"SELECT id FROM {table} ORDER BY id"))
        return [r[0] for r in got]


def insert(n: int, *, fail: bool = False, hooks: list[int] | None = None):  # type: ignore[no-untyped-def]
    async def work(session: AsyncSession) -> int:
        await session.execute(text("INSERT INTO gc_probe (id, tag) VALUES (:i, 't')"), {"i": n})
        if hooks is not None:

            async def hook() -> None:
                hooks.append(n)

            after_commit(session, hook)
        if fail:
            raise Boom(n)
        return n

    return work


async def test_concurrent_units_commit_together_in_fewer_transactions(
    db: Database, writer: GroupCommit
) -> None:
    got = await asyncio.gather(*(writer.run(insert(i), tenant_id=None) for i in range(60)))
    assert sorted(got) == list(range(60))
    assert await rows(db) == list(range(60))
    assert writer.units == 60
    assert writer.batches < 60  # units that queued together shared a commit


async def test_a_failing_unit_is_rolled_back_alone_with_its_hooks(
    db: Database, writer: GroupCommit
) -> None:
    hooks: list[int] = []
    results = await asyncio.gather(
        *(writer.run(insert(i, fail=i % 4 == 1, hooks=hooks), tenant_id=None) for i in range(20)),
        return_exceptions=True,
    )
    failed = [i for i in range(20) if i % 4 == 1]
    for i, result in enumerate(results):
        if i in failed:
            assert isinstance(result, Boom) and result.args == (i,)
        else:
            assert result == i
    kept = [i for i in range(20) if i not in failed]
    assert await rows(db) == kept
    assert sorted(hooks) == kept


async def test_an_answer_means_the_row_is_committed(db: Database, writer: GroupCommit) -> None:
    for i in range(5):
        assert await writer.run(insert(i), tenant_id=None) == i
        # A separate connection sees it: answered only after the commit returned.
        assert i in await rows(db)


async def test_a_failed_commit_fails_every_unit_and_keeps_nothing(
    db: Database, writer: GroupCommit
) -> None:
    gate = asyncio.Event()
    started = asyncio.Event()

    async def blocker(session: AsyncSession) -> None:
        started.set()
        await gate.wait()

    def child(n: int, parent: int):  # type: ignore[no-untyped-def]
        async def work(session: AsyncSession) -> int:
            await session.execute(
                text("INSERT INTO gc_child (id, parent) VALUES (:i, :p)"), {"i": n, "p": parent}
            )
            return n

        return work

    first = asyncio.ensure_future(writer.run(blocker, tenant_id=None))
    await started.wait()
    # These queue behind the blocker and run as one batch: one of them breaks a
    # deferred foreign key, which only the COMMIT checks.
    batch = [asyncio.ensure_future(writer.run(insert(i), tenant_id=None)) for i in range(3)]
    batch.append(asyncio.ensure_future(writer.run(child(1, parent=999), tenant_id=None)))
    await asyncio.sleep(0.05)
    gate.set()
    await first
    results = await asyncio.gather(*batch, return_exceptions=True)
    assert all(isinstance(r, Exception) for r in results), results
    assert await rows(db) == []
    assert await rows(db, "gc_child") == []
    # The writer goes on after a failed batch.
    assert await writer.run(insert(7), tenant_id=None) == 7


async def test_a_unit_whose_caller_left_before_its_turn_is_not_run(
    db: Database, writer: GroupCommit
) -> None:
    gate = asyncio.Event()
    started = asyncio.Event()

    async def blocker(session: AsyncSession) -> None:
        started.set()
        await gate.wait()

    first = asyncio.ensure_future(writer.run(blocker, tenant_id=None))
    await started.wait()
    gone = asyncio.ensure_future(writer.run(insert(1), tenant_id=None))
    stays = asyncio.ensure_future(writer.run(insert(2), tenant_id=None))
    await asyncio.sleep(0.01)
    gone.cancel()
    gate.set()
    await first
    assert await stays == 2
    assert await rows(db) == [2]


async def test_a_stopped_writer_refuses_work(db: Database) -> None:
    w = GroupCommit(db)
    with pytest.raises(WriterStopped):
        await w.run(insert(1), tenant_id=None)
    await w.start()
    assert await w.run(insert(1), tenant_id=None) == 1
    await w.stop()
    with pytest.raises(WriterStopped):
        await w.run(insert(2), tenant_id=None)
    assert await rows(db) == [1]


class Inserts:
    """A group that inserts its payloads in one statement, refusing odd ids or the ids in
    ``refuse``; ``explode`` makes run_many fail as a whole after writing."""

    def __init__(self, *, explode: bool = False) -> None:
        self.explode = explode
        self.runs: list[list[int]] = []
        self.alone: list[int] = []
        self.hooks: list[int] = []

    async def run_one(self, session: AsyncSession, n: int) -> int:
        self.alone.append(n)
        return await insert(n, fail=n % 2 == 1, hooks=self.hooks)(session)

    async def run_many(self, session: AsyncSession, ns: list[int]) -> list[int | Exception]:
        self.runs.append(list(ns))
        good = [n for n in ns if n % 2 == 0]
        await session.execute(
            text("INSERT INTO gc_probe (id, tag) VALUES (:i, 'g')"), [{"i": n} for n in good]
        )
        if self.explode:
            raise Boom("all at once")
        hooks = self.hooks

        async def hook() -> None:
            hooks.extend(good)

        after_commit(session, hook)
        return [n if n % 2 == 0 else Boom(n) for n in ns]


async def test_grouped_units_run_together_and_refused_ones_leave_nothing(
    db: Database, writer: GroupCommit
) -> None:
    group = Inserts()
    results = await asyncio.gather(
        *(writer.run_grouped(group, n, tenant_id=None) for n in range(10)),
        return_exceptions=True,
    )
    assert [r if isinstance(r, int) else type(r) for r in results] == [
        n if n % 2 == 0 else Boom for n in range(10)
    ]
    assert await rows(db) == [0, 2, 4, 6, 8]
    assert sorted(group.hooks) == [0, 2, 4, 6, 8]
    # All ten queued while the writer was idle: one run of ten, nobody alone.
    assert group.runs == [list(range(10))]
    assert group.alone == []


async def test_a_group_that_fails_as_a_whole_is_retried_one_by_one(
    db: Database, writer: GroupCommit
) -> None:
    group = Inserts(explode=True)
    results = await asyncio.gather(
        *(writer.run_grouped(group, n, tenant_id=None) for n in range(6)),
        return_exceptions=True,
    )
    assert [r if isinstance(r, int) else type(r) for r in results] == [0, Boom, 2, Boom, 4, Boom]
    # The failed run's rows are gone; each unit ran alone once.
    assert await rows(db) == [0, 2, 4]
    assert sorted(group.alone) == list(range(6))
    assert sorted(group.hooks) == [0, 2, 4]


async def test_groups_split_at_other_work_and_other_tenant_scopes(
    db: Database, writer: GroupCommit
) -> None:
    group = Inserts()
    calls = [
        writer.run_grouped(group, 0, tenant_id=None),
        writer.run_grouped(group, 2, tenant_id=None),
        writer.run(insert(100), tenant_id=None),
        writer.run_grouped(group, 4, tenant_id=None),
        writer.run_grouped(group, 6, tenant_id="ten_other"),
        writer.run_grouped(group, 8, tenant_id="ten_other"),
    ]
    assert await asyncio.gather(*calls) == [0, 2, 100, 4, 6, 8]
    assert group.runs == [[0, 2], [6, 8]]
    assert group.alone == [4]
    assert await rows(db) == [0, 2, 4, 6, 8, 100]
