"""One writing request at a time per process on SQLite.

SQLite has a single writer; concurrent write transactions wait in its busy handler,
which sleeps and retries. Under load (dozens of buyers at once) a waiter can lose the
race again and again until ``busy_timeout`` (10 s) runs out and the request fails with
"database is locked". Queuing the commerce write requests of a process on one asyncio
lock instead makes the wait first-come first-served and bounded only by the queue,
and leaves the busy handler to arbitrate between processes only. On PostgreSQL the
gate is open: row locks do this job.

Used by the order, payment, sandbox and settlement write paths; any module whose writes
can meet others' under load should queue on it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

from fastapi import Request

from daihuo.core.db import Database

_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def write_gate(db: Database) -> AbstractAsyncContextManager[object]:
    """``async with write_gate(db):`` around a whole write transaction (SQLite only)."""
    if db.dialect != "sqlite":
        return contextlib.nullcontext()
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


async def gated(request: Request) -> AsyncIterator[None]:
    """Dependency: hold the write gate for the request (its commit included)."""
    async with write_gate(request.app.state.db):
        yield
