"""Commerce tests run with a known webhook secret and a fast sandbox callback loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from daihuo.config import Settings

from tests.conftest import make_settings
from tests.integration.orders.shop import FAST


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, **FAST)
