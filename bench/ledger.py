"""Transparency log: durable batched appends, proofs from storage, verifications.

* **Appends** go through the real sequencer (``daihuo.ledger.service.Ledger``): a
  closed loop of concurrent callers (like requests in flight), each appending one
  entry and awaiting its leaf index before the next. An index is handed out only
  after its batch's transaction — leaves, new nodes and a signed checkpoint —
  committed durably (SQLite ``synchronous=FULL``; PostgreSQL's default
  ``synchronous_commit``). Baseline: plain INSERTs of the same leaf rows, same batch
  sizes, same durability, with no tree, no signature and no per-caller wake-up.
* **Proofs** are generated from storage by the service functions the API uses, at
  1 M and 10 M leaves (``--quick``: 100 k). Those trees are built by bulk insert —
  ``executemany`` in large transactions on SQLite, ``COPY`` on PostgreSQL — not
  through the sequencer, which would take hours to sign 10 M leaves one batch at a
  time. Baseline: one primary-key lookup of one stored hash on the same connection.
* **Verifications** are pure Python (``daihuo.ledger.merkle`` / ``note``). Baselines:
  the bare SHA-256 calls a proof needs, and one bare Ed25519 verification.

PostgreSQL runs when ``DAIHUO_TEST_POSTGRES_URL`` is set; otherwise its rows say
"skipped".
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import secrets
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from daihuo.core.db import Database
from daihuo.ledger import merkle, note
from daihuo.ledger.domain import Frontier, edge_keys
from daihuo.ledger.jcs import canonical_json
from daihuo.ledger.keys import KeyRing
from daihuo.ledger.repository import LedgerRepository
from daihuo.ledger.service import Ledger, build_entry, consistency_proof, inclusion_proof
from daihuo.migrate import upgrade_async

PG_ENV = "DAIHUO_TEST_POSTGRES_URL"
T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
CHUNK = 200_000  # leaves per bulk transaction
PROOFS = 2000  # proofs timed per tree
CLIENTS = 1000  # concurrent appenders


def run(quick: bool) -> list[dict[str, Any]]:
    return asyncio.run(_run(quick))


async def _run(quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    appends = 20_000 if quick else 100_000
    sizes = [100_000] if quick else [1_000_000, 10_000_000]
    tmp = Path(tempfile.mkdtemp(prefix="daihuo-bench-ledger-"))
    keyring = KeyRing("bench.daihuo/log", (note.generate_key("bench.daihuo/log")[0],))
    try:
        async with _sqlite(tmp, "appends") as url:
            rows += await _bench_appends("SQLite", url, appends, keyring)
        async with _postgres() as url:
            if url is None:
                rows.append(_skipped("durable appends/s, PostgreSQL"))
            else:
                rows += await _bench_appends("PostgreSQL", url, appends, keyring)

        verify_rows: list[dict[str, Any]] = []
        for n in sizes:
            async with _sqlite(tmp, f"tree{n}") as url:
                built = await _bulk_build(url, n, keyring)
                rows.append(built)
                rows += await _bench_proofs("SQLite", url, n, verify_rows)
        for n in sizes:
            async with _postgres() as url:
                if url is None:
                    rows.append(_skipped(f"proofs at {_count(n)} leaves, PostgreSQL"))
                    continue
                rows.append(await _bulk_build(url, n, keyring))
                rows += await _bench_proofs("PostgreSQL", url, n, None)
        rows += verify_rows
        rows += _bench_checkpoint_verify(keyring)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


# --- appends ------------------------------------------------------------------------


async def _bench_appends(
    engine: str, url: str, count: int, keyring: KeyRing
) -> list[dict[str, Any]]:
    entries = [
        build_entry("order", "ten_bench", f"ord_{i}", {"status": "paid", "total_fen": 100 + i}, T0)
        for i in range(count)
    ]
    db = Database(url)
    try:
        ledger = Ledger(db, keyring, max_batch=4096)
        await ledger.start()
        per_client = count // CLIENTS
        indices: list[int] = []

        async def client(c: int) -> None:
            for k in range(per_client):
                indices.append(await ledger.append_entry(entries[c * per_client + k]))

        started = time.perf_counter()
        await asyncio.gather(*(client(c) for c in range(CLIENTS)))
        seconds = time.perf_counter() - started
        await ledger.stop()
        count = per_client * CLIENTS
        assert sorted(indices) == list(range(count))
        async with db.engine.connect() as conn:
            cps = await LedgerRepository(conn).checkpoints()
        batch_sizes = [b.size - a.size for a, b in zip([_Zero(), *cps], cps, strict=False)]
        baseline = await _raw_inserts(db, entries[:count], batch_sizes)
    finally:
        await db.dispose()
    per_second = count / seconds
    return [
        {
            "case": f"durable appends/s, {engine}, {CLIENTS:,} concurrent callers, "
            f"{count:,} appends ({len(batch_sizes)} batches, mean "
            f"{statistics.mean(batch_sizes):.0f})",
            "value": round(per_second),
            "unit": "appends/s",
            "baseline": round(baseline),
            "ratio": round(per_second / baseline, 3),
        }
    ]


class _Zero:
    size = 0


async def _raw_inserts(db: Database, entries: list[bytes], batch_sizes: list[int]) -> float:
    """Plain INSERTs of the same leaf rows into a scratch table, same batches and durability.

    Same driver path as the sequencer's (``executemany`` of tuples), so the ratio is the
    cost of the tree, the signature and one acknowledgement per caller.
    """
    postgres = db.dialect == "postgresql"
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql(
            "CREATE TABLE bench_raw_leaves (idx BIGINT PRIMARY KEY, entry BYTEA NOT NULL, "
            "leaf_hash BYTEA NOT NULL, created_at TIMESTAMPTZ NOT NULL)"
            if postgres
            else "CREATE TABLE bench_raw_leaves (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL, "
            "leaf_hash BLOB NOT NULL, created_at DATETIME NOT NULL)"
        )
    sql = (
        "INSERT INTO bench_raw_leaves VALUES ($1, $2, $3, $4)"
        if postgres
        else "INSERT INTO bench_raw_leaves VALUES (?, ?, ?, ?)"
    )
    stamp: object = T0 if postgres else T0.strftime("%Y-%m-%d %H:%M:%S.%f")
    fake_hash = bytes(32)
    started = time.perf_counter()
    start = 0
    for size in batch_sizes:
        rows = [(i, entries[i], fake_hash, stamp) for i in range(start, start + size)]
        async with db.engine.begin() as conn:
            if not postgres:
                await conn.exec_driver_sql("PRAGMA synchronous=FULL")
            await conn.exec_driver_sql(sql, rows)
        start += size
    return len(entries) / (time.perf_counter() - started)


# --- bulk-built trees and proofs ------------------------------------------------------


def _leaf(i: int) -> bytes:
    # Canonical JSON by construction: keys in order, no spaces, ASCII digits.
    ms = i % 86_400_000
    hms = f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}"
    ts = f"2026-11-27T{hms}.{ms % 1000:03d}Z"
    return (
        f'{{"body":{{"status":"paid","total_fen":{100 + i}}},"id":"ord_{i}","kind":"order",'
        f'"tenant":"ten_bench","ts":"{ts}"}}'
    ).encode()


def _tree_chunks(
    n: int, frontier: Frontier
) -> Iterator[tuple[list[tuple[int, bytes, bytes]], list[tuple[int, int, bytes]]]]:
    for start in range(0, n, CHUNK):
        leaves: list[tuple[int, bytes, bytes]] = []
        nodes: list[tuple[int, int, bytes]] = []
        for i in range(start, min(n, start + CHUNK)):
            data = _leaf(i)
            h = merkle.leaf_hash(data)
            leaves.append((i, data, h))
            frontier.append(h, nodes)
        nodes.sort()
        yield leaves, nodes


async def _bulk_build(url: str, n: int, keyring: KeyRing) -> dict[str, Any]:
    assert canonical_json(json.loads(_leaf(12_345_678))) == _leaf(12_345_678)
    started = time.perf_counter()
    frontier = Frontier()
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        con = sqlite3.connect(path)
        con.execute("PRAGMA synchronous=OFF")
        for leaves, nodes in _tree_chunks(n, frontier):
            ts = T0.replace(tzinfo=None).isoformat(sep=" ")
            with con:
                con.executemany(
                    "INSERT INTO ledger_leaves (idx, entry, leaf_hash, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    [(i, d, h, ts) for i, d, h in leaves],
                )
                con.executemany("INSERT INTO ledger_nodes (level, idx, hash) VALUES (?,?,?)", nodes)
        con.close()
        how = "executemany, 200k leaves per transaction"
    else:
        import asyncpg

        con = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            for leaves, nodes in _tree_chunks(n, frontier):
                async with con.transaction():
                    await con.copy_records_to_table(
                        "ledger_leaves",
                        records=[(i, d, h, T0) for i, d, h in leaves],
                        columns=["idx", "entry", "leaf_hash", "created_at"],
                    )
                    await con.copy_records_to_table(
                        "ledger_nodes", records=nodes, columns=["level", "idx", "hash"]
                    )
            await con.execute("ANALYZE ledger_leaves; ANALYZE ledger_nodes")
        finally:
            await con.close()
        how = "COPY, 200k leaves per transaction"
    checkpoint = note.Checkpoint(keyring.origin, n, frontier.root())
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await LedgerRepository(conn).insert_checkpoint(
                n, checkpoint.root, keyring.sign(checkpoint), T0
            )
    finally:
        await db.dispose()
    seconds = time.perf_counter() - started
    engine = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    return {
        "case": f"bulk build of a stored tree, {_count(n)} leaves, {engine} "
        f"({how}; not the sequencer)",
        "value": round(seconds, 1),
        "unit": "s",
    }


async def _bench_proofs(
    engine: str, url: str, n: int, verify_rows: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    rng = random.Random(n)
    indices = [rng.randrange(n) for _ in range(PROOFS)]
    olds = [rng.randrange(1, n) for _ in range(PROOFS)]
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            repo = LedgerRepository(conn)
            root = (await repo.latest_checkpoint()).root  # type: ignore[union-attr]
            for i in indices[:50]:  # warm the caches the way a running server has them
                await inclusion_proof(conn, i, n)
            lookups = await _timed(lambda i: repo.hashes([(0, i)]), indices)
            incl = await _timed(lambda i: inclusion_proof(conn, i, n), indices)
            cons = await _timed(lambda m: consistency_proof(conn, m, n), olds)
            # Every proof measured must be right: check a sample against the signed root.
            leaf_hashes = await repo.hashes([(0, i) for i in indices[:200]])
            inclusion_sample = []
            for i in indices[:200]:
                proof = await inclusion_proof(conn, i, n)
                merkle.verify_inclusion(leaf_hashes[(0, i)], i, n, proof, root)
                inclusion_sample.append((leaf_hashes[(0, i)], i, proof))
            consistency_sample = []
            for m in olds[:200]:
                proof = await consistency_proof(conn, m, n)
                edge = edge_keys(m)
                stored = await repo.hashes(edge)
                old_root = merkle.join_perfect([stored[k] for k in edge])
                merkle.verify_consistency(m, n, old_root, root, proof)
                consistency_sample.append((m, old_root, proof))
    finally:
        await db.dispose()
    base = statistics.median(lookups)
    rows = []
    for name, times in (("inclusion", incl), ("consistency", cons)):
        p50, p99 = statistics.median(times), _p99(times)
        rows.append(
            {
                "case": f"{name} proof from storage, {_count(n)} leaves, {engine}, p50 "
                f"(p99 {p99 * 1000:.2f} ms)",
                "value": round(p50 * 1000, 3),
                "unit": "ms",
                "baseline": round(base * 1000, 3),
                "ratio": round(p50 / base, 2),
            }
        )
    if verify_rows is not None:
        verify_rows += _bench_verify(n, root, inclusion_sample, consistency_sample)
    return rows


async def _timed(fn: Callable[[int], Any], args: list[int]) -> list[float]:
    times = []
    for a in args:
        t = time.perf_counter()
        await fn(a)
        times.append(time.perf_counter() - t)
    return times


def _p99(times: list[float]) -> float:
    return sorted(times)[int(len(times) * 0.99) - 1]


# --- verification ---------------------------------------------------------------------


def _bench_verify(
    n: int,
    root: bytes,
    inclusion: list[tuple[bytes, int, list[bytes]]],
    consistency: list[tuple[int, bytes, list[bytes]]],
) -> list[dict[str, Any]]:
    rows = []
    rounds = 20
    hashes = sum(len(p) for _, _, p in inclusion)
    t = time.perf_counter()
    for _ in range(rounds):
        for leaf, i, proof in inclusion:
            merkle.verify_inclusion(leaf, i, n, proof, root)
    per_second = rounds * len(inclusion) / (time.perf_counter() - t)
    bare = _bare_sha256_per_second(hashes // len(inclusion))
    rows.append(
        {
            "case": f"inclusion verifications/s, {_count(n)} leaves "
            f"(baseline: the {hashes // len(inclusion)} bare SHA-256 calls one needs)",
            "value": round(per_second),
            "unit": "verifications/s",
            "baseline": round(bare),
            "ratio": round(per_second / bare, 3),
        }
    )
    hashes = sum(2 * len(p) for _, _, p in consistency)
    t = time.perf_counter()
    for _ in range(rounds):
        for m, old_root, proof in consistency:
            merkle.verify_consistency(m, n, old_root, root, proof)
    per_second = rounds * len(consistency) / (time.perf_counter() - t)
    bare = _bare_sha256_per_second(hashes // len(consistency))
    rows.append(
        {
            "case": f"consistency verifications/s, {_count(n)} leaves "
            f"(baseline: the ~{hashes // len(consistency)} bare SHA-256 calls one needs)",
            "value": round(per_second),
            "unit": "verifications/s",
            "baseline": round(bare),
            "ratio": round(per_second / bare, 3),
        }
    )
    return rows


def _bare_sha256_per_second(calls: int) -> float:
    data = b"\x01" + secrets.token_bytes(64)
    rounds = 20_000
    sha = hashlib.sha256
    t = time.perf_counter()
    for _ in range(rounds):
        for _ in range(calls):
            sha(data).digest()
    return rounds / (time.perf_counter() - t)


def _bench_checkpoint_verify(keyring: KeyRing) -> list[dict[str, Any]]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    signer = keyring.signers[0]
    cp = note.Checkpoint(keyring.origin, 10_000_000, hashlib.sha256(b"root").digest())
    signed = keyring.sign(cp)
    verifiers = [signer.verifier()]
    rounds = 5000
    t = time.perf_counter()
    for _ in range(rounds):
        note.Checkpoint.parse(note.open_note(signed, verifiers).text)
    per_second = rounds / (time.perf_counter() - t)
    message = cp.to_text().encode()
    signature = signer.sign(message)
    public = Ed25519PublicKey.from_public_bytes(signer.public_key)
    t = time.perf_counter()
    for _ in range(rounds):
        public.verify(signature, message)
    bare = rounds / (time.perf_counter() - t)
    return [
        {
            "case": "signed checkpoint verifications/s (open note + parse; baseline: bare Ed25519)",
            "value": round(per_second),
            "unit": "verifications/s",
            "baseline": round(bare),
            "ratio": round(per_second / bare, 3),
        }
    ]


# --- databases ------------------------------------------------------------------------


class _sqlite:
    def __init__(self, tmp: Path, name: str) -> None:
        self.path = tmp / f"{name}.db"

    async def __aenter__(self) -> str:
        url = f"sqlite+aiosqlite:///{self.path}"
        await upgrade_async(url)
        return url

    async def __aexit__(self, *exc: object) -> None:
        _remove_sqlite(self.path)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class _postgres:
    """A fresh migrated PostgreSQL database, dropped afterwards; None without the env var."""

    def __init__(self) -> None:
        self.admin = os.environ.get(PG_ENV) or None
        self.name = f"daihuo_bench_{secrets.token_hex(4)}"

    async def __aenter__(self) -> str | None:
        if self.admin is None:
            return None
        await self._admin(f'CREATE DATABASE "{self.name}"')
        base = self.admin.split("://", 1)[1].rsplit("/", 1)[0]
        url = f"postgresql+asyncpg://{base}/{self.name}"
        await upgrade_async(url)
        return url

    async def __aexit__(self, *exc: object) -> None:
        if self.admin is not None:
            await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    async def _admin(self, sql: str) -> None:
        import asyncpg

        assert self.admin is not None
        conn = await asyncpg.connect(self.admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


def _skipped(case: str) -> dict[str, Any]:
    return {"case": f"{case}: skipped ({PG_ENV} not set)", "value": None, "unit": ""}


def _count(n: int) -> str:
    return f"{n // 1_000_000} M" if n >= 1_000_000 else f"{n // 1000} k"
