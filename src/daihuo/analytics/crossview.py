"""Cross-session reports (复盘 across sessions) for a merchant and for a supplier, and the
review's extras for one session: the figures come from the warehouse's SQL
(:mod:`daihuo.analytics.cross`, :mod:`daihuo.analytics.engine`), the names and the
scope from the OLTP database through the feature modules' services.

Tenancy: a merchant's scope is its own sessions (the live module lists them under the
request's tenant scope); a supplier's is its own products (the catalog lists them
likewise), and only those products' orders are summed, in any merchant's session — a
supplier sees neither the session's title nor its audience nor its other sales.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.analytics import cross, engine, review
from daihuo.catalog import service as catalog
from daihuo.core.clock import utcnow
from daihuo.core.warehouse import Warehouse
from daihuo.live import service as live
from daihuo.live.schemas import LiveSessionRead
from daihuo.tenancy.domain import Principal

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991
MOST_SESSIONS = 2000
BEST_HOURS = 3


class SalesFigures(BaseModel):
    order_count: int
    items_sold: int
    gmv: int = Field(description="Paid amount of the orders counted, fen.")
    refund_amount: int = Field(description="Refunds of those orders, fen.")
    net_gmv: int = Field(description="Refund-adjusted GMV: gmv - refund_amount, fen.")


class SessionRow(SalesFigures):
    session: str
    title: str | None = Field(description="The merchant's title (merchant reports only).")
    merchant: str | None = Field(description="The selling merchant's id (supplier reports).")
    merchant_name: str | None = None
    started_at: datetime = Field(description="Start of the session's window, UTC.")
    date: str = Field(description="Its day in Asia/Shanghai, YYYY-MM-DD.")
    viewer_uv: int | None = Field(description="Viewers (merchant reports only).")


class ProductRow(SalesFigures):
    product: str
    title: str


class HourRow(SalesFigures):
    hour: int = Field(description="Hour of the day in Asia/Shanghai (0-23) of order_created.")


class Totals(SalesFigures):
    sessions: int


class CrossReport(BaseModel):
    scope: Literal["merchant", "supplier"]
    tenant: str
    since: datetime = Field(description="Sessions whose window starts at or after this.")
    time_zone: Literal["Asia/Shanghai"] = "Asia/Shanghai"
    totals: Totals
    sessions: list[SessionRow] = Field(description="Oldest first.")
    best_products: list[ProductRow] = Field(description="By refund-adjusted GMV, at most 10.")
    hours: list[HourRow] = Field(description="The 24 hours of the day.")
    best_hours: list[int] = Field(description="Hours with sales, best refund-adjusted GMV first.")


def _figures(s: cross.Sales) -> dict[str, int]:
    return s.figures()


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


async def _shape(
    session: AsyncSession,
    scope: Literal["merchant", "supplier"],
    tenant: str,
    since: datetime,
    sales: cross.CrossSales,
    titles: dict[str, str],
    session_titles: dict[str, str] | None,
) -> CrossReport:
    names: dict[str, str | None] = {}
    if scope == "supplier":
        for merchant in sorted({s.merchant for s in sales.sessions if s.merchant}):
            names[merchant] = await catalog.tenant_name(session, merchant)
    best = sales.products[: cross.TOP_PRODUCTS]
    missing = [p for p, _ in best if p not in titles]
    if missing:
        titles = {**titles, **await catalog.product_titles(session, missing)}
    ranked = sorted(
        (h for h in range(24) if sales.hours[h].order_count),
        key=lambda h: (-sales.hours[h].net_gmv, -sales.hours[h].gmv, h),
    )
    return CrossReport(
        scope=scope,
        tenant=tenant,
        since=since,
        totals=Totals(sessions=len(sales.sessions), **_figures(sales.total)),
        sessions=[
            SessionRow(
                session=s.session,
                title=session_titles.get(s.session) if session_titles is not None else None,
                merchant=s.merchant if scope == "supplier" else None,
                merchant_name=names.get(s.merchant) if s.merchant else None,
                started_at=_at(s.start_ms),
                date=_at(s.start_ms).astimezone(SHANGHAI).date().isoformat(),
                viewer_uv=s.viewer_uv,
                **_figures(s),
            )
            for s in sales.sessions
        ],
        best_products=[
            ProductRow(product=p, title=titles.get(p, ""), **_figures(s)) for p, s in best
        ],
        hours=[HourRow(hour=h, **_figures(sales.hours[h])) for h in range(24)],
        best_hours=ranked[:BEST_HOURS],
    )


async def merchant_report(
    session: AsyncSession, ctx: Principal, warehouse: Warehouse, days: int
) -> CrossReport:
    """The merchant's sessions of the last ``days`` days: sales over time, best products
    and hours."""
    assert ctx.tenant_id is not None
    since = utcnow() - timedelta(days=days)
    started = await live.started_sessions(session, ctx, MOST_SESSIONS)
    kept = [s for s in started if s.started_at is None or s.started_at >= since - timedelta(days=1)]
    ids = [s.id for s in kept]
    titles = {p.product_id: p.title for s in kept for p in s.products}
    since_ms = int(since.timestamp() * 1000)
    sales = await asyncio.to_thread(
        lambda: cross.cross_sales(warehouse, sessions=ids, since_ms=since_ms)
    )
    return await _shape(
        session, "merchant", ctx.tenant_id, since, sales, titles, {s.id: s.title for s in kept}
    )


async def supplier_report(
    session: AsyncSession, ctx: Principal, warehouse: Warehouse, days: int
) -> CrossReport:
    """The supplier's products sold in any merchant's sessions of the last ``days`` days."""
    assert ctx.tenant_id is not None
    since = utcnow() - timedelta(days=days)
    titles = await catalog.own_product_titles(session, ctx)
    since_ms = int(since.timestamp() * 1000)
    sales = await asyncio.to_thread(
        lambda: cross.cross_sales(warehouse, products=sorted(titles), since_ms=since_ms)
    )
    return await _shape(session, "supplier", ctx.tenant_id, since, sales, titles, None)


class ReviewExtras(BaseModel):
    markers: list[review.Marker]
    comparison: review.Comparison


async def review_extras(
    session: AsyncSession,
    ctx: Principal,
    warehouse: Warehouse,
    live_session: LiveSessionRead,
    figures: dict[str, object],
    previous: int,
) -> ReviewExtras:
    """A session's markers and its comparison with the merchant's previous sessions."""
    window = await asyncio.to_thread(cross.session_window, warehouse, live_session.id)
    found = await review.markers(session, ctx, live_session, window)
    earlier: Sequence[LiveSessionRead] = await live.previous_sessions(
        session, ctx, live_session, previous
    )
    ids = [s.id for s in earlier]
    reports = await asyncio.to_thread(lambda: engine.report(warehouse, ids)["sessions"])
    compared = review.compare(figures, [(i, reports[i]) for i in ids if i in reports])
    return ReviewExtras(markers=found, comparison=compared)
