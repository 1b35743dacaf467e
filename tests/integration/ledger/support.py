"""Helpers for the ledger tests: a running log on a test database, raw SQL that goes
around the application (tampering, rollbacks), and a server process on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from daihuo.config import Settings
from daihuo.core.db import Database
from daihuo.ledger import merkle
from daihuo.ledger.service import Ledger, build_entry

from tests.conftest import make_settings

LOG_TABLES = ("ledger_leaves", "ledger_nodes", "ledger_checkpoints")


def ledger_settings(url: str, tmp: Path, **overrides: Any) -> Settings:
    return make_settings(url, tmp / "var", **overrides)


@asynccontextmanager
async def running_ledger(settings: Settings) -> AsyncIterator[Ledger]:
    """A started sequencer on ``settings``' database; stopped and disposed afterwards."""
    db = Database(settings.database_url)
    ledger = Ledger.from_settings(db, settings)
    try:
        await ledger.start()
        yield ledger
        await ledger.stop()
    finally:
        await db.dispose()


T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def entry(i: int, **body: Any) -> bytes:
    """The same leaf bytes for the same arguments (fixed time), so tests can recompute them."""
    return build_entry(
        "order",
        "ten_a",
        f"ord_{i}",
        {"n": i, "amount_fen": 100 + i, **body},
        ts=T0 + timedelta(milliseconds=i),
    )


async def stored_leaf_hashes(url: str) -> list[bytes]:
    rows = await sql(url, "SELECT leaf_hash FROM ledger_leaves ORDER BY idx")
    return [bytes(r[0]) for r in rows]


async def sql(url: str, statement: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Run raw SQL in its own committed transaction, as an intruder with DB access would."""
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            result = await conn.execute(text(statement), params or {})
            return list(result.all()) if result.returns_rows else []
    finally:
        await db.dispose()


async def drop_append_only_triggers(url: str) -> None:
    """What an attacker with schema rights would do first."""
    postgres = url.startswith("postgresql")
    for table in LOG_TABLES:
        for event in ("update", "delete") + (("truncate",) if postgres else ()):
            suffix = f" ON {table}" if postgres else ""
            await sql(url, f"DROP TRIGGER {table}_no_{event}{suffix}")


async def roll_back_to(url: str, size: int) -> None:
    """Remove every leaf, node and checkpoint beyond ``size`` leaves (triggers dropped first)."""
    await drop_append_only_triggers(url)
    await sql(url, "DELETE FROM ledger_leaves WHERE idx >= :n", {"n": size})
    await sql(url, "DELETE FROM ledger_nodes WHERE (idx + 1) * (1 << level) > :n", {"n": size})
    await sql(url, "DELETE FROM ledger_checkpoints WHERE size > :n", {"n": size})


def check_root(leaf_hashes: Sequence[bytes], size: int, root: bytes) -> None:
    assert merkle.root(leaf_hashes[:size]) == root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server_process(settings: Settings, tmp: Path) -> Iterator[str]:
    """``daihuo serve`` in a child process on 127.0.0.1 and a free port; yields its URL."""
    port = free_port()
    env = {
        **os.environ,
        "DAIHUO_DATABASE_URL": settings.database_url,
        "DAIHUO_DATA_DIR": str(settings.data_dir),
        "DAIHUO_LOG_LEVEL": "WARNING",
        "DAIHUO_LOG_FORMAT": "text",
    }
    log_path = tmp / f"server-{port}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daihuo", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def daihuo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The ``daihuo`` command in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "daihuo", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250", **(env or {})},
        timeout=120,
    )


def settings_env(settings: Settings) -> dict[str, str]:
    return {
        "DAIHUO_DATABASE_URL": settings.database_url,
        "DAIHUO_DATA_DIR": str(settings.data_dir),
    }
