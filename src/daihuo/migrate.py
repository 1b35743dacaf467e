"""Run Alembic migrations from code (``daihuo db upgrade``, tests, the demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import daihuo

MIGRATIONS = Path(daihuo.__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_heads() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """Upgrade from inside a running event loop (tests, the demo's async start-up)."""
    from sqlalchemy.engine import Connection

    from daihuo.core.db import make_engine

    def run(connection: Connection) -> None:
        cfg = alembic_config(database_url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await engine.dispose()
