"""Catalog use cases. Services ``flush()``; the edge commits.

Who may do what depends on the role (``deps.require(Permission.x)`` at the edge) *and*
on the kind of tenant, checked here with :func:`require_kind`: only suppliers put
products into the pool, only merchants pick them, only the platform reviews them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors, search
from daihuo.catalog.domain import (
    CONTENT_EDITABLE,
    MAX_IMAGES,
    MAX_SKUS,
    ProductAction,
    ProductState,
    check_price_in_range,
    check_price_range,
    effective_commission,
    product_transition,
    sniff_image,
)
from daihuo.catalog.models import (
    CommissionOverride,
    FlashSale,
    Product,
    ProductImage,
    ShowcaseItem,
    Sku,
)
from daihuo.catalog.repository import CatalogRepository
from daihuo.catalog.schemas import (
    CommissionRead,
    FlashSaleCreate,
    FlashSaleRead,
    ImageRead,
    PoolProduct,
    PoolQuery,
    PoolSku,
    ProductCreate,
    ProductFacts,
    ProductRead,
    ProductSheet,
    ProductUpdate,
    ReviewItem,
    ShowcaseCreate,
    ShowcaseItemRead,
    SkuCreate,
    SkuRead,
    SkuUpdate,
    StorefrontItem,
)
from daihuo.core.clock import utcnow
from daihuo.core.ids import new_id
from daihuo.core.pagination import InvalidCursor, PageParams, decode_cursor, encode_cursor
from daihuo.core.storage import FileNotStored, Storage
from daihuo.tenancy import service as tenancy
from daihuo.tenancy.domain import Principal, TenantKind

_KIND_NAMES = {
    TenantKind.supplier: "supplier",
    TenantKind.merchant: "merchant",
    TenantKind.platform: "platform",
}


def require_kind(ctx: Principal, *kinds: TenantKind) -> TenantKind:
    """The caller must act for a tenant of one of ``kinds`` (403 wrong-tenant-kind)."""
    if ctx.tenant_kind is None or ctx.tenant_kind not in kinds:
        names = " or ".join(_KIND_NAMES[k] for k in kinds)
        raise errors.WrongTenantKind(f"Only a {names} tenant can do this.")
    return ctx.tenant_kind


# --- views ---------------------------------------------------------------------------


def image_url(image: ProductImage) -> str:
    return f"/api/v1/products/{image.product_id}/images/{image.id}"


def _image(image: ProductImage) -> ImageRead:
    return ImageRead(
        id=image.id, content_type=image.content_type, size=image.size, url=image_url(image)
    )


def _product_read(p: Product, skus: Sequence[Sku], images: Sequence[ProductImage]) -> ProductRead:
    return ProductRead(
        id=p.id,
        supplier_id=p.tenant_id,
        title=p.title,
        category=p.category,
        description=p.description,
        attributes=p.attributes,
        facts=ProductFacts.model_validate(p.facts),
        state=ProductState(p.state),
        price_min=p.price_min,
        price_max=p.price_max,
        commission_bps=p.commission_bps,
        max_per_user=p.max_per_user,
        review_note=p.review_note,
        skus=[SkuRead.model_validate(s) for s in skus],
        images=[_image(i) for i in images],
        created_at=p.created_at,
        updated_at=p.updated_at,
        listed_at=p.listed_at,
    )


def _pool_sku(s: Sku) -> PoolSku:
    return PoolSku(id=s.id, code=s.code, spec=s.spec, price=s.price, available=s.available)


async def _view(repo: CatalogRepository, product: Product) -> ProductRead:
    skus = await repo.skus_of([product.id])
    images = await repo.images_of([product.id])
    return _product_read(product, skus, images)


def _search_text(product: Product, skus: Sequence[Sku]) -> list[str]:
    texts = [product.title, product.category.replace("/", " "), product.description]
    texts += [f"{k} {v}" for k, v in product.attributes.items()]
    texts += [" ".join(str(v) for v in s.spec.values()) for s in skus]
    return texts


async def _reindex(repo: CatalogRepository, product: Product) -> None:
    skus = await repo.skus_of([product.id])
    terms = await anyio.to_thread.run_sync(
        lambda: search.document_terms(*_search_text(product, skus))
    )
    await repo.replace_terms(product.id, terms)


# --- the supplier's products -----------------------------------------------------------


async def _own_product(repo: CatalogRepository, product_id: str) -> Product:
    product = await repo.product(product_id)
    if product is None:
        raise errors.ProductNotFound()
    return product


def _new_sku(product_id: str, data: SkuCreate, now: object) -> Sku:
    return Sku(
        id=new_id("sku"),
        product_id=product_id,
        code=data.code,
        spec=dict(data.spec),
        price=data.price,
        available=data.stock,
        reserved=0,
        sold=0,
        created_at=now,
    )


async def create_product(session: AsyncSession, ctx: Principal, data: ProductCreate) -> ProductRead:
    """A supplier adds a product (as a draft) with its SKUs and their stock."""
    require_kind(ctx, TenantKind.supplier)
    check_price_range(data.price_min, data.price_max)
    for sku in data.skus:
        check_price_in_range(sku.price, data.price_min, data.price_max, what=f"SKU {sku.code}")
    repo = CatalogRepository(session)
    now = utcnow()
    product = Product(
        id=new_id("prd"),
        title=data.title,
        category=data.category,
        description=data.description,
        attributes=dict(data.attributes),
        facts=data.facts.model_dump(mode="json"),
        state=ProductState.draft.value,
        price_min=data.price_min,
        price_max=data.price_max,
        commission_bps=data.commission_bps,
        max_per_user=data.max_per_user,
        created_at=now,
        updated_at=now,
    )
    repo.add(product)
    await repo.flush()
    for sku in data.skus:
        repo.add(_new_sku(product.id, sku, now))
    await repo.flush()
    await _reindex(repo, product)
    return await _view(repo, product)


async def list_products(
    session: AsyncSession, ctx: Principal, params: PageParams, state: ProductState | None
) -> tuple[list[ProductRead], str | None]:
    """The supplier's own products, any state."""
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    products, cursor = await repo.products_page(params, state)
    ids = [p.id for p in products]
    skus, images = await repo.skus_of(ids), await repo.images_of(ids)
    return [
        _product_read(
            p,
            [s for s in skus if s.product_id == p.id],
            [i for i in images if i.product_id == p.id],
        )
        for p in products
    ], cursor


async def get_product(session: AsyncSession, ctx: Principal, product_id: str) -> ProductRead:
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    return await _view(repo, await _own_product(repo, product_id))


_CONTENT = ("title", "category", "description", "attributes", "facts")


async def update_product(
    session: AsyncSession, ctx: Principal, product_id: str, data: ProductUpdate
) -> ProductRead:
    """Change a product: content only in draft or delisted, commercial terms any time."""
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    product = await _own_product(repo, product_id)
    changes = data.model_dump(exclude_unset=True)
    content = [f for f in _CONTENT if f in changes]
    if content and ProductState(product.state) not in CONTENT_EDITABLE:
        raise errors.ProductNotEditable(
            f"{', '.join(content)} can only change while the product is a draft or delisted "
            f"(it is {product.state}); delist it first.",
        )
    price_min = changes.get("price_min", product.price_min)
    price_max = changes.get("price_max", product.price_max)
    check_price_range(price_min, price_max)
    for sku in await repo.skus_of([product.id]):
        check_price_in_range(sku.price, price_min, price_max, what=f"SKU {sku.code}'s price")
    for field, value in changes.items():
        if field == "facts" and data.facts is not None:
            value = data.facts.model_dump(mode="json")
        setattr(product, field, dict(value) if field == "attributes" else value)
    product.updated_at = utcnow()
    await repo.flush()
    if content:
        await _reindex(repo, product)
    return await _view(repo, product)


async def add_sku(
    session: AsyncSession, ctx: Principal, product_id: str, data: SkuCreate
) -> ProductRead:
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    product = await _own_product(repo, product_id)
    check_price_in_range(data.price, product.price_min, product.price_max, what="The SKU price")
    if await repo.count_skus(product.id) >= MAX_SKUS:
        raise errors.ProductNotEditable(f"A product has at most {MAX_SKUS} SKUs.")
    if await repo.sku_code_taken(product.id, data.code):
        raise errors.DuplicateSkuCode(f"This product already has a SKU {data.code}.")
    repo.add(_new_sku(product.id, data, utcnow()))
    try:
        await repo.flush()
    except IntegrityError as exc:
        raise errors.DuplicateSkuCode(f"This product already has a SKU {data.code}.") from exc
    product.updated_at = utcnow()
    await _reindex(repo, product)
    return await _view(repo, product)


async def update_sku(
    session: AsyncSession, ctx: Principal, product_id: str, sku_id: str, data: SkuUpdate
) -> ProductRead:
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    product = await _own_product(repo, product_id)
    sku = await repo.sku(product.id, sku_id)
    if sku is None:
        raise errors.SkuNotFound()
    if data.price is not None:
        check_price_in_range(data.price, product.price_min, product.price_max, what="The price")
        sku.price = data.price
    if data.spec is not None:
        sku.spec = dict(data.spec)
    product.updated_at = utcnow()
    await repo.flush()
    if data.spec is not None:
        await _reindex(repo, product)
    return await _view(repo, product)


async def adjust_stock(
    session: AsyncSession, ctx: Principal, product_id: str, sku_id: str, delta: int
) -> SkuRead:
    """Add (or remove) available units; never below zero, never touching reservations."""
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    await _own_product(repo, product_id)
    sku = await repo.sku(product_id, sku_id)
    if sku is None:
        raise errors.SkuNotFound()
    if not await repo.restock(sku.id, delta):
        raise errors.InsufficientStock(
            f"Cannot remove {-delta} units: fewer are available (reserved units stay).",
        )
    await session.refresh(sku)
    return SkuRead.model_validate(sku)


def _transition(product: Product, action: ProductAction) -> None:
    product.state = product_transition(ProductState(product.state), action).value
    product.updated_at = utcnow()


async def submit_product(session: AsyncSession, ctx: Principal, product_id: str) -> ProductRead:
    """Send a draft (or delisted) product to the platform for review."""
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    product = await _own_product(repo, product_id)
    _transition(product, ProductAction.submit)
    product.review_note = None
    await repo.flush()
    return await _view(repo, product)


async def delist_product(session: AsyncSession, ctx: Principal, product_id: str) -> ProductRead:
    """Take a listed product out of the pool; nobody can buy it until it is listed again."""
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    product = await _own_product(repo, product_id)
    _transition(product, ProductAction.delist)
    await repo.flush()
    return await _view(repo, product)


# --- images ------------------------------------------------------------------------------


async def add_image(
    session: AsyncSession, ctx: Principal, storage: Storage, product_id: str, data: bytes
) -> ImageRead:
    """Store an image of the product; its type comes from its bytes, not the header."""
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    product = await _own_product(repo, product_id)
    if ProductState(product.state) not in CONTENT_EDITABLE:
        raise errors.ProductNotEditable("Images change while the product is a draft or delisted.")
    if not data:
        raise errors.EmptyImage("The request body is empty; send the image bytes.")
    content_type = sniff_image(data)
    if await repo.count_images(product.id) >= MAX_IMAGES:
        raise errors.TooManyImages(f"A product has at most {MAX_IMAGES} images.")
    image = ProductImage(
        id=new_id("img"),
        product_id=product.id,
        content_type=content_type,
        size=len(data),
        created_at=utcnow(),
        storage_key="",
    )
    image.storage_key = f"products/{product.id.lower()}/{image.id.lower()}"
    await storage.put(image.storage_key, data, content_type=content_type)
    repo.add(image)
    await repo.flush()
    return _image(image)


async def image_bytes(
    session: AsyncSession, ctx: Principal | None, storage: Storage, product_id: str, image_id: str
) -> tuple[str, bytes]:
    """An image of a listed product (anyone) or of the caller's own product (any state)."""
    repo = CatalogRepository(session)
    product = await repo.any_product(product_id)
    own = product is not None and ctx is not None and ctx.tenant_id == product.tenant_id
    if product is None or not (own or product.state == ProductState.listed.value):
        raise errors.ImageNotFound()
    image = await repo.image_unscoped(product_id, image_id)
    if image is None:
        raise errors.ImageNotFound()
    try:
        return image.content_type, await storage.get(image.storage_key)
    except FileNotStored as exc:
        raise errors.ImageNotFound("The image file is missing from storage.") from exc


async def delete_image(
    session: AsyncSession, ctx: Principal, storage: Storage, product_id: str, image_id: str
) -> str:
    """Remove an image row; returns its storage key for the edge to delete after commit."""
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    product = await _own_product(repo, product_id)
    if ProductState(product.state) not in CONTENT_EDITABLE:
        raise errors.ProductNotEditable("Images change while the product is a draft or delisted.")
    image = await repo.image(product.id, image_id)
    if image is None:
        raise errors.ImageNotFound()
    key = image.storage_key
    await repo.delete(image)
    await repo.flush()
    return key


# --- commission per merchant -------------------------------------------------------------


async def own_product_titles(session: AsyncSession, ctx: Principal) -> dict[str, str]:
    """The supplier's own products, id -> title (its analytics' scope)."""
    require_kind(ctx, TenantKind.supplier)
    return await CatalogRepository(session).product_titles()


async def product_titles(session: AsyncSession, product_ids: Sequence[str]) -> dict[str, str]:
    """Titles of any products by id (public: products are shown in the pool and rooms)."""
    found = await CatalogRepository(session).products_by_id(list(product_ids), unscoped=True)
    return {pid: p.title for pid, p in found.items()}


async def tenant_kind(session: AsyncSession, tenant_id: str) -> TenantKind | None:
    """The kind of tenant ``tenant_id``, or ``None`` when there is no such tenant."""
    # Tenants are global rows; tenancy's service reads one for a principal acting for it.
    from daihuo.tenancy.domain import Via
    from daihuo.tenancy.errors import TenantNotFound

    lookup = Principal(
        via=Via.bearer,
        user_id=None,
        tenant_id=tenant_id,
        tenant_kind=None,
        role=None,
        permissions=frozenset(),
    )
    try:
        return TenantKind((await tenancy.current_tenant(session, lookup)).kind)
    except TenantNotFound:
        return None


async def tenant_name(session: AsyncSession, tenant_id: str) -> str | None:
    """The display name of tenant ``tenant_id`` (suppliers are named on public pages)."""
    from daihuo.tenancy.domain import Via
    from daihuo.tenancy.errors import TenantNotFound

    lookup = Principal(
        via=Via.bearer,
        user_id=None,
        tenant_id=tenant_id,
        tenant_kind=None,
        role=None,
        permissions=frozenset(),
    )
    try:
        return (await tenancy.current_tenant(session, lookup)).name
    except TenantNotFound:
        return None


async def set_commission(
    session: AsyncSession, ctx: Principal, product_id: str, merchant_id: str, bps: int
) -> CommissionRead:
    """The supplier's commission rate for one merchant on one product."""
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    product = await _own_product(repo, product_id)
    if await tenant_kind(session, merchant_id) is not TenantKind.merchant:
        raise errors.MerchantNotFound(f"No merchant tenant {merchant_id}.")
    override = await repo.override(product.id, merchant_id)
    if override is None:
        override = CommissionOverride(
            id=new_id("com"),
            product_id=product.id,
            merchant_id=merchant_id,
            commission_bps=bps,
            created_at=utcnow(),
        )
        repo.add(override)
    else:
        override.commission_bps = bps
    await repo.flush()
    return CommissionRead(product_id=product.id, merchant_id=merchant_id, commission_bps=bps)


async def clear_commission(
    session: AsyncSession, ctx: Principal, product_id: str, merchant_id: str
) -> None:
    require_kind(ctx, TenantKind.supplier)
    repo = CatalogRepository(session)
    product = await _own_product(repo, product_id)
    override = await repo.override(product.id, merchant_id)
    if override is None:
        raise errors.MerchantNotFound("This merchant has no rate of its own on this product.")
    await repo.delete(override)
    await repo.flush()


# --- platform review -----------------------------------------------------------------------


async def review_queue(
    session: AsyncSession, ctx: Principal, params: PageParams
) -> tuple[list[ReviewItem], str | None]:
    """Products waiting for review, oldest first (the session sees every tenant)."""
    require_kind(ctx, TenantKind.platform)
    products, cursor = await CatalogRepository(session).review_page(params)
    return [
        ReviewItem(
            id=p.id,
            supplier_id=p.tenant_id,
            title=p.title,
            category=p.category,
            state=ProductState(p.state),
            updated_at=p.updated_at,
        )
        for p in products
    ], cursor


async def _reviewed(session: AsyncSession, ctx: Principal, product_id: str) -> Product:
    require_kind(ctx, TenantKind.platform)
    product = await CatalogRepository(session).product(product_id)
    if product is None:
        raise errors.ProductNotFound()
    return product


async def review_detail(session: AsyncSession, ctx: Principal, product_id: str) -> ProductRead:
    """A product as the platform reviews it: every field, its SKUs and images."""
    return await _view(CatalogRepository(session), await _reviewed(session, ctx, product_id))


async def approve_product(session: AsyncSession, ctx: Principal, product_id: str) -> ProductRead:
    """The platform lists a product it reviewed: it enters the supply pool."""
    repo = CatalogRepository(session)
    product = await _reviewed(session, ctx, product_id)
    _transition(product, ProductAction.approve)
    product.review_note = None
    product.listed_at = utcnow()
    await repo.flush()
    return await _view(repo, product)


async def reject_product(
    session: AsyncSession, ctx: Principal, product_id: str, reason: str
) -> ProductRead:
    """The platform sends a product back to draft with its reason."""
    repo = CatalogRepository(session)
    product = await _reviewed(session, ctx, product_id)
    _transition(product, ProductAction.reject)
    product.review_note = reason
    await repo.flush()
    return await _view(repo, product)


# --- the supply pool -------------------------------------------------------------------------


def _parse_cursor(cursor: str | None, sort: str) -> tuple[int, str] | None:
    if cursor is None:
        return None
    raw = decode_cursor(cursor)
    if sort == "newest":
        return 0, raw
    value, sep, last = raw.partition("|")
    if not sep or not last or not value.lstrip("-").isdecimal() or len(value) > 20:
        raise InvalidCursor("The cursor is not one this API returned.")
    return int(value), last


async def search_pool(
    session: AsyncSession, ctx: Principal, query: PoolQuery
) -> tuple[list[PoolProduct], str | None]:
    """Listed products of every supplier matching the filters and the Chinese query."""
    repo = CatalogRepository(session)
    groups = await anyio.to_thread.run_sync(search.query_groups, query.q or "")
    after = _parse_cursor(query.cursor, query.sort)
    rows = await repo.pool_search(
        groups=groups,
        category=query.category,
        price_min=query.price_min,
        price_max=query.price_max,
        commission_min=query.commission_min,
        stock_min=query.stock_min,
        sales_min=query.sales_min,
        sort=query.sort,
        after=after,
        limit=query.limit + 1,
    )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = await _pool_views(repo, ctx, rows)
    cursor = None
    if more and rows:
        last, _, sales = rows[-1]
        value = {"sales": sales, "commission": last.commission_bps, "price": last.price_min}
        key = last.id if query.sort == "newest" else f"{value[query.sort]}|{last.id}"
        cursor = encode_cursor(key)
    return items, cursor


async def _pool_views(
    repo: CatalogRepository, ctx: Principal, rows: Sequence[tuple[Product, int, int]]
) -> list[PoolProduct]:
    ids = [p.id for p, _, _ in rows]
    skus = await repo.skus_of(ids, unscoped=True)
    images = await repo.images_of(ids, unscoped=True)
    rates: dict[str, int] = {}
    if ctx.tenant_kind is TenantKind.merchant and ctx.tenant_id is not None:
        rates = await repo.override_rates(ids, ctx.tenant_id)
    return [
        PoolProduct(
            id=p.id,
            supplier_id=p.tenant_id,
            title=p.title,
            category=p.category,
            description=p.description,
            attributes=p.attributes,
            facts=ProductFacts.model_validate(p.facts),
            price_min=p.price_min,
            price_max=p.price_max,
            commission_bps=effective_commission(p.commission_bps, rates.get(p.id)),
            max_per_user=p.max_per_user,
            stock=stock,
            sales=sales,
            skus=[_pool_sku(s) for s in skus if s.product_id == p.id],
            images=[_image(i) for i in images if i.product_id == p.id],
            listed_at=p.listed_at,
        )
        for p, stock, sales in rows
    ]


async def pool_product(session: AsyncSession, ctx: Principal, product_id: str) -> PoolProduct:
    """One listed product of the pool."""
    repo = CatalogRepository(session)
    product = await repo.pool_product(product_id)
    if product is None:
        raise errors.ProductNotFound("No listed product with this id.")
    skus = await repo.skus_of([product.id], unscoped=True)
    stock = sum(s.available for s in skus)
    sales = sum(s.sold for s in skus)
    return (await _pool_views(repo, ctx, [(product, stock, sales)]))[0]


# --- the merchant's showcase (选品) ----------------------------------------------------------


async def _showcase_read(
    repo: CatalogRepository, merchant_id: str, items: Sequence[ShowcaseItem]
) -> list[ShowcaseItemRead]:
    ids = [i.product_id for i in items]
    products = await repo.products_by_id(ids, unscoped=True)
    rates = await repo.override_rates(ids, merchant_id)
    out = []
    for item in items:
        p = products[item.product_id]
        out.append(
            ShowcaseItemRead(
                id=item.id,
                product_id=p.id,
                title=p.title,
                product_state=ProductState(p.state),
                price=item.price,
                price_min=p.price_min,
                price_max=p.price_max,
                commission_bps=effective_commission(p.commission_bps, rates.get(p.id)),
                created_at=item.created_at,
                updated_at=item.updated_at,
            )
        )
    return out


async def add_to_showcase(
    session: AsyncSession, ctx: Principal, data: ShowcaseCreate
) -> ShowcaseItemRead:
    """A merchant picks a listed pool product at its own price inside the supplier's range."""
    require_kind(ctx, TenantKind.merchant)
    assert ctx.tenant_id is not None
    repo = CatalogRepository(session)
    product = await repo.pool_product(data.product_id)
    if product is None:
        raise errors.ProductNotFound("No listed product with this id in the supply pool.")
    check_price_in_range(data.price, product.price_min, product.price_max, what="The price")
    if await repo.showcase_item_for(product.id) is not None:
        raise errors.AlreadyInShowcase("This product is already in your showcase.")
    now = utcnow()
    item = ShowcaseItem(
        id=new_id("shw"), product_id=product.id, price=data.price, created_at=now, updated_at=now
    )
    repo.add(item)
    try:
        await repo.flush()
    except IntegrityError as exc:
        raise errors.AlreadyInShowcase("This product is already in your showcase.") from exc
    return (await _showcase_read(repo, ctx.tenant_id, [item]))[0]


async def list_showcase(
    session: AsyncSession, ctx: Principal, params: PageParams
) -> tuple[list[ShowcaseItemRead], str | None]:
    require_kind(ctx, TenantKind.merchant)
    assert ctx.tenant_id is not None
    repo = CatalogRepository(session)
    items, cursor = await repo.showcase_page(params)
    return await _showcase_read(repo, ctx.tenant_id, items), cursor


async def showcase_items(
    session: AsyncSession, ctx: Principal, item_ids: Sequence[str]
) -> dict[str, ShowcaseItemRead]:
    """The caller's showcase items among ``item_ids`` (others' and unknown ids are absent)."""
    require_kind(ctx, TenantKind.merchant)
    assert ctx.tenant_id is not None
    repo = CatalogRepository(session)
    items = await repo.showcase_items(item_ids)
    return {i.id: i for i in await _showcase_read(repo, ctx.tenant_id, items)}


async def product_sheet(
    session: AsyncSession, ctx: Principal, product_id: str
) -> ProductSheet | None:
    """What the merchant's host may tell viewers about a product of its showcase, or
    ``None`` when the product is not in the caller's showcase (unknown ids and other
    shops' products alike, so the answer reveals nothing about them)."""
    require_kind(ctx, TenantKind.merchant)
    repo = CatalogRepository(session)
    item = await repo.showcase_item_for(product_id)
    if item is None:
        return None
    product = (await repo.products_by_id([product_id], unscoped=True))[product_id]
    skus = await repo.skus_of([product_id], unscoped=True)
    return ProductSheet(
        product_id=product.id,
        item_id=item.id,
        title=product.title,
        category=product.category,
        description=product.description,
        attributes=product.attributes,
        facts=ProductFacts.model_validate(product.facts),
        price=item.price,
        max_per_user=product.max_per_user,
        skus=[_pool_sku(s) for s in skus],
    )


async def update_showcase(
    session: AsyncSession, ctx: Principal, item_id: str, price: int
) -> ShowcaseItemRead:
    require_kind(ctx, TenantKind.merchant)
    assert ctx.tenant_id is not None
    repo = CatalogRepository(session)
    item = await repo.showcase_item(item_id)
    if item is None:
        raise errors.ShowcaseItemNotFound()
    product = (await repo.products_by_id([item.product_id], unscoped=True))[item.product_id]
    check_price_in_range(price, product.price_min, product.price_max, what="The price")
    item.price = price
    item.updated_at = utcnow()
    await repo.flush()
    return (await _showcase_read(repo, ctx.tenant_id, [item]))[0]


async def remove_from_showcase(session: AsyncSession, ctx: Principal, item_id: str) -> None:
    require_kind(ctx, TenantKind.merchant)
    repo = CatalogRepository(session)
    item = await repo.showcase_item(item_id)
    if item is None:
        raise errors.ShowcaseItemNotFound()
    await repo.delete(item)
    await repo.flush()


async def storefront(
    session: AsyncSession, merchant_id: str, params: PageParams
) -> tuple[list[StorefrontItem], str | None]:
    """A merchant's showcase as consumers see it: listed products at the merchant's price."""
    repo = CatalogRepository(session)
    items, cursor = await repo.storefront_page(merchant_id, params)
    ids = [i.product_id for i in items]
    products = await repo.products_by_id(ids, unscoped=True)
    skus = await repo.skus_of(ids, unscoped=True)
    images = await repo.images_of(ids, unscoped=True)
    out = []
    for item in items:
        p = products[item.product_id]
        out.append(
            StorefrontItem(
                id=item.id,
                merchant_id=item.tenant_id,
                product_id=p.id,
                title=p.title,
                category=p.category,
                description=p.description,
                price=item.price,
                max_per_user=p.max_per_user,
                skus=[_pool_sku(s) for s in skus if s.product_id == p.id],
                images=[_image(i) for i in images if i.product_id == p.id],
            )
        )
    return out, cursor


# --- what orders use ------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """What a consumer is buying, as the catalog says it is right now."""

    item_id: str
    merchant_id: str
    supplier_id: str
    product_id: str
    sku_id: str
    title: str
    unit_price: int
    commission_bps: int
    max_per_user: int | None


async def offer_for(session: AsyncSession, item_id: str, sku_id: str) -> Offer:
    """The showcase item and SKU a consumer wants, if it can be bought now.

    Unknown ids, another merchant's draft or a delisted product all answer the same
    way as far as existence goes: a product that is not listed is not for sale.
    """
    repo = CatalogRepository(session)
    found = await repo.sellable(item_id, sku_id)
    if found is None:
        raise errors.ProductNotFound("No such showcase item with that SKU.")
    item, product, sku = found
    if product.state != ProductState.listed.value:
        raise errors.ProductNotListed("This product is not for sale at the moment.")
    check_price_in_range(item.price, product.price_min, product.price_max, what="The shop price")
    rates = await repo.override_rates([product.id], item.tenant_id)
    return Offer(
        item_id=item.id,
        merchant_id=item.tenant_id,
        supplier_id=product.tenant_id,
        product_id=product.id,
        sku_id=sku.id,
        title=product.title,
        unit_price=item.price,
        commission_bps=effective_commission(product.commission_bps, rates.get(product.id)),
        max_per_user=product.max_per_user,
    )


async def reserve_stock(session: AsyncSession, sku_id: str, qty: int) -> None:
    """available → reserved, atomically; :class:`InsufficientStock` when short."""
    if not await try_reserve_stock(session, sku_id, qty):
        raise errors.InsufficientStock("Out of stock: fewer units are left than you asked for.")


async def try_reserve_stock(session: AsyncSession, sku_id: str, qty: int) -> bool:
    """available → reserved, atomically, if ``qty`` units are available."""
    return await CatalogRepository(session).move_stock(sku_id, qty, "available", "reserved")


class StockInvariantBroken(RuntimeError):
    """A reserved or sold unit that should exist does not: a bug, never user input."""


async def _must_move(session: AsyncSession, sku_id: str, qty: int, src: str, dst: str) -> None:
    if not await CatalogRepository(session).move_stock(sku_id, qty, src, dst):
        raise StockInvariantBroken(f"SKU {sku_id}: {qty} units not in {src}")


async def confirm_stock(session: AsyncSession, sku_id: str, qty: int) -> None:
    """reserved → sold (the order was paid)."""
    await _must_move(session, sku_id, qty, "reserved", "sold")


async def release_stock(session: AsyncSession, sku_id: str, qty: int) -> None:
    """reserved → available (an unpaid order was cancelled or expired)."""
    await _must_move(session, sku_id, qty, "reserved", "available")


async def restore_stock(session: AsyncSession, sku_id: str, qty: int) -> None:
    """sold → available (a paid order was refunded in full before it shipped)."""
    await _must_move(session, sku_id, qty, "sold", "available")


@dataclass(frozen=True)
class StockLevels:
    available: int
    reserved: int
    sold: int


async def stock_levels(session: AsyncSession, sku_id: str) -> StockLevels:
    levels = await CatalogRepository(session).stock_of(sku_id)
    if levels is None:
        raise errors.SkuNotFound()
    return StockLevels(*levels)


# --- flash sales (秒杀): the stock side; live/ runs the race and the room ----------------


def flash_read(sale: FlashSale) -> FlashSaleRead:
    return FlashSaleRead.model_validate(sale, from_attributes=True)


async def create_flash_sale(
    session: AsyncSession, ctx: Principal, data: FlashSaleCreate, *, session_id: str | None
) -> FlashSale:
    """Set ``units`` of a showcase SKU aside at a sale price (available → reserved)."""
    require_kind(ctx, TenantKind.merchant)
    assert ctx.tenant_id is not None
    repo = CatalogRepository(session)
    item = await repo.showcase_item(data.item_id)
    found = await repo.sellable(data.item_id, data.sku_id) if item is not None else None
    if item is None or found is None:
        raise errors.ShowcaseItemNotFound("No such SKU of an item in your showcase.")
    _, product, sku = found
    if product.state != ProductState.listed.value:
        raise errors.ProductNotListed("This product is not for sale at the moment.")
    check_price_in_range(data.price, product.price_min, product.price_max, what="The sale price")
    rates = await repo.override_rates([product.id], item.tenant_id)
    now = utcnow()
    starts = data.starts_at or now
    if not await repo.move_stock(sku.id, data.units, "available", "reserved"):
        raise errors.InsufficientStock(
            f"Only {sku.available} units of this SKU are available for the sale."
        )
    sale = FlashSale(
        id=new_id("fls"),
        session_id=session_id,
        item_id=item.id,
        product_id=product.id,
        sku_id=sku.id,
        supplier_id=product.tenant_id,
        title=product.title,
        price=data.price,
        commission_bps=effective_commission(product.commission_bps, rates.get(product.id)),
        units=data.units,
        remaining=data.units,
        per_user_limit=data.per_user_limit,
        starts_at=starts,
        ends_at=starts + timedelta(seconds=data.duration_seconds),
        ended_at=None,
        created_at=now,
    )
    repo.add(sale)
    await repo.flush()
    return sale


async def get_flash_sale(session: AsyncSession, sale_id: str) -> FlashSale:
    """Any flash sale by id (sales are public while their session is)."""
    sale = await CatalogRepository(session).flash_sale(sale_id, any_tenant=True)
    if sale is None:
        raise errors.FlashSaleNotFound()
    return sale


async def list_flash_sales(
    session: AsyncSession, *, session_id: str | None = None, running_at: datetime | None = None
) -> Sequence[FlashSale]:
    repo = CatalogRepository(session)
    return await repo.flash_sales(session_id=session_id, running_at=running_at)


async def take_flash_units(session: AsyncSession, sale: FlashSale, buyer_id: str, qty: int) -> None:
    """A buyer's win: ``qty`` units of the sale into the buyer's order, within the limit.

    Both checks are conditional UPDATEs (never read-then-write), so no interleaving of
    buyers can take more than ``remaining`` or more than the limit per buyer.
    """
    now = utcnow()
    if sale.ended_at is not None or not sale.starts_at <= now < sale.ends_at:
        raise errors.FlashSaleNotRunning("The flash sale is not running.")
    repo = CatalogRepository(session)
    if not await repo.hold_flash(sale.id, buyer_id, qty, sale.per_user_limit):
        raise errors.FlashLimitReached(
            f"At most {sale.per_user_limit} per person in this flash sale."
        )
    if not await repo.take_flash(sale.id, qty, now):
        raise errors.FlashSoldOut("Sold out: fewer units are left than you asked for.")


async def return_flash_units(
    session: AsyncSession, sale_id: str, buyer_id: str, sku_id: str, qty: int
) -> bool:
    """An unpaid flash order lapsed: its units go back to the sale while it runs (True),
    or to the SKU's available stock once it has ended (False)."""
    repo = CatalogRepository(session)
    await repo.unhold_flash(sale_id, buyer_id, qty)
    if await repo.return_flash(sale_id, qty):
        return True
    await release_stock(session, sku_id, qty)
    return False


async def end_flash_sale(session: AsyncSession, sale: FlashSale) -> int:
    """Close the sale; its remaining units go back to available. Returns how many."""
    repo = CatalogRepository(session)
    for _ in range(100):
        state = await repo.flash_remaining(sale.id)
        if state is None or not state[1]:
            return 0
        remaining = state[0]
        if await repo.end_flash(sale.id, remaining, utcnow()):
            if remaining:
                await _must_move(session, sale.sku_id, remaining, "reserved", "available")
            return remaining
    raise RuntimeError("flash sale kept changing while it was being ended")


async def flash_gate_state(session: AsyncSession, sale_id: str) -> tuple[int, dict[str, int]]:
    """What the race gate must start from: the sale's remaining units and each buyer's hold."""
    repo = CatalogRepository(session)
    state = await repo.flash_remaining(sale_id)
    remaining = state[0] if state is not None and state[1] else 0
    return remaining, await repo.flash_held(sale_id)
