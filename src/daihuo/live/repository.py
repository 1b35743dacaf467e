"""Every query of the live module; tenant scoping comes from the session (core.db).

Deliberate cross-tenant reads (``UNSCOPED``): :meth:`LiveRepository.room` finds a session
by id for its public live room (viewers belong to no tenant) and returns only what the
room needs; a buyer claims a coupon of any merchant (:meth:`coupon_for_claim`,
:meth:`take_coupon`) and lists its own claims; a draw's public page reads it by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.db import UNSCOPED
from daihuo.core.pagination import PageParams, paginate
from daihuo.live.models import (
    LiveCoupon,
    LiveCouponClaim,
    LiveDraw,
    LiveDrawEntry,
    LiveModerationAct,
    LiveSession,
    LiveSessionItem,
    LiveWordList,
)


class LiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def live_session(self, session_id: str) -> LiveSession | None:
        stmt = select(LiveSession).where(LiveSession.id == session_id)
        return (await self.session.execute(stmt)).scalar()

    async def titles(self, session_ids: Sequence[str]) -> dict[str, str]:
        """The titles of any tenants' sessions (for the platform's operators)."""
        if not session_ids:
            return {}
        stmt = (
            select(LiveSession.id, LiveSession.title)
            .where(LiveSession.id.in_(list(session_ids)))
            .execution_options(**UNSCOPED)
        )
        return {row[0]: row[1] for row in await self.session.execute(stmt)}

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

    async def started(self, limit: int) -> list[LiveSession]:
        """The tenant's sessions that went live, the latest start first."""
        stmt = (
            select(LiveSession)
            .where(LiveSession.started_at.is_not(None))
            .order_by(LiveSession.started_at.desc(), LiveSession.id.desc())
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def ended_before(self, before: datetime, exclude: str, limit: int) -> list[LiveSession]:
        """The tenant's ended sessions that started before ``before``, the latest first."""
        stmt = (
            select(LiveSession)
            .where(
                LiveSession.state == "ended",
                LiveSession.started_at < before,
                LiveSession.id != exclude,
            )
            .order_by(LiveSession.started_at.desc(), LiveSession.id.desc())
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def pin_acts(self, session_id: str) -> list[LiveModerationAct]:
        """The session's pins and unpins in the order they happened."""
        stmt = (
            select(LiveModerationAct)
            .where(
                LiveModerationAct.session_id == session_id,
                LiveModerationAct.act.in_(("pin_product", "unpin_product")),
            )
            .order_by(LiveModerationAct.at, LiveModerationAct.id)
        )
        return list((await self.session.execute(stmt)).scalars())

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

    # --- moderation record -------------------------------------------------------

    async def acts(
        self, session_id: str, params: PageParams
    ) -> tuple[Sequence[LiveModerationAct], str | None]:
        stmt = select(LiveModerationAct).where(LiveModerationAct.session_id == session_id)
        return await paginate(self.session, stmt, LiveModerationAct.id, params)

    # --- coupons -------------------------------------------------------------------

    async def coupons(self, session_id: str) -> list[LiveCoupon]:
        stmt = select(LiveCoupon).where(LiveCoupon.session_id == session_id).order_by(LiveCoupon.id)
        return list((await self.session.execute(stmt)).scalars())

    async def coupon_for_claim(self, coupon_id: str) -> tuple[LiveCoupon, str] | None:
        """Any merchant's coupon and its session's state, for a buyer's claim."""
        stmt = (
            select(LiveCoupon, LiveSession.state)
            .join(LiveSession, LiveSession.id == LiveCoupon.session_id)
            .where(LiveCoupon.id == coupon_id)
            .execution_options(**UNSCOPED)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def take_coupon(self, coupon_id: str) -> bool:
        """One more claimed, in one conditional UPDATE: False when none is left. The
        database's own guard behind the bus's claim set (which may have been reset)."""
        stmt = (
            update(LiveCoupon)
            .where(LiveCoupon.id == coupon_id, LiveCoupon.claimed < LiveCoupon.quantity)
            .values(claimed=LiveCoupon.claimed + 1)
            .execution_options(**UNSCOPED, synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def has_claim(self, coupon_id: str, user_id: str) -> bool:
        stmt = select(LiveCouponClaim.id).where(
            LiveCouponClaim.coupon_id == coupon_id, LiveCouponClaim.user_id == user_id
        )
        return (await self.session.execute(stmt)).first() is not None

    async def claims_of(
        self, user_id: str, params: PageParams
    ) -> tuple[Sequence[tuple[LiveCouponClaim, LiveCoupon]], str | None]:
        """The user's claims (every merchant's) with their coupons."""
        claims, cursor = await paginate(
            self.session,
            select(LiveCouponClaim).where(LiveCouponClaim.user_id == user_id),
            LiveCouponClaim.id,
            params,
        )
        ids = [c.coupon_id for c in claims]
        stmt = select(LiveCoupon).where(LiveCoupon.id.in_(ids)).execution_options(**UNSCOPED)
        coupons = {c.id: c for c in (await self.session.execute(stmt)).scalars()}
        return [(c, coupons[c.coupon_id]) for c in claims], cursor

    async def claim_of(self, user_id: str, coupon_id: str) -> LiveCoupon | None:
        """The coupon if ``user_id`` claimed it (any merchant's)."""
        stmt = (
            select(LiveCoupon)
            .join(LiveCouponClaim, LiveCouponClaim.coupon_id == LiveCoupon.id)
            .where(LiveCouponClaim.user_id == user_id, LiveCoupon.id == coupon_id)
            .execution_options(**UNSCOPED)
        )
        return (await self.session.execute(stmt)).scalar()

    # --- draws ---------------------------------------------------------------------

    async def draws(self, session_id: str) -> list[LiveDraw]:
        stmt = select(LiveDraw).where(LiveDraw.session_id == session_id).order_by(LiveDraw.id)
        return list((await self.session.execute(stmt)).scalars())

    async def public_draw(self, draw_id: str) -> LiveDraw | None:
        """Any merchant's draw, for its public verification page."""
        stmt = select(LiveDraw).where(LiveDraw.id == draw_id).execution_options(**UNSCOPED)
        return (await self.session.execute(stmt)).scalar()

    async def running_draws(self, session_id: str) -> list[LiveDraw]:
        stmt = select(LiveDraw).where(
            LiveDraw.session_id == session_id, LiveDraw.state == "running"
        )
        return list((await self.session.execute(stmt)).scalars())

    async def due_draws(self, before: datetime, limit: int) -> list[LiveDraw]:
        """Running draws whose time is up (system reader: every tenant)."""
        stmt = (
            select(LiveDraw)
            .where(LiveDraw.state == "running", LiveDraw.ends_at <= before)
            .order_by(LiveDraw.ends_at)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def enter_draw(self, draw_id: str, user_id: str, tenant_id: str, at: datetime) -> bool:
        """Enter ``user_id`` unless it entered already; False then."""
        dialect = self.session.get_bind().dialect.name
        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            make(LiveDrawEntry)
            .values(draw_id=draw_id, user_id=user_id, tenant_id=tenant_id, entered_at=at)
            .on_conflict_do_nothing()
        )
        result = await self.session.execute(stmt)
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def entrants(self, draw_id: str) -> list[str]:
        stmt = select(LiveDrawEntry.user_id).where(LiveDrawEntry.draw_id == draw_id)
        return list((await self.session.execute(stmt)).scalars())

    async def public_entrants(self, draw_id: str) -> list[str]:
        """A drawn draw's entrants, for its public verification page."""
        stmt = (
            select(LiveDrawEntry.user_id)
            .where(LiveDrawEntry.draw_id == draw_id)
            .execution_options(**UNSCOPED)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def finish_draw(self, draw: LiveDraw, **values: Any) -> bool:
        """running → drawn in one conditional UPDATE (one process of many wins)."""
        stmt = (
            update(LiveDraw)
            .where(LiveDraw.id == draw.id, LiveDraw.state == "running")
            .values(state="drawn", **values)
            .execution_options(synchronize_session="fetch")
        )
        result = await self.session.execute(stmt)
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()
