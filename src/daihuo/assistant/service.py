"""The assistant's use cases over the other modules' services: review insights.

The insights of a session are computed from what its review page shows — the stored
events' report (``analytics.engine``), the review's markers, the live session's product
titles — plus the authenticity scan's raw and verified figures, the session's paid
orders per minute and its comments (those of users the scan did not flag), all read
here and handed to the pure :func:`daihuo.assistant.insights.insights`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.analytics import crossview, engine
from daihuo.assistant.insights import Facts, Insight, Span, event_facts, insights
from daihuo.core.warehouse import Warehouse
from daihuo.events.store import session_events
from daihuo.live import service as live
from daihuo.tenancy.domain import Principal


async def session_insights(
    session: AsyncSession,
    ctx: Principal,
    warehouse: Warehouse,
    session_id: str,
    *,
    verified: bool = True,
) -> list[Insight]:
    """The findings of one of the merchant's sessions, most money at stake first; none
    while the session has no recorded events. ``verified``: run the authenticity scan
    (the slow part) for what the verified figures change."""
    live_session = await live.get_session(session, ctx, session_id)
    events = await asyncio.to_thread(lambda: list(session_events(warehouse, session_id)))
    if not events:
        return []
    figures = await asyncio.to_thread(engine.session_report, warehouse, session_id)
    if figures is None:
        return []
    extras = await crossview.review_extras(session, ctx, warehouse, live_session, figures, 0)
    spans = [
        Span(m.kind, m.id, m.product, m.title, m.minute_from, m.minute_to) for m in extras.markers
    ]
    titles = {p.product_id: p.title for p in live_session.products}

    def compute() -> list[Insight]:
        authenticity: dict[str, Any] | None = None
        facts = event_facts(events)
        if verified:
            from daihuo.authenticity.scan import scan_session, verified_events  # numpy: lazily

            authenticity = scan_session(session_id, events)
            users = {str(f["user"]) for f in authenticity["suspicious_users"]}
            orders = {str(f["order"]) for f in authenticity["suspicious_orders"]}
            # Topics from what real viewers wrote; sales stay those of the report's curves.
            genuine = event_facts(verified_events(events, users, orders))
            facts = Facts(genuine.comments, facts.sales)
        return insights(figures, spans=spans, titles=titles, authenticity=authenticity, facts=facts)

    return await asyncio.to_thread(compute)
