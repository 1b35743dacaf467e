"""Every query of the live module; tenant scoping comes from the session (core.db)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.pagination import PageParams, paginate
from daihuo.live.models import LiveSession, LiveSessionItem


class LiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def live_session(self, session_id: str) -> LiveSession | None:
        stmt = select(LiveSession).where(LiveSession.id == session_id)
        return (await self.session.execute(stmt)).scalar()

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

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()
