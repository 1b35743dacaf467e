"""A short-lived in-process cache of authenticated principals.

Every API call used to read its caller from the database: the token, the user and the
user's memberships, three ORM queries that cost more CPU than many handlers' own work
(``bench/http_floor.py``). A principal is a pure function of rows that change rarely
(tokens, users, memberships, tenants, API keys), so it is kept for a few seconds.

Two rules keep it honest:

* **In this process a change is seen at once.** Any committed flush or ORM
  ``insert``/``update``/``delete`` statement that touched one of those tables bumps a
  process-wide generation (SQLAlchemy session events, so no code path can forget it),
  and an entry of an older generation is never served. A lookup that read the
  database before such a commit does not store what it read.
* **Across processes** an entry lives at most ``ttl`` seconds
  (``DAIHUO_AUTH_CACHE_SECONDS``, default 5; 0 turns the cache off): a token revoked on
  one process is refused by the others within that time.

Expiry is checked on every hit against the token's own ``expires_at``, so a cached
token never outlives its expiry.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from daihuo.tenancy.domain import Principal
from daihuo.tenancy.models import ApiKey, AuthToken, Membership, Tenant, User

_WATCHED = (AuthToken, Membership, User, Tenant, ApiKey)
_DIRTY = "daihuo.auth_dirty"
_lock = threading.Lock()
_generation = 0


def generation() -> int:
    return _generation


def bump() -> None:
    """Invalidate every cached principal of this process."""
    global _generation
    with _lock:
        _generation += 1


@event.listens_for(Session, "after_flush")
def _note_auth_writes(session: Session, _flush_context: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _WATCHED):
            session.info[_DIRTY] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_auth_writes(state: ORMExecuteState) -> None:
    """ORM-enabled ``insert()``/``update()``/``delete()`` statements on those tables."""
    if state.is_insert or state.is_update or state.is_delete:
        mapper = state.bind_mapper
        if mapper is not None and issubclass(mapper.class_, _WATCHED):
            state.session.info[_DIRTY] = True


@event.listens_for(Session, "after_commit")
def _bump_on_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        bump()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_DIRTY, None)


@dataclass(frozen=True, slots=True)
class Entry:
    principal: Principal
    expires_at: datetime  # the token's own expiry
    csrf_hash: str | None
    generation: int
    until: float  # monotonic


class PrincipalCache:
    """Principals by (credential hash, kind, tenant header), bounded and short-lived."""

    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str, str | None], Entry] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key: tuple[str, str, str | None]) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.generation != _generation or entry.until <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry

    def put(
        self,
        key: tuple[str, str, str | None],
        principal: Principal,
        *,
        expires_at: datetime,
        csrf_hash: str | None,
        seen_generation: int,
    ) -> None:
        """Store what a lookup read, unless an auth change committed since it began."""
        if not self.enabled or seen_generation != _generation:
            return
        self._entries[key] = Entry(
            principal, expires_at, csrf_hash, seen_generation, time.monotonic() + self.ttl
        )
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
