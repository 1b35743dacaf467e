"""Every query of the log. Works on a session or a bare connection (the sequencer
writes through a connection of its own).

Reads of hashes go by primary key only: a proof or a tree edge is one statement that
fetches its O(log n) rows, never a scan.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from daihuo.ledger.domain import NodeKey
from daihuo.ledger.models import LedgerCheckpoint, LedgerLeaf, LedgerNode, LedgerRef

Executor = AsyncSession | AsyncConnection

LEAVES = cast(Table, LedgerLeaf.__table__)
NODES = cast(Table, LedgerNode.__table__)
CHECKPOINTS = cast(Table, LedgerCheckpoint.__table__)
REFS = cast(Table, LedgerRef.__table__)


@dataclass(frozen=True)
class StoredCheckpoint:
    id: int
    size: int
    root: bytes
    note: str


@dataclass(frozen=True)
class StoredLeaf:
    idx: int
    entry: bytes
    leaf_hash: bytes


class LedgerRepository:
    def __init__(self, db: Executor) -> None:
        self.db = db

    # writes (append-only: there is no update or delete, and the database refuses both)
    async def insert_batch(
        self,
        leaves: Sequence[tuple[int, bytes, bytes]],
        nodes: Sequence[tuple[int, int, bytes]],
        created_at: datetime,
    ) -> None:
        """Insert leaves ``(idx, entry, leaf_hash)`` and nodes ``(level, idx, hash)``.

        The sequencer's hot path: rows go to the driver's ``executemany`` as tuples,
        inside the caller's transaction, without per-row statement processing.
        """
        conn = self.db if isinstance(self.db, AsyncConnection) else await self.db.connection()
        dialect = conn.dialect.name
        if dialect not in _INSERT_LEAVES:  # an engine without a fast path: plain Core
            ts = {"created_at": created_at}
            if leaves:
                rows = [{"idx": i, "entry": e, "leaf_hash": h, **ts} for i, e, h in leaves]
                await conn.execute(insert(LEAVES), rows)
            if nodes:
                await conn.execute(
                    insert(NODES), [{"level": lv, "idx": i, "hash": h} for lv, i, h in nodes]
                )
            return
        # SQLite keeps naive UTC text in SQLAlchemy's format; PostgreSQL takes the datetime.
        stamp: object = created_at
        if dialect == "sqlite":
            stamp = created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if leaves:
            await conn.exec_driver_sql(
                _INSERT_LEAVES[dialect], [(i, e, h, stamp) for i, e, h in leaves]
            )
        if nodes:
            await conn.exec_driver_sql(_INSERT_NODES[dialect], list(nodes))

    async def insert_refs(self, rows: Sequence[tuple[str, str, str, int, int | None]]) -> None:
        """Rows ``(ref, kind, record_id, idx, source_seq)``, in the leaves' transaction."""
        if rows:
            await self.db.execute(
                insert(REFS),
                [
                    {"ref": r, "kind": k, "record_id": rid, "idx": i, "source_seq": s}
                    for r, k, rid, i, s in rows
                ],
            )

    async def recorded(self, refs: Sequence[str]) -> dict[str, int]:
        if not refs:
            return {}
        stmt = select(REFS.c.ref, REFS.c.idx).where(REFS.c.ref.in_(refs))
        return {r: int(i) for r, i in (await self.db.execute(stmt)).all()}

    async def refs_of(self, kind: str, record_id: str) -> list[tuple[str, int]]:
        c = REFS.c
        stmt = select(c.ref, c.idx).where(c.kind == kind, c.record_id == record_id).order_by(c.idx)
        return [(r, int(i)) for r, i in (await self.db.execute(stmt)).all()]

    async def latest_refs(self, kind: str, limit: int) -> list[tuple[str, int]]:
        """``(record id, leaf index)`` of the newest entries of ``kind``, newest first."""
        c = REFS.c
        stmt = select(c.record_id, c.idx).where(c.kind == kind).order_by(c.idx.desc()).limit(limit)
        return [(r, int(i)) for r, i in (await self.db.execute(stmt)).all()]

    async def last_source_seq(self, kind: str) -> int:
        stmt = select(func.max(REFS.c.source_seq)).where(REFS.c.kind == kind)
        found = (await self.db.execute(stmt)).scalar()
        return int(found) if found is not None else 0

    async def insert_checkpoint(
        self, size: int, root: bytes, note: str, created_at: datetime
    ) -> None:
        await self.db.execute(
            insert(CHECKPOINTS).values(size=size, root=root, note=note, created_at=created_at)
        )

    # reads
    async def leaf_count(self) -> int:
        """Leaves are dense from 0, so the count is one past the largest index."""
        last = (await self.db.execute(select(func.max(LEAVES.c.idx)))).scalar()
        return 0 if last is None else int(last) + 1

    async def find_leaf(self, leaf_hash: bytes, entry: bytes, start: int) -> int | None:
        """The first index ``>= start`` holding ``entry`` (matched by hash, then bytes)."""
        c = LEAVES.c
        stmt = (
            select(c.idx, c.entry).where(c.idx >= start, c.leaf_hash == leaf_hash).order_by(c.idx)
        )
        for idx, stored in (await self.db.execute(stmt)).all():
            if bytes(stored) == entry:
                return int(idx)
        return None

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        c = CHECKPOINTS.c
        stmt = select(c.id, c.size, c.root, c.note).order_by(c.id.desc()).limit(1)
        row = (await self.db.execute(stmt)).first()
        return None if row is None else StoredCheckpoint(row.id, row.size, row.root, row.note)

    async def checkpoints(self) -> list[StoredCheckpoint]:
        c = CHECKPOINTS.c
        rows = await self.db.execute(select(c.id, c.size, c.root, c.note).order_by(c.id))
        return [StoredCheckpoint(r.id, r.size, r.root, r.note) for r in rows]

    async def hashes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        """The stored hashes of ``keys`` in one statement; absent keys are left out.

        Proofs are the hot path, so this one query skips SQLAlchemy's statement layer:
        its text is built once per shape and sent straight to the driver in one round
        trip (aiosqlite's ``execute_fetchall``, asyncpg's ``fetch``), inside whatever
        transaction the session or connection has open.
        """
        keys = list(keys)
        leaf_ids = sorted({idx for level, idx in keys if level == 0})
        node_keys = sorted({(level, idx) for level, idx in keys if level > 0})
        if not leaf_ids and not node_keys:
            return {}
        params: list[int] = [*leaf_ids]
        for level, idx in node_keys:
            params += (level, idx)
        conn = self.db if isinstance(self.db, AsyncConnection) else await self.db.connection()
        dialect = conn.dialect.name
        sql = _hashes_sql(dialect, len(leaf_ids), len(node_keys))
        rows: Iterable[Sequence[object]]
        if dialect in ("sqlite", "postgresql"):
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            if dialect == "sqlite":
                rows = await driver.execute_fetchall(sql, params)
            else:
                rows = await driver.fetch(sql, *params)
        else:
            named = {f"p{n}": v for n, v in enumerate(params)}
            result = await conn.execute(text(sql), named)
            rows = [(int(lv), int(i), bytes(h)) for lv, i, h in result]
        # Both drivers hand back int and bytes already.
        return {(r[0], r[1]): r[2] for r in cast(Iterable[tuple[int, int, bytes]], rows)}

    async def leaves(self, start: int, end: int) -> list[StoredLeaf]:
        c = LEAVES.c
        stmt = (
            select(c.idx, c.entry, c.leaf_hash).where(c.idx >= start, c.idx < end).order_by(c.idx)
        )
        return [
            StoredLeaf(r.idx, bytes(r.entry), bytes(r.leaf_hash))
            for r in await self.db.execute(stmt)
        ]

    async def nodes_completed_by(
        self, start: int, end: int, top_level: int
    ) -> dict[NodeKey, bytes]:
        """Stored nodes whose last leaf is in ``[start, end)``, levels 1 to ``top_level``.

        Node ``(level, idx)`` ends at leaf ``(idx + 1) * 2**level - 1``.
        """
        n = NODES.c
        ranges = []
        for level in range(1, top_level + 1):
            lo = -(-(start + 1) // (1 << level)) - 1  # ceil((start + 1) / 2**level) - 1
            hi = end >> level
            if lo < hi:
                ranges.append((n.level == level) & (n.idx >= lo) & (n.idx < hi))
        if not ranges:
            return {}
        stmt = select(n.level, n.idx, n.hash).where(or_(*ranges))
        return {(int(r.level), int(r.idx)): bytes(r.hash) for r in await self.db.execute(stmt)}

    async def node_counts(self) -> dict[int, int]:
        """How many nodes are stored at each level."""
        n = NODES.c
        rows = await self.db.execute(select(n.level, func.count()).group_by(n.level))
        return {int(level): int(count) for level, count in rows}

    async def stream_leaves(self, chunk: int) -> AsyncIterator[list[StoredLeaf]]:
        """All leaves in index order, ``chunk`` at a time, by primary-key ranges."""
        c = LEAVES.c
        start = 0
        while True:
            stmt = (
                select(c.idx, c.entry, c.leaf_hash)
                .where(c.idx >= start)
                .order_by(c.idx)
                .limit(chunk)
            )
            rows = [
                StoredLeaf(r.idx, bytes(r.entry), bytes(r.leaf_hash))
                for r in await self.db.execute(stmt)
            ]
            if not rows:
                return
            yield rows
            start = rows[-1].idx + 1


_INSERT_LEAVES = {
    "sqlite": "INSERT INTO ledger_leaves (idx, entry, leaf_hash, created_at) VALUES (?, ?, ?, ?)",
    "postgresql": "INSERT INTO ledger_leaves (idx, entry, leaf_hash, created_at) "
    "VALUES ($1, $2, $3, $4)",
}
_INSERT_NODES = {
    "sqlite": "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)",
    "postgresql": "INSERT INTO ledger_nodes (level, idx, hash) VALUES ($1, $2, $3)",
}


@functools.lru_cache(maxsize=4096)
def _hashes_sql(dialect: str, leaves: int, nodes: int) -> str:
    """One statement for ``leaves`` leaf hashes and ``nodes`` node hashes, by primary key."""

    def p(n: int) -> str:
        return "?" if dialect == "sqlite" else f"${n + 1}" if dialect == "postgresql" else f":p{n}"

    # Only placeholders are formatted into the text; every value is bound.
    parts = []
    if leaves:
        ids = ", ".join(p(n) for n in range(leaves))
        parts.append(
            f"SELECT 0 AS level, idx, leaf_hash AS hash FROM ledger_leaves WHERE idx IN ({ids})"  # noqa: S608
        )
    if nodes:
        terms = " OR ".join(
            f"(level = {p(leaves + 2 * n)} AND idx = {p(leaves + 2 * n + 1)})" for n in range(nodes)
        )
        parts.append(f"SELECT level, idx, hash FROM ledger_nodes WHERE {terms}")  # noqa: S608
    return " UNION ALL ".join(parts)
