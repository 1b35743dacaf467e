"""Selection recommendations (选品) for a merchant, from the database and the event store.

Inputs, each read through its owner's service (never its repository):

* the supply pool (``catalog.search_pool``): listed products of every supplier, with the
  commission rate *this* merchant would earn (its overrides applied) and the stock;
* the merchant's showcase (``catalog.list_showcase``): its chosen categories, for the
  cold-start rule, and which picks are already in it;
* every merchant's sales per product and session (``analytics.pairs``), the last
  :data:`HISTORY_DAYS` days.

Tenancy and privacy: suppliers and merchants are different tenants; the pool is
shared by design, sales are not. The recommender learns from all merchants' sales (that
is what "merchants like you" means) but what it returns is the merchant's own ranking
plus aggregates over other merchants: how many sold a product, and a median GPM only
over at least ``recommend.MIN_GROUP`` of them — never a merchant's identity, name,
session or individual figure (see :mod:`daihuo.assistant.recommend`). Only a merchant
tenant may ask (403 wrong-tenant-kind for suppliers and the platform).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.analytics import pairs
from daihuo.assistant import recommend
from daihuo.catalog import service as catalog
from daihuo.catalog.schemas import PoolProduct, PoolQuery
from daihuo.core.clock import utcnow
from daihuo.core.errors import ServiceUnavailable
from daihuo.core.pagination import PageParams
from daihuo.core.warehouse import Warehouse
from daihuo.tenancy.domain import Principal, TenantKind

HISTORY_DAYS: Final = 180
POOL_PAGE: Final = 200
MOST_POOL: Final = 20_000  # products read from the pool per request
MOST_SHOWCASE: Final = 2_000
MAX_LIMIT: Final = 50


class SelectionUnavailable(ServiceUnavailable):
    slug, title = "selection-unavailable", "Recommendations are unavailable on this event store"


class ReasonRead(BaseModel):
    code: recommend.ReasonCode
    zh: str
    en: str


class RecommendationRead(BaseModel):
    product_id: str
    title: str
    category: str
    price_min: int = Field(description="Fen.")
    price_max: int = Field(description="Fen.")
    commission_bps: int = Field(description="What this merchant would earn, basis points.")
    stock: int
    score: float = Field(
        description="Ranking score within its tier: the LambdaRank or ALS score of a pick"
        " with platform sales, the cold-start value, or 0 for a product nobody has sold."
    )
    cold_start: bool = Field(description="Picked by the cold-start rule (no sales history).")
    in_showcase: bool
    reasons: list[ReasonRead]
    figures: dict[str, int | float | None] = Field(
        description="Aggregates behind the reasons; medians only over >= 3 merchants (fen)."
    )


class Recommendations(BaseModel):
    merchant: str
    cold_start: bool = Field(description="The merchant has no sales in the history window.")
    history_days: int
    items: list[RecommendationRead]


async def _pool(session: AsyncSession, ctx: Principal) -> list[PoolProduct]:
    out: list[PoolProduct] = []
    cursor: str | None = None
    while len(out) < MOST_POOL:
        query = PoolQuery(sort="newest", limit=POOL_PAGE, cursor=cursor)
        items, cursor = await catalog.search_pool(session, ctx, query)
        out += items
        if cursor is None:
            break
    return out


async def _showcase(session: AsyncSession, ctx: Principal) -> set[str]:
    out: set[str] = set()
    cursor: str | None = None
    while len(out) < MOST_SHOWCASE:
        items, cursor = await catalog.list_showcase(
            session, ctx, PageParams(cursor=cursor, limit=200)
        )
        out |= {i.product_id for i in items}
        if cursor is None:
            break
    return out


@functools.lru_cache(maxsize=4)
def _fitted(
    sales: tuple[recommend.Sale, ...], facts: tuple[recommend.ProductFacts, ...]
) -> recommend.Recommender:
    """The fit for exactly these inputs, reused while they do not change (a merchant's
    staff reloading, or merchants with the same commission rates: the facts carry each
    merchant's own rates, so those with overrides get their own fit)."""
    return recommend.fit(sales, facts)


def to_sales(rows: Sequence[pairs.PairSales]) -> list[recommend.Sale]:
    """The event store's rows as the recommender's input (refund-adjusted GMV)."""
    return [
        recommend.Sale(
            merchant=r.merchant,
            product=r.product,
            at=datetime.fromtimestamp(r.start_ms / 1000, UTC),
            orders=r.order_count,
            gmv=r.net_gmv,
            viewers=r.viewer_uv or None,
        )
        for r in rows
    ]


async def recommendations(
    session: AsyncSession,
    ctx: Principal,
    warehouse: Warehouse,
    *,
    limit: int = 10,
    exclude_showcase: bool = False,
) -> Recommendations:
    """Pool products the merchant has not sold yet (nor, with ``exclude_showcase``, put
    in its showcase), best expected value for its audience first, with reasons
    (aggregates over other merchants only)."""
    catalog.require_kind(ctx, TenantKind.merchant)
    assert ctx.tenant_id is not None
    merchant = ctx.tenant_id
    pool = await _pool(session, ctx)
    showcase = await _showcase(session, ctx)
    since_ms = int((utcnow() - timedelta(days=HISTORY_DAYS)).timestamp() * 1000)
    try:
        rows = await asyncio.to_thread(
            lambda: pairs.merchant_product_sales(warehouse, since_ms=since_ms)
        )
    except TypeError as exc:  # analytics' DuckDB SQL; a ClickHouse store has none yet
        raise SelectionUnavailable(
            "Recommendations read the DuckDB event store; this server uses another."
        ) from exc
    by_id = {p.id: p for p in pool}
    facts = [
        recommend.ProductFacts(
            product_id=p.id,
            category=p.category,
            price=p.price_min,
            commission_bps=p.commission_bps,
            stock=p.stock,
            listed=True,  # the pool lists only listed products
        )
        for p in pool
    ]
    categories = sorted({by_id[p].category for p in showcase if p in by_id})
    sales = to_sales(rows)
    cold = not any(s.merchant == merchant and s.orders > 0 for s in sales)

    def rank() -> list[recommend.Recommendation]:
        model = _fitted(tuple(sales), tuple(facts))
        skip = showcase if exclude_showcase else ()
        return model.recommend(merchant, limit=limit, categories=categories, exclude=skip)

    picks = await asyncio.to_thread(rank)
    items = []
    for r in picks:
        p = by_id[r.product_id]
        items.append(
            RecommendationRead(
                product_id=p.id,
                title=p.title,
                category=p.category,
                price_min=p.price_min,
                price_max=p.price_max,
                commission_bps=p.commission_bps,
                stock=p.stock,
                score=r.score,
                cold_start=r.cold_start,
                in_showcase=p.id in showcase,
                reasons=[ReasonRead(code=x.code, zh=x.zh, en=x.en) for x in r.reasons],
                figures=r.figures,
            )
        )
    return Recommendations(
        merchant=merchant, cold_start=cold, history_days=HISTORY_DAYS, items=items
    )
