"""The "为你推荐 / Recommended for you" section of the supply-pool page (选品 picks).

Shown to a merchant's staff on the pool's first, unfiltered page, above the search
results, from :func:`daihuo.assistant.selection.recommendations` (the same picks and
reasons as ``GET /api/v1/assistant/recommendations?exclude_showcase=true``: what is
already in the showcase is left out). Picking one uses the pool page's own pick form
(``POST /console/pool/{id}/pick``). The section is advice: if the event
store cannot be read by the recommender (a non-DuckDB warehouse), the page shows the
pool without it rather than failing.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.assistant import selection
from daihuo.assistant.selection import RecommendationRead
from daihuo.events.sink import EventSink
from daihuo.tenancy.domain import Principal, TenantKind

SHOWN = 6


def wanted(principal: Principal, params: Mapping[str, str]) -> bool:
    """Merchants only, on the first page of the pool with no search or filter typed."""
    return principal.tenant_kind is TenantKind.merchant and not any(
        params.get(k) for k in ("q", "category", "price_min", "price_max", "commission_min",
                                "stock_min", "cursor")
    )  # fmt: skip


async def picks(
    request: Request, session: AsyncSession, principal: Principal, params: Mapping[str, str]
) -> list[RecommendationRead]:
    if not wanted(principal, params):
        return []
    sink: EventSink = request.app.state.event_sink
    try:
        got = await selection.recommendations(
            session, principal, sink.flushed(), limit=SHOWN, exclude_showcase=True
        )
    except selection.SelectionUnavailable:  # the recommender reads DuckDB only
        return []
    return got.items
