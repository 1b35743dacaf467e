"""The event store's engines for parametrised tests: DuckDB, chDB and a ClickHouse server.

``engine`` (a fixture of this folder's conftest) runs a test on each. The server tests
read ``DAIHUO_TEST_CLICKHOUSE_URL`` (``clickhouse://user:password@host:8123/default``)
and skip with a visible reason when it is unset; each test gets a database of its own on
that server, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

CLICKHOUSE_ENV = "DAIHUO_TEST_CLICKHOUSE_URL"
ENGINES = ["duckdb", "chdb", pytest.param("clickhouse", marks=pytest.mark.clickhouse)]


def server_url() -> str:
    url = os.environ.get(CLICKHOUSE_ENV, "")
    if not url:
        pytest.skip(f"ClickHouse server tests need {CLICKHOUSE_ENV} (no server configured)")
    return url


@contextmanager
def server_database() -> Iterator[str]:
    """A fresh database on the test server; its URL, then dropped."""
    import clickhouse_connect

    url = server_url()
    parts = urlsplit(url)
    name = f"daihuo_test_{uuid.uuid4().hex[:12]}"
    client = clickhouse_connect.get_client(
        host=parts.hostname,
        port=parts.port or (8443 if parts.scheme == "clickhouses" else 8123),
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        secure=parts.scheme == "clickhouses",
    )
    client.command(f"CREATE DATABASE {name}")
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        client.command(f"DROP DATABASE IF EXISTS {name} SYNC")
        client.close()


@contextmanager
def store_url(engine: str, folder: Path | None = None) -> Iterator[str]:
    """The URL of an empty store of ``engine``: scratch, or kept under ``folder``."""
    if engine == "duckdb":
        yield "duckdb:///:memory:" if folder is None else f"duckdb:///{folder / 'w.duckdb'}"
    elif engine == "chdb":
        yield "chdb:///:memory:" if folder is None else f"chdb:///{folder / 'w.chdb'}"
    else:
        with server_database() as url:
            yield url
