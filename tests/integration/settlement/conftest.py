"""Fixtures of the settlement tests: the database and the parties (see ``parties``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from daihuo.config import Settings
from daihuo.core.db import Database

from tests.integration.settlement.parties import Parties, create_parties


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def parties(client: httpx.AsyncClient, db: Database) -> Parties:
    return await create_parties(client, db)
