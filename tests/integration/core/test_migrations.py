"""Migrations on SQLite and PostgreSQL: up, down to nothing, up again, and no drift
between the models and what the migrations build."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from daihuo.core.db import make_engine
from daihuo.migrate import alembic_config, current_heads
from daihuo.models import metadata

from tests.conftest import DatabaseFactory


async def _run(url: str, fn):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(ctx, metadata))


def _downgrade_base(url: str):  # type: ignore[no-untyped-def]
    from alembic import command

    def run(conn: Connection) -> None:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")

    return run


async def test_upgrade_builds_exactly_the_models(databases: DatabaseFactory) -> None:
    url = await databases.new()
    assert await _run(url, _tables) == set(metadata.tables)
    assert await _run(url, _diff) == [], "a model changed without a migration"


async def test_downgrade_to_base_and_up_again(databases: DatabaseFactory) -> None:
    from daihuo.migrate import upgrade_async

    url = await databases.new()
    await _run(url, _downgrade_base(url))
    assert await _run(url, _tables) == set()
    await upgrade_async(url)
    assert await _run(url, _tables) == set(metadata.tables)


def test_there_is_one_head() -> None:
    assert len(current_heads()) == 1
