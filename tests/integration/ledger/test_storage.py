"""Log storage on SQLite and PostgreSQL: batches, proofs from stored hashes, the
database's refusal to rewrite history, and fsck finding what was rewritten anyway."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from daihuo.core.db import Database, commit
from daihuo.ledger import merkle, note
from daihuo.ledger.domain import make_entry, proof_keys
from daihuo.ledger.errors import LedgerEntryInvalid, LedgerHalted, LedgerUnavailable
from daihuo.ledger.keys import load_keyring
from daihuo.ledger.models import LedgerLeaf
from daihuo.ledger.repository import LedgerRepository
from daihuo.ledger.service import (
    append,
    append_after_commit,
    consistency_proof,
    fsck,
    fsck_database,
    inclusion_proof,
)

from tests.conftest import DatabaseFactory, require_backend
from tests.integration.ledger.support import (
    LOG_TABLES,
    drop_append_only_triggers,
    entry,
    ledger_settings,
    running_ledger,
    sql,
    stored_leaf_hashes,
)

DB_EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def checkpoints(url: str) -> list[tuple[int, bytes, str]]:
    rows = await sql(url, "SELECT size, root, note FROM ledger_checkpoints ORDER BY id")
    return [(int(r[0]), bytes(r[1]), str(r[2])) for r in rows]


async def test_each_batch_commits_together_and_signs_the_root_of_the_pure_tree(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    batches = [1, 5, 2, 16, 3]
    got: list[int] = []
    n = 0
    async with running_ledger(ledger_settings(url, tmp_path)) as ledger:
        for size in batches:
            got += await ledger.append_entries([entry(n + i) for i in range(size)])
            n += size
    assert got == list(range(n))
    hashes = await stored_leaf_hashes(url)
    assert hashes == [merkle.leaf_hash(entry(i)) for i in range(n)]
    # One checkpoint per batch, at the cumulative sizes, over the RFC 9162 root.
    sizes = [sum(batches[: i + 1]) for i in range(len(batches))]
    assert [size for size, _, _ in await checkpoints(url)] == sizes
    for size, root, _ in await checkpoints(url):
        assert root == merkle.root(hashes[:size])


async def test_concurrent_callers_are_batched_and_each_gets_its_own_index(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    async with running_ledger(ledger_settings(url, tmp_path, ledger_max_batch=64)) as ledger:
        indices = await asyncio.gather(*(ledger.append_entry(entry(i)) for i in range(500)))
    assert sorted(indices) == list(range(500))
    hashes = await stored_leaf_hashes(url)
    for i, index in enumerate(indices):
        assert hashes[index] == merkle.leaf_hash(entry(i))
    cps = await checkpoints(url)
    assert len(cps) < 500, "callers waiting together share a commit"
    assert all(b - a <= 64 for (a, _, _), (b, _, _) in itertools.pairwise(cps))
    assert cps[-1][0] == 500 and cps[-1][1] == merkle.root(hashes)


@DB_EXAMPLES
@given(batches=st.lists(st.integers(min_value=1, max_value=13), min_size=1, max_size=6))
async def test_every_proof_from_storage_is_byte_for_byte_the_pure_proof_and_verifies(
    databases: DatabaseFactory, tmp_path: Path, batches: list[int]
) -> None:
    url = await databases.new()
    n = 0
    async with running_ledger(ledger_settings(url, tmp_path)) as ledger:
        for size in batches:
            await ledger.append_entries([entry(n + i) for i in range(size)])
            n += size
    hashes = await stored_leaf_hashes(url)
    signed = await checkpoints(url)
    db = Database(url)
    try:
        async with db.session() as session:
            for size, root, _ in signed:
                for index in range(size):
                    proof = await inclusion_proof(session, index, size)
                    assert proof == merkle.inclusion_proof(hashes, index, size)
                    assert merkle.verify_inclusion(hashes[index], index, size, proof, root)
            for old, old_root, _ in signed:
                for new, new_root, _ in signed:
                    if old > new:
                        continue
                    proof = await consistency_proof(session, old, new)
                    assert proof == merkle.consistency_proof(hashes, old, new)
                    assert merkle.verify_consistency(old, new, old_root, new_root, proof)
            # And every size in between, not only the signed ones.
            for old in range(1, n + 1):
                proof = await consistency_proof(session, old, n)
                assert proof == merkle.consistency_proof(hashes, old, n)
    finally:
        await db.dispose()


async def test_a_proof_reads_only_its_own_log_n_hashes_never_the_tree(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    """With every other row of the tree deleted, the proofs come out the same."""
    url = await databases.new()
    n, index, old = 1000, 377, 613
    async with running_ledger(ledger_settings(url, tmp_path, ledger_max_batch=300)) as ledger:
        await ledger.append_entries([entry(i) for i in range(n)])
    hashes = await stored_leaf_hashes(url)
    expected_inclusion = merkle.inclusion_proof(hashes, index, n)
    expected_consistency = merkle.consistency_proof(hashes, old, n)
    keep = {
        key
        for ranges in (merkle.inclusion_ranges(index, n), merkle.consistency_ranges(old, n))
        for group in proof_keys(ranges)
        for key in group
    }
    assert len(keep) <= 4 * n.bit_length()
    await drop_append_only_triggers(url)
    leaves = [i for level, i in keep if level == 0] or [-1]
    await sql(url, f"DELETE FROM ledger_leaves WHERE idx NOT IN ({','.join(map(str, leaves))})")
    kept = " OR ".join(f"(level = {lv} AND idx = {i})" for lv, i in keep if lv > 0) or "1 = 0"
    await sql(url, f"DELETE FROM ledger_nodes WHERE NOT ({kept})")
    remaining = await sql(url, "SELECT count(*) FROM ledger_nodes")
    assert int(remaining[0][0]) == len([k for k in keep if k[0] > 0])
    db = Database(url)
    try:
        async with db.session() as session:
            assert await inclusion_proof(session, index, n) == expected_inclusion
            assert await consistency_proof(session, old, n) == expected_consistency
    finally:
        await db.dispose()


@pytest.mark.parametrize("table", LOG_TABLES)
async def test_the_database_refuses_to_update_or_delete_log_rows(
    databases: DatabaseFactory, tmp_path: Path, table: str
) -> None:
    url = await databases.new()
    async with running_ledger(ledger_settings(url, tmp_path)) as ledger:
        await ledger.append_entries([entry(i) for i in range(4)])
    column = {"ledger_leaves": "entry", "ledger_nodes": "hash", "ledger_checkpoints": "root"}[table]
    before = await sql(url, f"SELECT * FROM {table} ORDER BY 1, 2")
    with pytest.raises(IntegrityError, match="append-only"):
        await sql(url, f"UPDATE {table} SET {column} = :v", {"v": b"\x00" * 32})
    with pytest.raises(IntegrityError, match="append-only"):
        await sql(url, f"DELETE FROM {table}")
    if url.startswith("postgresql"):
        with pytest.raises(IntegrityError, match="append-only"):
            await sql(url, f"TRUNCATE {table}")
    assert await sql(url, f"SELECT * FROM {table} ORDER BY 1, 2") == before


async def _fsck(url: str, tmp_path: Path) -> list[str]:
    settings = ledger_settings(url, tmp_path)
    keyring = load_keyring(settings)
    db = Database(url)
    try:
        report = await fsck_database(db, keyring.published, keyring.origin)
    finally:
        await db.dispose()
    return report.problems


async def test_fsck_passes_a_clean_log_and_recomputes_its_root(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    settings = ledger_settings(url, tmp_path, ledger_max_batch=7)
    async with running_ledger(settings) as ledger:
        await ledger.append_entries([entry(i) for i in range(100)])
    keyring = load_keyring(settings)
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            report = await fsck(conn, keyring.published, keyring.origin, chunk=16)
    finally:
        await db.dispose()
    assert report.ok, report.problems
    assert report.size == 100 and report.checkpoints == 15
    assert report.root == merkle.root([merkle.leaf_hash(entry(i)) for i in range(100)])
    assert report.nodes_checked == sum(100 >> level for level in range(1, 8))


async def test_fsck_names_a_rewritten_entry_and_the_checkpoints_it_breaks(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    async with running_ledger(ledger_settings(url, tmp_path)) as ledger:
        await ledger.append_entries([entry(i) for i in range(6)])
        await ledger.append_entries([entry(i) for i in range(6, 9)])
    await drop_append_only_triggers(url)
    forged = entry(3, amount_fen=1)
    await sql(url, "UPDATE ledger_leaves SET entry = :e WHERE idx = 3", {"e": forged})
    problems = await _fsck(url, tmp_path)
    assert problems[0] == "leaf 3: its entry does not hash to its stored leaf hash"
    assert any(p.startswith("checkpoint #1 (size 6): signed root") for p in problems)
    assert any(p.startswith("checkpoint #2 (size 9): signed root") for p in problems)


async def test_fsck_names_a_rewritten_leaf_whose_hash_was_rewritten_too(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    async with running_ledger(ledger_settings(url, tmp_path)) as ledger:
        await ledger.append_entries([entry(i) for i in range(8)])
    await drop_append_only_triggers(url)
    forged = entry(5, amount_fen=1)
    await sql(
        url,
        "UPDATE ledger_leaves SET entry = :e, leaf_hash = :h WHERE idx = 5",
        {"e": forged, "h": merkle.leaf_hash(forged)},
    )
    problems = await _fsck(url, tmp_path)
    assert "node (level 1, index 2): stored hash differs from the hash of leaves 4..5" in problems
    assert "node (level 3, index 0): stored hash differs from the hash of leaves 0..7" in problems
    assert any(p.startswith("checkpoint #1 (size 8): signed root") for p in problems)


async def test_fsck_names_deleted_leaves_and_a_rolled_back_checkpoint(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    async with running_ledger(ledger_settings(url, tmp_path)) as ledger:
        await ledger.append_entries([entry(i) for i in range(5)])
        await ledger.append_entries([entry(i) for i in range(5, 9)])
    await drop_append_only_triggers(url)
    await sql(url, "DELETE FROM ledger_leaves WHERE idx >= 6")
    problems = await _fsck(url, tmp_path)
    assert "checkpoint #2 (size 9): signs more leaves than the 6 stored" in problems
    assert "the last checkpoint signs 9 leaves but 6 are stored" in problems


async def test_the_sequencer_halts_instead_of_signing_over_rewritten_storage(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    settings = ledger_settings(url, tmp_path)
    async with running_ledger(settings) as ledger:
        await ledger.append_entries([entry(i) for i in range(6)])
        await drop_append_only_triggers(url)
        # Rewrite the stored subtree over leaves 0..3, part of the next consistency proof.
        await sql(url, "UPDATE ledger_nodes SET hash = :h WHERE level = 2", {"h": b"\x07" * 32})
        with pytest.raises(LedgerHalted, match="does not extend the signed size 6"):
            await ledger.append_entries([entry(6)])
        with pytest.raises(LedgerHalted):
            await ledger.append_entry(entry(7))
    assert [size for size, _, _ in await checkpoints(url)] == [6]
    assert len(await stored_leaf_hashes(url)) == 6, "the refused batch rolled back"
    # A restart notices too: the stored right edge no longer gives the signed root.
    async with running_ledger(settings) as ledger:
        assert ledger.halted == "the stored tree's root differs from the last checkpoint's"


async def test_two_sequencers_on_one_database_never_fork_the_tree(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    """A second app process collides on the leaf index, reloads, and appends after."""
    url = await databases.new()
    settings = ledger_settings(url, tmp_path)
    async with running_ledger(settings) as first, running_ledger(settings) as second:
        await first.append_entries([entry(i) for i in range(3)])
        got = await second.append_entries([entry(i) for i in range(3, 5)])
        assert got == [3, 4]
        assert await first.append_entry(entry(5)) == 5
    hashes = await stored_leaf_hashes(url)
    assert hashes == [merkle.leaf_hash(entry(i)) for i in range(6)]
    assert not await _fsck(url, tmp_path)


async def test_append_by_database_returns_the_durable_leaf_index(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    async with running_ledger(ledger_settings(url, tmp_path)) as ledger:
        body = {"status": "paid", "total_fen": 12900, "note": "直播间下单"}
        index = await append(ledger.db, "order", "ten_a", "ord_1", body)
        second = await append(ledger.db, "settlement", "ten_a", "stl_1", {"order": "ord_1"})
    assert (index, second) == (0, 1)
    rows = await sql(url, "SELECT entry FROM ledger_leaves ORDER BY idx")
    stored = bytes(rows[0][0])
    ts = stored.split(b'"ts":"', 1)[1][:24].decode()
    assert ts.endswith("Z") and len(ts) == 24
    when = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    assert stored == make_entry("order", "ten_a", "ord_1", body, when)
    # The sequencer's fast insert path stores times the ORM reads back as aware UTC.
    db = Database(url)
    try:
        async with db.session() as session:
            leaf = (
                await session.execute(select(LedgerLeaf).where(LedgerLeaf.idx == 0))
            ).scalar_one()
    finally:
        await db.dispose()
    assert leaf.created_at.tzinfo is not None
    assert abs(leaf.created_at - when) < timedelta(seconds=30)


async def test_append_after_commit_lands_only_when_the_business_transaction_commits(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    seen: list[int] = []

    async def remember(index: int) -> None:
        seen.append(index)

    async with running_ledger(ledger_settings(url, tmp_path)) as ledger:
        async with ledger.db.session(all_tenants=True) as session:
            append_after_commit(session, "order", "ten_a", "ord_rolled", {"n": 1}, then=remember)
            await session.rollback()
        async with ledger.db.session(all_tenants=True) as session:
            append_after_commit(session, "order", "ten_a", "ord_kept", {"n": 2}, then=remember)
            assert seen == []
            await commit(session)
        assert seen == [0]
        async with ledger.db.session(all_tenants=True) as session:
            await session.connection()  # inside a transaction now
            with pytest.raises(RuntimeError, match="append_after_commit"):
                await append(session, "order", "ten_a", "ord_x", {})
    rows = await sql(url, "SELECT entry FROM ledger_leaves")
    assert len(rows) == 1 and b'"id":"ord_kept"' in bytes(rows[0][0])


async def test_entries_the_log_cannot_hold_are_refused_before_queueing(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    async with running_ledger(ledger_settings(url, tmp_path)) as ledger:
        with pytest.raises(LedgerEntryInvalid, match="kind 'invoice'"):
            await ledger.append("invoice", "ten_a", "x", {})
        with pytest.raises(LedgerEntryInvalid, match="tenant"):
            await ledger.append("order", "", "x", {})
        with pytest.raises(LedgerEntryInvalid, match="I-JSON"):
            await ledger.append("order", "ten_a", "x", {"too_big": 2**60})
        with pytest.raises(LedgerEntryInvalid, match="I-JSON"):
            await ledger.append("order", "ten_a", "x", {"nan": float("nan")})
    assert await stored_leaf_hashes(url) == []


async def test_appending_without_a_running_sequencer_is_refused(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    db = Database(url)
    try:
        with pytest.raises(LedgerUnavailable):
            await append(db, "order", "ten_a", "ord_1", {})
    finally:
        await db.dispose()


async def test_checkpoints_stored_by_the_sequencer_open_with_the_published_keys(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = await databases.new()
    settings = ledger_settings(url, tmp_path)
    async with running_ledger(settings) as ledger:
        await ledger.append_entries([entry(i) for i in range(3)])
    db = Database(url)
    try:
        async with db.session() as session:
            latest = await LedgerRepository(session).latest_checkpoint()
    finally:
        await db.dispose()
    assert latest is not None
    opened = note.open_note(latest.note, load_keyring(settings).published)
    assert note.Checkpoint.parse(opened.text).size == 3


@pytest.fixture
def pg_only(tmp_path: Path) -> Iterator[DatabaseFactory]:
    require_backend("postgres")
    factory = DatabaseFactory("postgres", tmp_path)
    yield factory
    factory.cleanup()


@pytest.mark.postgres
async def test_the_sequencer_reconnects_when_the_database_drops_its_connection(
    pg_only: DatabaseFactory, tmp_path: Path
) -> None:
    url = await pg_only.new()
    async with running_ledger(ledger_settings(url, tmp_path)) as ledger:
        assert await ledger.append_entry(entry(0)) == 0
        # What a server restart or an idle timeout does to the sequencer's connection.
        await sql(
            url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()",
            {"name": url.rsplit("/", 1)[1]},
        )
        assert await ledger.append_entry(entry(1)) == 1
        assert ledger.halted is None
    assert await stored_leaf_hashes(url) == [merkle.leaf_hash(entry(i)) for i in range(2)]
