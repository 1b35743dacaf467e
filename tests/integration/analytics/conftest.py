"""Fixtures of the event-store tests: the same test on every engine (see engines.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.analytics.engines import ENGINES, store_url


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def scratch_url(engine: str) -> Iterator[str]:
    """An empty scratch store of the engine under test."""
    with store_url(engine) as url:
        yield url
