"""Every query of the live module; tenant scoping comes from the session (core.db).

One deliberate cross-tenant read: :meth:`LiveRepository.room` finds a session by id for
its public live room (viewers belong to no tenant); it returns only what the room needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.db import UNSCOPED
from daihuo.core.pagination import PageParams, paginate
from daihuo.live.models import LiveSession, LiveSessionItem, LiveWordList


class LiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def live_session(self, session_id: str) -> LiveSession | None:
        stmt = select(LiveSession).where(LiveSession.id == session_id)
        return (await self.session.execute(stmt)).scalar()

    async def room(self, session_id: str) -> tuple[str, str] | None:
        """``(tenant_id, state)`` of any tenant's session, for its public room."""
        stmt = (
            select(LiveSession.tenant_id, LiveSession.state)
            .where(LiveSession.id == session_id)
            .execution_options(**UNSCOPED)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def transition(
        self, live: LiveSession, from_state: str, to_state: str, at: datetime, **values: Any
    ) -> bool:
        """Move ``live`` from one state to the next in one conditional UPDATE, so two
        concurrent requests cannot both make the same step; False if it was not in
        ``from_state`` (any more)."""
        stmt = (
            update(LiveSession)
            .where(LiveSession.id == live.id, LiveSession.state == from_state)
            .values(state=to_state, updated_at=at, **values)
            .execution_options(synchronize_session="fetch")
        )
        result = await self.session.execute(stmt)
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def page(self, params: PageParams) -> tuple[Sequence[LiveSession], str | None]:
        return await paginate(self.session, select(LiveSession), LiveSession.id, params)

    async def item_ids(self, session_ids: Sequence[str]) -> dict[str, list[str]]:
        """Each session's showcase item ids in running order."""
        out: dict[str, list[str]] = {s: [] for s in session_ids}
        if not session_ids:
            return out
        stmt = (
            select(LiveSessionItem.session_id, LiveSessionItem.item_id)
            .where(LiveSessionItem.session_id.in_(session_ids))
            .order_by(LiveSessionItem.session_id, LiveSessionItem.position)
        )
        for session_id, item_id in (await self.session.execute(stmt)).all():
            out[session_id].append(item_id)
        return out

    async def set_items(self, live: LiveSession, item_ids: Sequence[str]) -> None:
        await self.session.execute(
            delete(LiveSessionItem).where(LiveSessionItem.session_id == live.id)
        )
        if item_ids:
            await self.session.execute(
                insert(LiveSessionItem),
                [
                    {
                        "session_id": live.id,
                        "item_id": item_id,
                        "tenant_id": live.tenant_id,
                        "position": n,
                    }
                    for n, item_id in enumerate(item_ids, start=1)
                ],
            )

    async def in_state(self, state: str, after_id: str, limit: int) -> list[LiveSession]:
        """Sessions in ``state`` by id (system readers: the session sees every tenant)."""
        stmt = (
            select(LiveSession)
            .where(LiveSession.state == state, LiveSession.id > after_id)
            .order_by(LiveSession.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def word_list(self) -> LiveWordList | None:
        """The session's tenant's own words (scoped like every query)."""
        return (await self.session.execute(select(LiveWordList))).scalar()

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()
