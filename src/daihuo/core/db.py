"""The OLTP database: engine, sessions, tenant scoping and after-commit hooks.

Tenant scoping lives here, in one place, and not in each query:

* every model that holds tenant data mixes in :class:`TenantScoped`;
* a session opened for a tenant (``session.info["tenant_id"]``) gets a global
  ``WHERE tenant_id = :tenant`` on every ORM SELECT, UPDATE and DELETE of such
  models (SQLAlchemy's ``with_loader_criteria``), and every new row it flushes is
  stamped with that tenant — a row of another tenant cannot be read, changed or
  created through it;
* a session without a tenant sees nothing of tenant data unless it was opened
  with ``session.info["all_tenants"] = True`` (platform operators, the CLI and
  background jobs), so forgetting to scope fails closed.

Services only ``flush()``; the edge commits with :func:`commit`, which runs the
after-commit hooks (broadcasts, analytics events, ledger appends) only once the
transaction is durable, so a rollback never leaks a message.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, MetaData, String, event, false
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

log = logging.getLogger("daihuo.core.db")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every engine (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class TenantScoped:
    """Mixin for rows that belong to one tenant; scoped automatically (see module doc)."""

    tenant_id: Mapped[str] = mapped_column(String(40), index=True)


class TenantScopeError(RuntimeError):
    """A write tried to cross the session's tenant boundary: a bug, never user input."""


def _scope_of(session: Session) -> tuple[str | None, bool]:
    return session.info.get("tenant_id"), bool(session.info.get("all_tenants"))


@event.listens_for(Session, "do_orm_execute")
def _scope_orm_execute(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("_daihuo_skip_scope"):
        return
    tenant_id, all_tenants = _scope_of(state.session)
    if all_tenants:
        return
    if tenant_id is None:
        criteria: Callable[[Any], Any] = lambda cls: false()  # noqa: E731 - fail closed
    else:
        criteria = lambda cls: cls.tenant_id == tenant_id  # noqa: E731
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, criteria, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, _ctx: Any, _instances: Any) -> None:
    tenant_id, all_tenants = _scope_of(session)
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        current = obj.__dict__.get("tenant_id")
        if all_tenants:
            if current is None:
                raise TenantScopeError(f"{type(obj).__name__} has no tenant_id")
            continue
        if tenant_id is None:
            raise TenantScopeError(f"{type(obj).__name__} written outside a tenant scope")
        if current is None:
            obj.tenant_id = tenant_id
        elif current != tenant_id:
            raise TenantScopeError(f"{type(obj).__name__} belongs to another tenant")


# Execution option for the few deliberate cross-tenant reads (authentication has to
# find a credential before it knows the tenant). Grep for it to audit them.
UNSCOPED = {"_daihuo_skip_scope": True}


def scope_session(
    session: AsyncSession, tenant_id: str | None, *, all_tenants: bool = False
) -> None:
    """Bind a session to one tenant (or, deliberately, to all of them)."""
    session.info["tenant_id"] = tenant_id
    session.info["all_tenants"] = all_tenants


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run ``hook`` once the current transaction commits; dropped on rollback."""
    session.info.setdefault("after_commit", []).append(hook)


async def commit(session: AsyncSession) -> None:
    """Commit, then run the after-commit hooks in order."""
    await session.commit()
    await run_after_commit(session)


async def run_after_commit(session: AsyncSession, *, log_failures: bool = False) -> None:
    """Run (and forget) the hooks of a transaction that has just committed, in order.

    A failing hook raises to the caller, or with ``log_failures`` is logged and the next
    one runs: what committed stays committed either way."""
    hooks: list[AfterCommit] = session.info.pop("after_commit", [])
    for hook in hooks:
        if not log_failures:
            await hook()
            continue
        try:
            await hook()
        except Exception:
            log.exception("after-commit hook failed")


async def commit_then(session: AsyncSession, act: Coroutine[Any, Any, None]) -> None:
    """Commit, then carry out ``act`` (a broadcast, say) — never before: a rollback must
    not leave in the room an act that the database has no record of."""

    async def hook() -> None:
        await act

    after_commit(session, hook)
    try:
        await commit(session)
    except BaseException:
        act.close()  # never awaited: say so to Python
        raise


async def rollback(session: AsyncSession) -> None:
    session.info.pop("after_commit", None)
    await session.rollback()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before it returns, so an accepted order survives a power
    # cut too (NORMAL in WAL mode survives a process crash but not an OS crash).
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Pooled: opening a connection costs a thread and four pragmas, which at
            # hundreds of requests a second is most of a small request's time.
            engine = create_async_engine(url, echo=echo, pool_size=8, max_overflow=56)
        else:
            engine = create_async_engine(url, echo=echo, poolclass=NullPool)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(
        self, *, tenant_id: str | None = None, all_tenants: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A session that rolls back unless the caller committed."""
        async with self.sessionmaker() as session:
            scope_session(session, tenant_id, all_tenants=all_tenants)
            try:
                yield session
            except BaseException:
                await rollback(session)
                raise

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
