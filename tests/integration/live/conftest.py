"""The live-room tests' fixtures: the bus (in memory or a fresh prefix of the test
Redis), a SQLite database, and a real server with an HTTP client (:class:`Env`)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REDIS_ENV, DatabaseFactory, make_settings
from tests.integration.live.rooms import FAST_ROOM, Env, ThreadServer, flush_prefix

BUSES = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(params=BUSES)
def bus(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Settings for the bus: nothing (in memory) or the test Redis with a fresh prefix,
    whose keys are deleted afterwards (never anything else in the database)."""
    if request.param == "memory":
        yield {}
        return
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"Redis tests need {REDIS_ENV}")
    prefix = f"daihuo-test-{secrets.token_hex(4)}:"
    yield {"redis_url": url, "redis_prefix": prefix}
    flush_prefix(url, prefix)


@pytest.fixture
async def room_db(tmp_path: Path) -> AsyncIterator[str]:
    # The room keeps no rows of its own: SQLite is enough (the lifecycle tests run both).
    factory = DatabaseFactory("sqlite", tmp_path)
    yield await factory.new()
    factory.cleanup()


@pytest.fixture
def room_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
async def env(
    bus: dict[str, Any], room_db: str, tmp_path: Path, room_settings: dict[str, Any]
) -> AsyncIterator[Env]:
    settings = make_settings(room_db, tmp_path, **{**FAST_ROOM, **bus, **room_settings})
    with ThreadServer(settings) as server:
        async with httpx.AsyncClient(base_url=server.http, timeout=10) as http:
            yield Env(server, http, room_db)
