"""The log's use cases: the sequencer that appends and signs, proofs from storage, fsck.

Invariants
----------
* **One writer.** Leaves are appended only by :class:`Ledger`, one asyncio task per
  app process that takes whatever is queued (up to ``max_batch``) and commits it as
  one transaction: the leaves, every node they complete, and a signed checkpoint
  of the new tree. Callers await their leaf index, which is only handed out once
  that transaction is durable (``synchronous=FULL`` on SQLite; PostgreSQL's default
  ``synchronous_commit``). Leaf indices are the primary key, so a second writer on
  the same database (another process) collides instead of forking the tree: the
  loser reloads the tree's edge and retries.
* **Never sign an inconsistent checkpoint.** Before signing size n the sequencer
  builds the consistency proof from the previous checkpoint's size m to n out of
  *stored* hashes, inside the same transaction, and verifies it against the previous
  checkpoint's root and the new root. If it fails — storage no longer agrees with
  what was signed — nothing is signed and the log halts until an operator runs
  ``daihuo ledger fsck``.
* **Proofs from storage.** A proof is the O(log n) stored subtree hashes of
  ``merkle.inclusion_ranges`` / ``consistency_ranges``, fetched in one statement and
  folded with ``merkle.join_perfect`` where a range is not a perfect subtree.
* **Appends follow commits.** A business change appends its entry after its own
  transaction commits (:func:`append_after_commit`), so a rollback never leaves an
  entry behind; :func:`append` refuses a session that is inside a transaction.
* **Recoveries close the gap after a commit.** A crash between a module's commit and
  its append would lose the entry, so modules whose rows must all be logged register a
  recovery (:func:`register_recovery`) that the sequencer runs when it starts and every
  ``recovery_interval`` seconds; the log itself imports no feature module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from daihuo.config import Settings
from daihuo.core.clock import utcnow
from daihuo.core.db import Database, after_commit
from daihuo.ledger import merkle, note
from daihuo.ledger.domain import EntryError, Frontier, edge_keys, make_entry, proof_keys
from daihuo.ledger.errors import (
    LedgerBadRange,
    LedgerBadTreeSize,
    LedgerEntryInvalid,
    LedgerHalted,
    LedgerIndexOutOfRange,
    LedgerKeyError,
    LedgerSizeBeyondLog,
    LedgerUnavailable,
)
from daihuo.ledger.keys import KeyRing, load_keyring
from daihuo.ledger.repository import Executor, LedgerRepository, StoredCheckpoint, StoredLeaf
from daihuo.ledger.schemas import RecordLink, RecordLinks

CHECKPOINT_PATH = "/api/v1/ledger/checkpoint"

log = logging.getLogger("daihuo.ledger")

MAX_ENTRIES_PAGE = 1000


class Inconsistent(Exception):
    """Storage disagrees with what the log signed; the sequencer halts."""


# --- proofs and reads -----------------------------------------------------------------


async def subtree_hashes(db: Executor, ranges: Sequence[merkle.Range]) -> list[bytes]:
    """The hash of each tree node ``[start, end)``, from stored perfect subtrees."""
    groups = proof_keys(ranges)
    stored = await LedgerRepository(db).hashes(k for group in groups for k in group)
    out = []
    for group in groups:
        missing = [k for k in group if k not in stored]
        if missing:
            level, idx = missing[0]
            raise LedgerHalted(
                f"stored hash (level {level}, index {idx}) is missing; run daihuo ledger fsck"
            )
        out.append(merkle.join_perfect([stored[k] for k in group]))
    return out


async def inclusion_proof(db: Executor, index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf ``index`` in the stored tree of ``size`` leaves."""
    return await subtree_hashes(db, merkle.inclusion_ranges(index, size))


async def consistency_proof(db: Executor, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 consistency proof between stored trees of ``old_size`` and ``new_size``."""
    return await subtree_hashes(db, merkle.consistency_ranges(old_size, new_size))


async def tree_size(db: Executor) -> int:
    """The size of the latest signed tree: what the log vouches for."""
    latest = await LedgerRepository(db).latest_checkpoint()
    return 0 if latest is None else latest.size


async def checked_inclusion_proof(db: Executor, index: int, size: int) -> tuple[bytes, list[bytes]]:
    """The leaf hash and inclusion proof for a request, checked against the signed tree."""
    if size <= 0:
        raise LedgerBadTreeSize(f"size {size}: an inclusion proof needs a tree of at least 1 leaf")
    await _check_reached(db, size)
    if index >= size:
        raise LedgerIndexOutOfRange(f"index {index} is not below size {size}")
    # The leaf itself rides along as one more range: still one statement.
    *proof, leaf = await subtree_hashes(
        db, [*merkle.inclusion_ranges(index, size), (index, index + 1)]
    )
    return leaf, proof


async def checked_consistency_proof(db: Executor, old_size: int, new_size: int) -> list[bytes]:
    """Consistency proof for a request: sizes checked against each other and the log."""
    if old_size <= 0:
        raise LedgerBadTreeSize("old must be at least 1: every tree extends the empty tree")
    if old_size > new_size:
        raise LedgerBadTreeSize(f"old {old_size} is larger than new {new_size}")
    await _check_reached(db, new_size)
    return await consistency_proof(db, old_size, new_size)


async def entries(db: Executor, start: int, end: int) -> tuple[int, list[StoredLeaf]]:
    """The signed tree size and the stored leaves ``[start, min(end, size))``."""
    size = await tree_size(db)
    if end < start:
        raise LedgerBadRange(f"end {end} is before start {start}")
    if start > size:
        raise LedgerBadRange(f"start {start} is past the tree size {size}")
    end = min(end, size, start + MAX_ENTRIES_PAGE)
    return size, await LedgerRepository(db).leaves(start, end)


async def latest_note(db: Executor) -> StoredCheckpoint | None:
    return await LedgerRepository(db).latest_checkpoint()


async def recorded(db: Executor, refs: Sequence[str]) -> dict[str, int]:
    """The leaf index of each of ``refs`` already in the log."""
    return await LedgerRepository(db).recorded(refs)


async def refs_of(db: Executor, kind: str, record_id: str) -> list[tuple[str, int]]:
    """``(ref, leaf index)`` of every entry about one business record, in log order."""
    return await LedgerRepository(db).refs_of(kind, record_id)


async def record_links(db: Executor, kinds: Sequence[str], record_id: str) -> RecordLinks:
    """Every entry about ``record_id`` of these kinds, with its inclusion-proof link in
    the current signed tree (entries are public: this reveals nothing the log does not)."""
    size = await tree_size(db)
    found: list[tuple[int, str]] = []
    for kind in kinds:
        refs = await LedgerRepository(db).refs_of(kind, record_id)
        found += [(idx, kind) for _, idx in refs if idx < size]
    found.sort()
    links = []
    for idx, kind in found:
        _, leaves = await entries(db, idx, idx + 1)
        links.append(
            RecordLink(
                kind=kind,
                index=idx,
                entry=json.loads(leaves[0].entry),
                proof=f"/api/v1/ledger/proof/inclusion?index={idx}&size={size}",
            )
        )
    return RecordLinks(
        record_id=record_id, tree_size=size, checkpoint=CHECKPOINT_PATH, entries=links
    )


async def latest_records(db: Executor, kind: str, limit: int) -> list[RecordLink]:
    """The newest entries of ``kind`` that have refs (e.g. session reports), newest first."""
    size = await tree_size(db)
    out = []
    for _, idx in await LedgerRepository(db).latest_refs(kind, limit):
        if idx >= size:
            continue
        _, leaves = await entries(db, idx, idx + 1)
        out.append(
            RecordLink(
                kind=kind,
                index=idx,
                entry=json.loads(leaves[0].entry),
                proof=f"/api/v1/ledger/proof/inclusion?index={idx}&size={size}",
            )
        )
    return out


async def last_source_seq(db: Executor, kind: str) -> int:
    """How far a feeder of ``kind`` entries got in its source (0: nothing yet)."""
    return await LedgerRepository(db).last_source_seq(kind)


async def find_leaf(db: Executor, entry: bytes, start: int = 0) -> int | None:
    """The first leaf index ``>= start`` whose bytes are exactly ``entry``, if any.

    Scans the leaves from ``start`` (a primary-key range), so callers pass the tree size
    they saw before the entry could have been appended: recovery uses it to tell an
    entry that never reached the log from one whose index was merely not recorded.
    """
    return await LedgerRepository(db).find_leaf(merkle.leaf_hash(entry), entry, start)


async def _check_reached(db: Executor, size: int) -> None:
    signed = await tree_size(db)
    if size > signed:
        raise LedgerSizeBeyondLog(f"size {size} is beyond the signed tree size {signed}")


# --- the sequencer --------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """Names the business event an entry records (see ``models.LedgerRef``)."""

    ref: str
    kind: str
    record_id: str
    source_seq: int | None = None


@dataclass
class _Pending:
    entry: bytes
    future: asyncio.Future[int]
    ref: Ref | None = None


_RUNNING: dict[str, Ledger] = {}

Recovery = Callable[["Ledger", bool], Awaitable[int]]
"""``recover(ledger, at_start)``: append what a module committed but never logged;
returns how many entries it appended or matched."""

_RECOVERIES: dict[str, Recovery] = {}


def register_recovery(name: str, recover: Recovery) -> None:
    """Have every :class:`Ledger` run ``recover`` when it starts and then periodically.

    A module whose rows must each reach the log (e.g. catalog trace steps) stores the
    row first and appends after commit; a crash in between leaves a row without a leaf
    index, which its recovery appends later. Registration is by name, so importing a
    module twice registers it once. The log stays ignorant of the modules that use it.
    """
    _RECOVERIES[name] = recover


def _url_key(url: Any) -> str:
    return str(url.render_as_string(hide_password=False))


class Ledger:
    """The log of one database: the single sequencer that appends in batches and signs."""

    def __init__(
        self,
        db: Database,
        keyring: KeyRing | None,
        *,
        max_batch: int = 4096,
        durable: bool = True,
        problem: str | None = None,
        recovery_interval: float = 60.0,
    ) -> None:
        self.db = db
        self.recovery_interval = recovery_interval
        self._recovery_task: asyncio.Task[None] | None = None
        self.recovered = asyncio.Event()  # set after the first recovery pass
        self.keyring = keyring
        self.max_batch = max_batch
        self.durable = durable
        self.halted: str | None = problem
        self._queue: deque[_Pending] = deque()
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._conn: AsyncConnection | None = None
        self._frontier = Frontier()
        self._key = _url_key(db.engine.url)

    @classmethod
    def from_settings(cls, db: Database, settings: Settings, **kw: Any) -> Ledger:
        """A ledger with the configured keys; halted (not raising) if they cannot be used."""
        try:
            keyring: KeyRing | None = load_keyring(settings)
        except LedgerKeyError as exc:
            log.error("ledger keys unusable: %s", exc.detail)
            return cls(db, None, max_batch=settings.ledger_max_batch, problem=exc.detail, **kw)
        return cls(db, keyring, max_batch=settings.ledger_max_batch, **kw)

    @property
    def size(self) -> int:
        return self._frontier.size

    async def start(self) -> None:
        """Load the tree's edge, re-sign if the keys changed, and start sequencing."""
        if self.halted is None:
            try:
                await self._load()
            except Inconsistent as exc:
                self._halt(str(exc))
            except Exception as exc:  # an unmigrated or unreachable database
                first = (str(exc).splitlines() or [""])[0]
                self._halt(f"cannot read the log: {type(exc).__name__}: {first}")
        _RUNNING[self._key] = self
        self._task = asyncio.create_task(self._run(), name="ledger-sequencer")
        if self.halted is None and _RECOVERIES:
            self._recovery_task = asyncio.create_task(self._recover(), name="ledger-recovery")
        else:
            self.recovered.set()

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        if _RUNNING.get(self._key) is self:
            del _RUNNING[self._key]
        if self._recovery_task is not None:
            self._recovery_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery_task
            self._recovery_task = None
        if self._task is not None:
            self._stopping = True
            self._wakeup.set()
            await self._task
            self._task = None
        await self._drop_connection()

    async def __aenter__(self) -> Ledger:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def append_entry(self, entry: bytes) -> int:
        """Append leaf bytes; return their leaf index once durably committed and signed."""
        if self.halted is not None:
            raise LedgerHalted(self.halted)
        if self._task is None or self._task.done():
            raise LedgerUnavailable("the ledger sequencer is not running")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(entry, future))
        self._wakeup.set()
        # A caller that goes away cancels only its wait: the queued entry still lands.
        return await future

    async def append_entries(
        self, entries: Sequence[bytes], refs: Sequence[Ref | None] | None = None
    ) -> list[int]:
        """Append several leaves at once (consecutive indices unless others interleave).

        ``refs[i]`` (optional) is stored with leaf i in the same transaction; the caller
        checks ``recorded()`` first, so an event is appended once."""
        if refs is not None and len(refs) != len(entries):
            raise ValueError("one ref (or None) per entry")
        if self.halted is not None:
            raise LedgerHalted(self.halted)
        if self._task is None or self._task.done():
            raise LedgerUnavailable("the ledger sequencer is not running")
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[int]] = []
        for i, entry in enumerate(entries):
            future: asyncio.Future[int] = loop.create_future()
            self._queue.append(_Pending(entry, future, refs[i] if refs is not None else None))
            futures.append(future)
        self._wakeup.set()
        return list(await asyncio.gather(*futures))

    async def append(
        self,
        kind: str,
        tenant: str,
        id: str,
        body: Mapping[str, Any],
        *,
        ts: datetime | None = None,
    ) -> int:
        return await self.append_entry(build_entry(kind, tenant, id, body, ts))

    def empty_note(self) -> str:
        """The signed checkpoint of the empty tree (served before the first append)."""
        if self.keyring is None:
            raise LedgerKeyError(self.halted or "the ledger has no signer key")
        return self.keyring.sign(note.Checkpoint(self.keyring.origin, 0, merkle.EMPTY_ROOT))

    async def recover_now(self, *, at_start: bool = False) -> int:
        """Run every registered recovery once; how many entries they appended or matched."""
        done = 0
        for name, recover in list(_RECOVERIES.items()):
            if self.halted is not None:
                break
            try:
                done += await recover(self, at_start)
            except Exception:  # one module's failure must not stop the others or the log
                log.exception("ledger recovery %s failed", name)
        return done

    # internals

    async def _recover(self) -> None:
        at_start = True
        while True:
            try:
                found = await self.recover_now(at_start=at_start)
                if found:
                    log.warning("ledger recovery appended or matched %d entries", found)
            finally:
                self.recovered.set()
            at_start = False
            await asyncio.sleep(self.recovery_interval)

    def _halt(self, reason: str) -> None:
        if self.halted is None:
            log.error("ledger halted: %s", reason)
        self.halted = reason

    async def _load(self) -> None:
        async with self.db.engine.connect() as conn:
            repo = LedgerRepository(conn)
            size = await repo.leaf_count()
            keys = edge_keys(size)
            stored = await repo.hashes(keys)
            latest = await repo.latest_checkpoint()
        missing = [k for k in keys if k not in stored]
        if missing:
            raise Inconsistent(f"stored hash {missing[0]} of the tree's right edge is missing")
        frontier = Frontier(size, [stored[k] for k in keys])
        if latest is not None:
            if latest.size != size:
                raise Inconsistent(
                    f"the last checkpoint signs {latest.size} leaves but {size} are stored"
                )
            if latest.root != frontier.root():
                raise Inconsistent("the stored tree's root differs from the last checkpoint's")
        self._frontier = frontier
        assert self.keyring is not None
        if (latest is None and size > 0) or (
            latest is not None and not self.keyring.signed_by_all(latest.note)
        ):
            # New keys, or a tree built without checkpoints: sign what is stored.
            await self._commit([])

    async def _run(self) -> None:
        # Whatever queued up while the last batch committed is the next batch.
        queue = self._queue
        while True:
            if not queue:
                if self._stopping:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = [queue.popleft() for _ in range(min(len(queue), self.max_batch))]
            await self._process(batch)

    async def _process(self, batch: list[_Pending]) -> None:
        error: BaseException | None = None
        start = 0
        if self.halted is not None:
            error = LedgerHalted(self.halted)
        else:
            for attempt in range(3):
                try:
                    start = await self._commit([p.entry for p in batch], [p.ref for p in batch])
                    error = None
                    break
                except IntegrityError as exc:
                    # Another writer took these indices: reload the edge and retry.
                    log.warning("ledger append collided (attempt %d): %s", attempt + 1, exc.orig)
                    error = LedgerUnavailable("the log has another writer; try again")
                    await self._reload()
                    if self.halted is not None:
                        error = LedgerHalted(self.halted)
                        break
                except Inconsistent as exc:
                    self._halt(str(exc))
                    error = LedgerHalted(self.halted)
                    break
                except DBAPIError as exc:
                    error = LedgerUnavailable(f"the log could not commit: {type(exc).__name__}")
                    if exc.connection_invalidated:  # a dropped connection: a fresh one may do
                        log.warning("ledger connection lost (attempt %d)", attempt + 1)
                        continue
                    log.exception("ledger append failed")
                    await self._reload()
                    break
                except Exception as exc:
                    log.exception("ledger append failed")
                    error = LedgerUnavailable(f"the log could not commit: {type(exc).__name__}")
                    await self._reload()
                    break
        for i, pending in enumerate(batch):
            if pending.future.done():
                continue
            if error is not None:
                pending.future.set_exception(error)
            else:
                pending.future.set_result(start + i)

    async def _reload(self) -> None:
        try:
            await self._load()
        except Inconsistent as exc:
            self._halt(str(exc))
        except Exception as exc:
            log.warning("ledger reload failed: %s", exc)

    async def _commit(self, entries: Sequence[bytes], refs: Sequence[Ref | None] = ()) -> int:
        """Store ``entries`` and a checkpoint that extends the last one; return the first index."""
        keyring = self.keyring
        assert keyring is not None
        frontier = self._frontier.copy()
        start = frontier.size
        now = utcnow()
        leaves: list[tuple[int, bytes, bytes]] = []
        nodes: list[tuple[int, int, bytes]] = []
        for entry in entries:
            h = merkle.leaf_hash(entry)
            leaves.append((frontier.size, entry, h))
            frontier.append(h, nodes)
        nodes.sort()  # primary-key order
        checkpoint = note.Checkpoint(keyring.origin, frontier.size, frontier.root())

        conn = await self._connection()
        try:
            async with conn.begin():
                repo = LedgerRepository(conn)
                await repo.insert_batch(leaves, nodes, now)  # first: another writer collides
                await repo.insert_refs(
                    [
                        (r.ref, r.kind, r.record_id, start + i, r.source_seq)
                        for i, r in enumerate(refs)
                        if r is not None
                    ]
                )
                previous = await repo.latest_checkpoint()
                await _check_extends(conn, previous, start, checkpoint)
                await repo.insert_checkpoint(
                    checkpoint.size, checkpoint.root, keyring.sign(checkpoint), now
                )
        except BaseException:
            await self._drop_connection()
            raise
        self._frontier = frontier
        return start

    async def _connection(self) -> AsyncConnection:
        """The sequencer's own connection, kept between batches (a new SQLite connection
        costs a thread and several round trips; a batch of one should not pay that)."""
        if self._conn is None:
            conn = await self.db.engine.connect()
            if self.durable and conn.dialect.name == "sqlite":
                await conn.exec_driver_sql("PRAGMA synchronous=FULL")
                await conn.commit()
            self._conn = conn
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception as exc:  # already broken: nothing more to release
                log.warning("ledger connection close failed: %s", exc)


async def _check_extends(
    conn: AsyncConnection,
    previous: StoredCheckpoint | None,
    start: int,
    checkpoint: note.Checkpoint,
) -> None:
    """Raise :class:`Inconsistent` unless ``checkpoint`` provably extends ``previous``."""
    if previous is None:
        return
    if previous.size != start:
        raise Inconsistent(
            f"the last checkpoint signs {previous.size} leaves but the log had {start}"
        )
    if previous.size == checkpoint.size:
        if previous.root != checkpoint.root:
            raise Inconsistent("same size as the last checkpoint but a different root")
        return
    if previous.size == 0:
        return
    proof = await consistency_proof(conn, previous.size, checkpoint.size)
    try:
        merkle.verify_consistency(
            previous.size, checkpoint.size, previous.root, checkpoint.root, proof
        )
    except merkle.ProofError as exc:
        raise Inconsistent(
            f"size {checkpoint.size} does not extend the signed size {previous.size}: {exc}"
        ) from exc


# --- appending from other modules -----------------------------------------------------


def build_entry(
    kind: str, tenant: str, id: str, body: Mapping[str, Any], ts: datetime | None = None
) -> bytes:
    try:
        return make_entry(kind, tenant, id, body, ts or utcnow())
    except EntryError as exc:
        raise LedgerEntryInvalid(str(exc)) from exc


def running(target: Database | AsyncSession | AsyncConnection) -> Ledger:
    """The sequencer running in this process for the database behind ``target``."""
    if isinstance(target, Database):
        engine_url = target.engine.url
    elif isinstance(target, AsyncSession):
        if target.bind is None:
            raise LedgerUnavailable("the session is not bound to a database")
        engine_url = target.bind.engine.url
    else:
        engine_url = target.engine.url
    ledger = _RUNNING.get(_url_key(engine_url))
    if ledger is None:
        raise LedgerUnavailable("no ledger sequencer runs for this database in this process")
    return ledger


async def append(
    session_or_db: Database | AsyncSession,
    kind: str,
    tenant: str,
    id: str,
    body: Mapping[str, Any],
    *,
    ts: datetime | None = None,
) -> int:
    """Append one entry; return its leaf index once it is durable and signed.

    With a session, call it after that session committed (an after-commit hook):
    an entry must never outlive a business change that rolled back.
    """
    if isinstance(session_or_db, AsyncSession) and session_or_db.in_transaction():
        raise RuntimeError(
            "ledger.append inside an open transaction: use append_after_commit(session, ...)"
        )
    entry = build_entry(kind, tenant, id, body, ts)
    return await running(session_or_db).append_entry(entry)


def append_after_commit(
    session: AsyncSession,
    kind: str,
    tenant: str,
    id: str,
    body: Mapping[str, Any],
    *,
    ts: datetime | None = None,
    then: Callable[[int], Awaitable[None]] | None = None,
    on_failure: Callable[[Exception], Awaitable[None]] | None = None,
) -> None:
    """Append once ``session`` commits (dropped on rollback); ``then(index)`` afterwards.

    The entry is built and validated now, so a bad entry fails the request, not the hook.
    Without ``on_failure`` a log that is not running fails the request (before the
    commit when there is no sequencer, in the hook when it halts). With it, the
    business change is committed regardless and a log that cannot take the entry
    (:class:`LedgerHalted`, :class:`LedgerUnavailable`) is reported to ``on_failure``
    instead: for callers whose rows are recovered later (:func:`register_recovery`).
    """
    entry = build_entry(kind, tenant, id, body, ts)
    ledger = running(session) if on_failure is None else None

    async def hook() -> None:
        try:
            index = await (ledger or running(session)).append_entry(entry)
        except (LedgerHalted, LedgerUnavailable) as exc:
            if on_failure is None:
                raise
            await on_failure(exc)
            return
        if then is not None:
            await then(index)

    after_commit(session, hook)


# --- fsck -----------------------------------------------------------------------------


@dataclass
class FsckReport:
    """What ``daihuo ledger fsck`` found: the recomputed tree and every problem."""

    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoints: int = 0
    nodes_checked: int = 0
    problems: list[str] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str, limit: int) -> None:
        if len(self.problems) < limit:
            self.problems.append(problem)
        else:
            self.more_problems += 1


async def fsck_database(
    db: Database, verifiers: Sequence[note.Verifier], origin: str, *, chunk: int = 65536
) -> FsckReport:
    """:func:`fsck` on one consistent snapshot of the database, while appends go on."""
    async with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            await conn.exec_driver_sql("BEGIN")  # a WAL read transaction is a snapshot
        return await fsck(conn, verifiers, origin, chunk=chunk)


async def fsck(
    db: Executor,
    verifiers: Sequence[note.Verifier],
    origin: str,
    *,
    chunk: int = 65536,
    limit: int = 100,
) -> FsckReport:
    """Recompute the tree from the stored entries and compare every stored hash with it.

    Checks, in order: every checkpoint's signature and text; leaves dense from 0 and
    each entry hashing to its stored leaf hash; every stored node equal to the node
    recomputed from the entries, none missing and none extra; every checkpoint's root
    equal to the recomputed root of its size; and the last checkpoint covering every leaf.
    """
    repo = LedgerRepository(db)
    report = FsckReport()
    n = await repo.leaf_count()
    report.size = n

    checkpoints = await repo.checkpoints()
    report.checkpoints = len(checkpoints)
    by_size: dict[int, list[StoredCheckpoint]] = {}
    last_size = -1
    for cp in checkpoints:
        where = f"checkpoint #{cp.id} (size {cp.size})"
        try:
            opened = note.open_note(cp.note, verifiers)
            parsed = note.Checkpoint.parse(opened.text)
        except (note.NoteError, note.CheckpointError) as exc:
            report.add(f"{where}: {type(exc).__name__}: {exc}", limit)
        else:
            if (parsed.origin, parsed.size, parsed.root) != (origin, cp.size, cp.root):
                report.add(
                    f"{where}: the signed text does not match the stored size and root", limit
                )
        if cp.size < last_size:
            report.add(
                f"{where}: smaller than the checkpoint before it ({last_size}): rolled back", limit
            )
        last_size = max(last_size, cp.size)
        if cp.size > n:
            report.add(f"{where}: signs more leaves than the {n} stored", limit)
        by_size.setdefault(cp.size, []).append(cp)

    def check_root(size: int, root: bytes) -> None:
        for cp in by_size.get(size, []):
            if cp.root != root:
                report.add(
                    f"checkpoint #{cp.id} (size {size}): signed root {cp.root.hex()} differs "
                    f"from the root recomputed from stored entries {root.hex()}",
                    limit,
                )

    frontier = Frontier()
    check_root(0, frontier.root())
    top = max(n.bit_length(), 1)
    async for rows in repo.stream_leaves(chunk):
        start = frontier.size
        completed: list[tuple[int, int, bytes]] = []
        for leaf in rows:
            if leaf.idx != frontier.size:
                report.add(f"leaves {frontier.size}..{leaf.idx - 1} are missing", limit)
                return report  # nothing after a gap can be checked
            h = merkle.leaf_hash(leaf.entry)
            if h != leaf.leaf_hash:
                report.add(
                    f"leaf {leaf.idx}: its entry does not hash to its stored leaf hash", limit
                )
            frontier.append(h, completed)
            if frontier.size in by_size:
                check_root(frontier.size, frontier.root())
        stored = await repo.nodes_completed_by(start, frontier.size, top)
        for level, idx, h in completed:
            got = stored.pop((level, idx), None)
            first, last = idx << level, ((idx + 1) << level) - 1
            if got is None:
                report.add(
                    f"node (level {level}, index {idx}) over leaves {first}..{last} is missing",
                    limit,
                )
            elif got != h:
                report.add(
                    f"node (level {level}, index {idx}): stored hash differs from the hash of "
                    f"leaves {first}..{last}",
                    limit,
                )
        report.nodes_checked += len(completed)
        for level, idx in sorted(stored):
            report.add(
                f"node (level {level}, index {idx}) is stored but not part of the tree", limit
            )

    counts = await repo.node_counts()
    for level in sorted(counts):
        extra = counts[level] - (n >> level)
        if extra > 0:
            report.add(f"{extra} stored node(s) at level {level} lie beyond the {n} leaves", limit)
    report.root = frontier.root()
    if checkpoints and checkpoints[-1].size != n:
        report.add(
            f"the last checkpoint signs {checkpoints[-1].size} leaves but {n} are stored", limit
        )
    elif not checkpoints and n:
        report.add(f"{n} leaves are stored but no checkpoint signs them", limit)
    return report
