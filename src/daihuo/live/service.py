"""Live-session use cases. Services ``flush()``; the edge commits.

A session is scheduled by a merchant with a product list taken from its showcase; the
list can be rearranged until the session starts. Only the merchant's own showcase items
can be listed: an id of another tenant's item is reported like an unknown one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import service as catalog
from daihuo.catalog.schemas import ShowcaseItemRead
from daihuo.core.clock import utcnow
from daihuo.core.ids import new_id
from daihuo.core.pagination import PageParams
from daihuo.live import errors
from daihuo.live.models import LiveSession
from daihuo.live.repository import LiveRepository
from daihuo.live.schemas import LiveSessionCreate, LiveSessionRead, SessionProduct
from daihuo.tenancy.domain import Principal, TenantKind

SCHEDULED = "scheduled"
ENDED = "ended"


async def _showcase(
    session: AsyncSession, ctx: Principal, item_ids: Sequence[str]
) -> dict[str, ShowcaseItemRead]:
    found = await catalog.showcase_items(session, ctx, item_ids)
    unknown = [i for i in item_ids if i not in found]
    if unknown:
        raise errors.UnknownShowcaseItems(
            f"Not in your showcase: {', '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        )
    return found


async def _read(
    session: AsyncSession, ctx: Principal, repo: LiveRepository, lives: Sequence[LiveSession]
) -> list[LiveSessionRead]:
    lists = await repo.item_ids([s.id for s in lives])
    items = await catalog.showcase_items(
        session, ctx, sorted({i for v in lists.values() for i in v})
    )
    return [
        LiveSessionRead(
            id=s.id,
            title=s.title,
            planned_start=s.planned_start,
            state=s.state,
            products=[
                SessionProduct(
                    position=n,
                    item_id=item_id,
                    product_id=items[item_id].product_id,
                    title=items[item_id].title,
                    price=items[item_id].price,
                )
                for n, item_id in enumerate(lists[s.id], start=1)
            ],
            created_at=s.created_at,
            updated_at=s.updated_at,
        )
        for s in lives
    ]


async def schedule(
    session: AsyncSession, ctx: Principal, data: LiveSessionCreate
) -> LiveSessionRead:
    """A merchant schedules a session with its product list."""
    catalog.require_kind(ctx, TenantKind.merchant)
    await _showcase(session, ctx, data.products)
    repo = LiveRepository(session)
    now = utcnow()
    live = LiveSession(
        id=new_id("lsn"),
        title=data.title,
        planned_start=data.planned_start,
        state=SCHEDULED,
        created_at=now,
        updated_at=now,
    )
    repo.add(live)
    await repo.flush()
    await repo.set_items(live, data.products)
    return (await _read(session, ctx, repo, [live]))[0]


async def _own(repo: LiveRepository, session_id: str) -> LiveSession:
    live = await repo.live_session(session_id)
    if live is None:
        raise errors.LiveSessionNotFound()
    return live


async def get_session(session: AsyncSession, ctx: Principal, session_id: str) -> LiveSessionRead:
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    return (await _read(session, ctx, repo, [await _own(repo, session_id)]))[0]


async def list_sessions(
    session: AsyncSession, ctx: Principal, params: PageParams
) -> tuple[list[LiveSessionRead], str | None]:
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    lives, cursor = await repo.page(params)
    return await _read(session, ctx, repo, lives), cursor


async def set_products(
    session: AsyncSession, ctx: Principal, session_id: str, item_ids: Sequence[str]
) -> LiveSessionRead:
    """Replace the session's product list (its running order) before it starts."""
    catalog.require_kind(ctx, TenantKind.merchant)
    repo = LiveRepository(session)
    live = await _own(repo, session_id)
    if live.state != SCHEDULED:
        raise errors.SessionNotEditable(f"The session is {live.state}; its list is fixed.")
    await _showcase(session, ctx, item_ids)
    await repo.set_items(live, item_ids)
    live.updated_at = utcnow()
    await repo.flush()
    return (await _read(session, ctx, repo, [live]))[0]


@dataclass(frozen=True)
class EndedSession:
    id: str
    merchant_id: str
    ended_at: datetime


async def ended_sessions(
    session: AsyncSession, *, after_id: str = "", limit: int = 200
) -> list[EndedSession]:
    """Ended sessions of every merchant, by id (for system jobs such as report publishing)."""
    lives = await LiveRepository(session).in_state(ENDED, after_id, limit)
    return [EndedSession(s.id, s.tenant_id, s.updated_at) for s in lives]
