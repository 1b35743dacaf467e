"""Shared test infrastructure: real databases, parametrised by backend.

``backend`` runs a test on the embedded default (SQLite) and on PostgreSQL. PostgreSQL
tests read ``DAIHUO_TEST_POSTGRES_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``)
and skip with a visible reason when it is unset; ``.ci/run`` always sets it. Every test
gets its own database (a copied SQLite file or a PostgreSQL ``CREATE DATABASE … TEMPLATE``)
and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from daihuo.app import create_app
from daihuo.config import Settings

PG_ENV = "DAIHUO_TEST_POSTGRES_URL"
REDIS_ENV = "DAIHUO_TEST_REDIS_URL"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_configure(config: pytest.Config) -> None:
    # The servers the tests start (in this process or as subprocesses, which inherit the
    # environment) do not train the triage model at start-up; a test that comments
    # trains it on first use, as before. tests/unit/assistant covers the warm-up itself.
    os.environ.setdefault("DAIHUO_ASSISTANT_WARM_UP", "0")
    # CI must never skip the real-engine tests silently: .ci/run sets both variables.
    if os.environ.get("CI") and not (os.environ.get(PG_ENV) and os.environ.get(REDIS_ENV)):
        raise pytest.UsageError(f"CI is set but {PG_ENV} or {REDIS_ENV} is not; run .ci/run")


def pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _pg_dsn(url: str, database: str) -> str:
    base = url.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql://{base}/{database}"


def pg_async_url(database: str) -> str:
    admin = pg_admin_url()
    assert admin is not None
    return _pg_dsn(admin, database).replace("postgresql://", "postgresql+asyncpg://", 1)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    admin = pg_admin_url()
    assert admin is not None
    conn = await asyncpg.connect(_pg_dsn(admin, admin.rsplit("/", 1)[1] or "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def pg_create(name: str, template: str | None = None) -> None:
    suffix = f" TEMPLATE {template}" if template else ""
    await _pg_admin(f'CREATE DATABASE "{name}"{suffix}')


def pg_drop(name: str) -> None:
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def require_backend(backend: str) -> None:
    if backend == "postgres" and not pg_admin_url():
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test server: cheap password hashing, no secure-cookie requirement."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "password_time_cost": 1,
        "password_memory_kib": 64,
        "password_parallelism": 1,
        "cookie_secure": False,
        "log_format": "text",
    }
    values.update(overrides)
    return Settings(**values)


# One migrated database per backend per test run, copied for every test that wants a fresh
# one: copying costs ~0.3 ms on SQLite and ~0.25 s on PostgreSQL against ~0.2 s / ~0.6 s
# for running the migrations again.
_MIGRATED: dict[str, str] = {}
# SQLite test databases live in memory (tmpfs) where there is one: the app commits with
# synchronous=FULL, and an fsync per commit on disk would double the suite's time for
# nothing a test checks (tests do not cut the power).
_SHM = Path("/dev/shm")  # noqa: S108 - mkdtemp below makes a private directory in it
_SQLITE_DIR = Path(
    tempfile.mkdtemp(prefix="daihuo-sqlite-", dir=_SHM if os.access(_SHM, os.W_OK) else None)
)
_TEMPLATE_DIR = _SQLITE_DIR / "templates"
_TEMPLATE_DIR.mkdir()
_PG_TEMPLATES: list[str] = []


async def _migrated_template(backend: str) -> str:
    from daihuo.migrate import upgrade_async

    if backend not in _MIGRATED:
        name = f"daihuo_tmpl_{secrets.token_hex(6)}"
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{_TEMPLATE_DIR / name}.db"
        else:
            await pg_create(name)
            _PG_TEMPLATES.append(name)
            url = pg_async_url(name)
        await upgrade_async(url)
        _MIGRATED[backend] = url
    return _MIGRATED[backend]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for name in _PG_TEMPLATES:
        pg_drop(name)
    shutil.rmtree(_SQLITE_DIR, ignore_errors=True)


class DatabaseFactory:
    """Makes fresh migrated databases for one backend, optionally from a template."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.tmp = tmp
        self._made: list[str] = []
        self._files: list[Path] = []

    async def new(self, *, template: str | None = None) -> str:
        """A database URL: a copy of ``template`` (a URL), else of a freshly migrated one."""
        if template is None:
            template = await _migrated_template(self.backend)
        name = f"daihuo_t_{secrets.token_hex(6)}"
        if self.backend == "sqlite":
            path = _SQLITE_DIR / f"{name}.db"
            self._files.append(path)
            url = f"sqlite+aiosqlite:///{path}"
            shutil.copyfile(template.split(":///", 1)[1], path)
            return url
        await pg_create(name, template.rsplit("/", 1)[1])
        self._made.append(name)
        return pg_async_url(name)

    def cleanup(self) -> None:
        for name in reversed(self._made):
            pg_drop(name)
        for path in self._files:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    require_backend(name)
    return name


@pytest.fixture
def databases(backend: str, tmp_path: Path) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(backend, tmp_path)
    yield factory
    factory.cleanup()


@pytest.fixture
async def database_url(databases: DatabaseFactory) -> str:
    return await databases.new()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(settings) as c:
        yield c


class client_for:
    """``async with client_for(settings) as client``: a running app behind httpx."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self._lifespan: Any = None

    async def __aenter__(self) -> httpx.AsyncClient:
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=("203.0.113.7", 5555)),
            base_url="http://testserver",
        )
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()
        await self._lifespan.__aexit__(*exc)
