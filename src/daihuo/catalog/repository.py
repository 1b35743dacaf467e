"""Every query of the catalog module.

Tenant scoping is applied by the session (``daihuo.core.db``): a supplier's session sees
its own products, a merchant's its own showcase. The supply pool, storefronts and the
stock movements of orders are deliberate cross-tenant statements; each says so with
``UNSCOPED`` and carries its own visibility condition (``state = 'listed'``, a SKU id).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from daihuo.catalog.domain import ProductState
from daihuo.catalog.models import (
    Batch,
    CommissionOverride,
    FlashHold,
    FlashSale,
    Product,
    ProductImage,
    ProductTerm,
    ShowcaseItem,
    Sku,
    TraceEvidence,
    TraceStep,
)
from daihuo.core.db import UNSCOPED
from daihuo.core.pagination import PageParams, paginate

LISTED = ProductState.listed.value


def _sales() -> Any:
    return (
        select(func.coalesce(func.sum(Sku.sold), 0))
        .where(Sku.product_id == Product.id)
        .correlate(Product)
        .scalar_subquery()
    )


def _stock() -> Any:
    return (
        select(func.coalesce(func.sum(Sku.available), 0))
        .where(Sku.product_id == Product.id)
        .correlate(Product)
        .scalar_subquery()
    )


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- the supplier's own products (scoped) ------------------------------------
    async def product(self, product_id: str) -> Product | None:
        stmt = select(Product).where(Product.id == product_id)
        return (await self.session.execute(stmt)).scalar()

    async def product_titles(self) -> dict[str, str]:
        """Every product of the tenant: id -> title."""
        stmt = select(Product.id, Product.title)
        return {pid: title for pid, title in (await self.session.execute(stmt)).all()}

    async def products_page(
        self, params: PageParams, state: ProductState | None
    ) -> tuple[Sequence[Product], str | None]:
        stmt = select(Product)
        if state is not None:
            stmt = stmt.where(Product.state == state.value)
        return await paginate(self.session, stmt, Product.id, params)

    async def skus_of(self, product_ids: Sequence[str], *, unscoped: bool = False) -> list[Sku]:
        if not product_ids:
            return []
        stmt = select(Sku).where(Sku.product_id.in_(product_ids)).order_by(Sku.id)
        if unscoped:
            stmt = stmt.execution_options(**UNSCOPED)
        return list((await self.session.execute(stmt)).scalars())

    async def sku(self, product_id: str, sku_id: str) -> Sku | None:
        stmt = select(Sku).where(Sku.id == sku_id, Sku.product_id == product_id)
        return (await self.session.execute(stmt)).scalar()

    async def sku_code_taken(self, product_id: str, code: str) -> bool:
        stmt = select(Sku.id).where(Sku.product_id == product_id, Sku.code == code)
        return (await self.session.execute(stmt)).first() is not None

    async def count_skus(self, product_id: str) -> int:
        stmt = select(func.count()).select_from(Sku).where(Sku.product_id == product_id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def images_of(
        self, product_ids: Sequence[str], *, unscoped: bool = False
    ) -> list[ProductImage]:
        if not product_ids:
            return []
        stmt = (
            select(ProductImage)
            .where(ProductImage.product_id.in_(product_ids))
            .order_by(ProductImage.id)
        )
        if unscoped:
            stmt = stmt.execution_options(**UNSCOPED)
        return list((await self.session.execute(stmt)).scalars())

    async def image(self, product_id: str, image_id: str) -> ProductImage | None:
        stmt = select(ProductImage).where(
            ProductImage.id == image_id, ProductImage.product_id == product_id
        )
        return (await self.session.execute(stmt)).scalar()

    async def count_images(self, product_id: str) -> int:
        stmt = (
            select(func.count())
            .select_from(ProductImage)
            .where(ProductImage.product_id == product_id)
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def replace_terms(self, product_id: str, terms: Sequence[str]) -> None:
        # Only called after the product itself was found through the scoped session.
        await self.session.execute(delete(ProductTerm).where(ProductTerm.product_id == product_id))
        if terms:
            await self.session.execute(
                insert(ProductTerm), [{"product_id": product_id, "term": t} for t in terms]
            )

    async def restock(self, sku_id: str, delta: int) -> bool:
        """``available += delta`` unless that would go negative (scoped to the supplier)."""
        stmt = (
            update(Sku)
            .where(Sku.id == sku_id, Sku.available + delta >= 0)
            .values(available=Sku.available + delta)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    # --- commission overrides ------------------------------------------------------
    async def override(self, product_id: str, merchant_id: str) -> CommissionOverride | None:
        stmt = select(CommissionOverride).where(
            CommissionOverride.product_id == product_id,
            CommissionOverride.merchant_id == merchant_id,
        )
        return (await self.session.execute(stmt)).scalar()

    async def override_rates(self, product_ids: Sequence[str], merchant_id: str) -> dict[str, int]:
        """Per-merchant rates on these products, whoever the supplier (cross-tenant)."""
        if not product_ids:
            return {}
        stmt = (
            select(CommissionOverride.product_id, CommissionOverride.commission_bps)
            .where(
                CommissionOverride.product_id.in_(product_ids),
                CommissionOverride.merchant_id == merchant_id,
            )
            .execution_options(**UNSCOPED)
        )
        return {p: int(b) for p, b in (await self.session.execute(stmt)).all()}

    # --- platform review (the platform's session sees every tenant) ---------------
    async def review_page(self, params: PageParams) -> tuple[Sequence[Product], str | None]:
        stmt = select(Product).where(Product.state == ProductState.in_review.value)
        return await paginate(self.session, stmt, Product.id, params)

    # --- the supply pool (cross-tenant, listed only) ------------------------------
    async def pool_product(self, product_id: str) -> Product | None:
        stmt = (
            select(Product)
            .where(Product.id == product_id, Product.state == LISTED)
            .execution_options(**UNSCOPED)
        )
        return (await self.session.execute(stmt)).scalar()

    async def any_product(self, product_id: str) -> Product | None:
        """A product of any tenant in any state: for deciding whether to show its image."""
        stmt = select(Product).where(Product.id == product_id).execution_options(**UNSCOPED)
        return (await self.session.execute(stmt)).scalar()

    async def image_unscoped(self, product_id: str, image_id: str) -> ProductImage | None:
        stmt = (
            select(ProductImage)
            .where(ProductImage.id == image_id, ProductImage.product_id == product_id)
            .execution_options(**UNSCOPED)
        )
        return (await self.session.execute(stmt)).scalar()

    async def pool_search(
        self,
        *,
        groups: Sequence[tuple[str, tuple[str, ...]]],
        category: str | None,
        price_min: int | None,
        price_max: int | None,
        commission_min: int | None,
        stock_min: int | None,
        sales_min: int | None,
        sort: str,
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[Product, int, int]]:
        """Listed products matching every filter: (product, stock, sales), one page."""
        sales, stock = _sales(), _stock()
        stmt: Select[Any] = (
            select(Product, stock.label("stock"), sales.label("sales"))
            .where(Product.state == LISTED)
            .execution_options(**UNSCOPED)
        )
        for word, pieces in groups:  # every query word, or all of its pieces
            has_word = Product.id.in_(
                select(ProductTerm.product_id).where(ProductTerm.term == word)
            )
            if not pieces:
                stmt = stmt.where(has_word)
                continue
            has_pieces = Product.id.in_(
                select(ProductTerm.product_id)
                .where(ProductTerm.term.in_(pieces))
                .group_by(ProductTerm.product_id)
                .having(func.count() == len(pieces))
            )
            stmt = stmt.where(or_(has_word, has_pieces))
        if category:
            stmt = stmt.where(
                or_(Product.category == category, Product.category.startswith(category + "/"))
            )
        if price_min is not None:
            stmt = stmt.where(Product.price_max >= price_min)
        if price_max is not None:
            stmt = stmt.where(Product.price_min <= price_max)
        if commission_min is not None:
            stmt = stmt.where(Product.commission_bps >= commission_min)
        if stock_min is not None:
            stmt = stmt.where(stock >= stock_min)
        if sales_min is not None:
            stmt = stmt.where(sales >= sales_min)
        key: Any = {
            "sales": sales,
            "commission": Product.commission_bps,
            "price": Product.price_min,
        }.get(sort)
        if key is None:  # newest first: ids are creation-ordered
            if after is not None:
                stmt = stmt.where(Product.id < after[1])
            stmt = stmt.order_by(Product.id.desc())
        elif sort == "price":  # cheapest first
            if after is not None:
                value, last = after
                cond: ColumnElement[bool] = or_(key > value, and_(key == value, Product.id < last))
                stmt = stmt.where(cond)
            stmt = stmt.order_by(key.asc(), Product.id.desc())
        else:  # most sales / highest commission first
            if after is not None:
                value, last = after
                stmt = stmt.where(or_(key < value, and_(key == value, Product.id < last)))
            stmt = stmt.order_by(key.desc(), Product.id.desc())
        rows = (await self.session.execute(stmt.limit(limit))).all()
        return [(p, int(st), int(sa)) for p, st, sa in rows]

    # --- showcase (scoped to the merchant) -----------------------------------------
    async def showcase_item(self, item_id: str) -> ShowcaseItem | None:
        stmt = select(ShowcaseItem).where(ShowcaseItem.id == item_id)
        return (await self.session.execute(stmt)).scalar()

    async def showcase_items(self, item_ids: Sequence[str]) -> list[ShowcaseItem]:
        if not item_ids:
            return []
        stmt = select(ShowcaseItem).where(ShowcaseItem.id.in_(item_ids))
        return list((await self.session.execute(stmt)).scalars())

    async def showcase_item_for(self, product_id: str) -> ShowcaseItem | None:
        stmt = select(ShowcaseItem).where(ShowcaseItem.product_id == product_id)
        return (await self.session.execute(stmt)).scalar()

    async def showcase_page(self, params: PageParams) -> tuple[Sequence[ShowcaseItem], str | None]:
        return await paginate(self.session, select(ShowcaseItem), ShowcaseItem.id, params)

    async def products_by_id(
        self, product_ids: Sequence[str], *, unscoped: bool = False
    ) -> dict[str, Product]:
        if not product_ids:
            return {}
        stmt = select(Product).where(Product.id.in_(product_ids))
        if unscoped:
            stmt = stmt.execution_options(**UNSCOPED)
        return {p.id: p for p in (await self.session.execute(stmt)).scalars()}

    # --- storefront and ordering (cross-tenant, public data) ----------------------
    async def storefront_page(
        self, merchant_id: str, params: PageParams
    ) -> tuple[Sequence[ShowcaseItem], str | None]:
        stmt = (
            select(ShowcaseItem)
            .join(Product, Product.id == ShowcaseItem.product_id)
            .where(ShowcaseItem.tenant_id == merchant_id, Product.state == LISTED)
            .execution_options(**UNSCOPED)
        )
        return await paginate(self.session, stmt, ShowcaseItem.id, params)

    async def sellable(self, item_id: str, sku_id: str) -> tuple[ShowcaseItem, Product, Sku] | None:
        """A showcase item with its product and the chosen SKU, in one statement."""
        stmt = (
            select(ShowcaseItem, Product, Sku)
            .join(Product, Product.id == ShowcaseItem.product_id)
            .join(Sku, and_(Sku.product_id == Product.id, Sku.id == sku_id))
            .where(ShowcaseItem.id == item_id)
            .execution_options(**UNSCOPED)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1], row[2])

    async def move_stock(self, sku_id: str, qty: int, source: str, target: str) -> bool:
        """Move ``qty`` units between two stock columns of a SKU if the source has them.

        One conditional UPDATE: the database checks and changes the row atomically, so
        concurrent orders can never take more than there is.
        """
        src, dst = getattr(Sku, source), getattr(Sku, target)
        stmt = (
            update(Sku)
            .where(Sku.id == sku_id, src >= qty)
            .values({source: src - qty, target: dst + qty})
            .execution_options(**UNSCOPED, synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def stock_of(self, sku_id: str) -> tuple[int, int, int] | None:
        stmt = (
            select(Sku.available, Sku.reserved, Sku.sold)
            .where(Sku.id == sku_id)
            .execution_options(**UNSCOPED)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (int(row[0]), int(row[1]), int(row[2]))

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def delete(self, obj: object) -> None:
        await self.session.delete(obj)

    async def flush(self) -> None:
        await self.session.flush()

    # --- flash sales: every change is one conditional UPDATE ------------------------------

    async def flash_sale(self, sale_id: str, *, any_tenant: bool = False) -> FlashSale | None:
        stmt = select(FlashSale).where(FlashSale.id == sale_id)
        if any_tenant:
            stmt = stmt.execution_options(**UNSCOPED)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def flash_sales(
        self, *, session_id: str | None = None, running_at: datetime | None = None
    ) -> Sequence[FlashSale]:
        stmt = select(FlashSale).execution_options(**UNSCOPED).order_by(FlashSale.starts_at)
        if session_id is not None:
            stmt = stmt.where(FlashSale.session_id == session_id)
        if running_at is not None:
            stmt = stmt.where(FlashSale.ended_at.is_(None), FlashSale.ends_at > running_at)
        return (await self.session.execute(stmt)).scalars().all()

    async def take_flash(self, sale_id: str, qty: int, now: datetime) -> bool:
        """``qty`` units of a running sale's ``remaining`` for one order; False if short."""
        stmt = (
            update(FlashSale)
            .where(
                FlashSale.id == sale_id,
                FlashSale.remaining >= qty,
                FlashSale.ended_at.is_(None),
                FlashSale.starts_at <= now,
                FlashSale.ends_at > now,
            )
            .values(remaining=FlashSale.remaining - qty)
            .execution_options(**UNSCOPED, synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def return_flash(self, sale_id: str, qty: int) -> bool:
        """Give ``qty`` units back to the sale if it has not ended; False if it has."""
        stmt = (
            update(FlashSale)
            .where(FlashSale.id == sale_id, FlashSale.ended_at.is_(None))
            .values(remaining=FlashSale.remaining + qty)
            .execution_options(**UNSCOPED, synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def end_flash(self, sale_id: str, remaining: int, now: datetime) -> bool:
        """Close the sale if it still has exactly ``remaining`` units (compare-and-set)."""
        stmt = (
            update(FlashSale)
            .where(
                FlashSale.id == sale_id,
                FlashSale.ended_at.is_(None),
                FlashSale.remaining == remaining,
            )
            .values(remaining=0, ended_at=now)
            .execution_options(**UNSCOPED, synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def flash_remaining(self, sale_id: str) -> tuple[int, bool] | None:
        stmt = (
            select(FlashSale.remaining, FlashSale.ended_at.is_(None))
            .where(FlashSale.id == sale_id)
            .execution_options(**UNSCOPED)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (int(row[0]), bool(row[1]))

    async def hold_flash(self, sale_id: str, buyer_id: str, qty: int, limit: int) -> bool:
        """Count ``qty`` more units against the buyer's per-sale limit; False if over."""
        dialect = self.session.get_bind().dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(FlashHold)
        await self.session.execute(
            ins.values(sale_id=sale_id, buyer_id=buyer_id, quantity=0).on_conflict_do_nothing()
        )
        stmt = (
            update(FlashHold)
            .where(
                FlashHold.sale_id == sale_id,
                FlashHold.buyer_id == buyer_id,
                FlashHold.quantity + qty <= limit,
            )
            .values(quantity=FlashHold.quantity + qty)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def unhold_flash(self, sale_id: str, buyer_id: str, qty: int) -> None:
        stmt = (
            update(FlashHold)
            .where(
                FlashHold.sale_id == sale_id,
                FlashHold.buyer_id == buyer_id,
                FlashHold.quantity >= qty,
            )
            .values(quantity=FlashHold.quantity - qty)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def flash_held(self, sale_id: str) -> dict[str, int]:
        stmt = select(FlashHold.buyer_id, FlashHold.quantity).where(
            FlashHold.sale_id == sale_id, FlashHold.quantity > 0
        )
        return {str(b): int(q) for b, q in (await self.session.execute(stmt)).all()}


class TraceRepository:
    """Batches, trace steps and evidence. Scoped to the supplier like products, except the
    public provenance reads (by a batch's random public id) and the log recovery, which
    say so with ``UNSCOPED``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def batch(self, product_id: str, batch_id: str) -> Batch | None:
        stmt = select(Batch).where(Batch.id == batch_id, Batch.product_id == product_id)
        return (await self.session.execute(stmt)).scalar()

    async def batch_code_taken(self, product_id: str, code: str) -> bool:
        stmt = select(Batch.id).where(Batch.product_id == product_id, Batch.code == code)
        return (await self.session.execute(stmt)).first() is not None

    async def count_batches(self, product_id: str) -> int:
        stmt = select(func.count()).select_from(Batch).where(Batch.product_id == product_id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def batches_page(
        self, product_id: str, params: PageParams
    ) -> tuple[Sequence[Batch], str | None]:
        stmt = select(Batch).where(Batch.product_id == product_id)
        return await paginate(self.session, stmt, Batch.id, params)

    async def steps_of(
        self, batch_ids: Sequence[str], *, unscoped: bool = False
    ) -> list[TraceStep]:
        if not batch_ids:
            return []
        stmt = (
            select(TraceStep)
            .where(TraceStep.batch_id.in_(batch_ids))
            .order_by(TraceStep.at, TraceStep.id)
        )
        if unscoped:
            stmt = stmt.execution_options(**UNSCOPED)
        return list((await self.session.execute(stmt)).scalars())

    async def evidence_of(
        self, batch_ids: Sequence[str], *, unscoped: bool = False
    ) -> list[TraceEvidence]:
        if not batch_ids:
            return []
        stmt = (
            select(TraceEvidence)
            .where(TraceEvidence.batch_id.in_(batch_ids))
            .order_by(TraceEvidence.id)
        )
        if unscoped:
            stmt = stmt.execution_options(**UNSCOPED)
        return list((await self.session.execute(stmt)).scalars())

    async def evidence(self, batch_id: str, evidence_id: str) -> TraceEvidence | None:
        stmt = select(TraceEvidence).where(
            TraceEvidence.batch_id == batch_id, TraceEvidence.id == evidence_id
        )
        return (await self.session.execute(stmt)).scalar()

    async def unused_evidence(self, batch_id: str, ids: Sequence[str]) -> list[TraceEvidence]:
        stmt = select(TraceEvidence).where(
            TraceEvidence.batch_id == batch_id,
            TraceEvidence.id.in_(ids),
            TraceEvidence.step_id.is_(None),
        )
        return list((await self.session.execute(stmt)).scalars())

    async def count_evidence(self, batch_id: str) -> int:
        stmt = (
            select(func.count())
            .select_from(TraceEvidence)
            .where(TraceEvidence.batch_id == batch_id)
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def set_leaf_index(self, step_id: str, index: int) -> bool:
        """Record where the step's entry is; only once (a NULL index is set, never changed)."""
        stmt = (
            update(TraceStep)
            .where(TraceStep.id == step_id, TraceStep.leaf_index.is_(None))
            .values(leaf_index=index)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    # --- public and recovery reads (cross-tenant) -----------------------------------
    async def public_batch(self, public_id: str) -> tuple[Batch, Product] | None:
        """A batch by its public id, with its product: the provenance page is public."""
        stmt = (
            select(Batch, Product)
            .join(Product, Product.id == Batch.product_id)
            .where(Batch.public_id == public_id)
            .execution_options(**UNSCOPED)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def public_evidence(self, batch_id: str, evidence_id: str) -> TraceEvidence | None:
        """An evidence file named by a recorded step of the batch (unused uploads stay private)."""
        stmt = (
            select(TraceEvidence)
            .where(
                TraceEvidence.id == evidence_id,
                TraceEvidence.batch_id == batch_id,
                TraceEvidence.step_id.is_not(None),
            )
            .execution_options(**UNSCOPED)
        )
        return (await self.session.execute(stmt)).scalar()

    async def first_image(self, product_id: str) -> ProductImage | None:
        stmt = (
            select(ProductImage)
            .where(ProductImage.product_id == product_id)
            .order_by(ProductImage.id)
            .limit(1)
            .execution_options(**UNSCOPED)
        )
        return (await self.session.execute(stmt)).scalar()

    async def unlogged_steps(
        self, recorded_before: datetime | None, limit: int
    ) -> list[tuple[TraceStep, Batch]]:
        """Steps whose entry has no leaf index yet, oldest first (every tenant's)."""
        stmt = (
            select(TraceStep, Batch)
            .join(Batch, Batch.id == TraceStep.batch_id)
            .where(TraceStep.leaf_index.is_(None))
            .order_by(TraceStep.recorded_at, TraceStep.id)
            .limit(limit)
            .execution_options(**UNSCOPED)
        )
        if recorded_before is not None:
            stmt = stmt.where(TraceStep.recorded_at < recorded_before)
        return [(r[0], r[1]) for r in (await self.session.execute(stmt)).all()]

    async def evidence_hashes(self, step_id: str) -> list[str]:
        stmt = (
            select(TraceEvidence.sha256)
            .where(TraceEvidence.step_id == step_id)
            .execution_options(**UNSCOPED)
        )
        return [str(h) for h in (await self.session.execute(stmt)).scalars()]

    async def set_leaf_index_unscoped(self, step_id: str, index: int) -> bool:
        stmt = (
            update(TraceStep)
            .where(TraceStep.id == step_id, TraceStep.leaf_index.is_(None))
            .values(leaf_index=index)
            .execution_options(**UNSCOPED, synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()
