"""Supply pool, products, review and showcases: ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.catalog import errors, service
from daihuo.catalog.domain import MAX_COMMISSION_BPS, MAX_PRICE_FEN, MAX_STOCK, ProductState
from daihuo.catalog.schemas import (
    CommissionRead,
    CommissionSet,
    ImageRead,
    PoolProduct,
    PoolQuery,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    Rejection,
    ReviewItem,
    ShowcaseCreate,
    ShowcaseItemRead,
    ShowcaseUpdate,
    SkuCreate,
    SkuRead,
    SkuUpdate,
    SortKey,
    StockAdjust,
    StorefrontItem,
)
from daihuo.core.db import after_commit, commit, scope_session
from daihuo.core.errors import problems
from daihuo.core.pagination import MAX_LIMIT, InvalidCursor, Page, PageParams, page_params
from daihuo.core.storage import Storage
from daihuo.core.types import ResourceId
from daihuo.tenancy import errors as tenancy_errors
from daihuo.tenancy.deps import SESSION_COOKIE, get_principal, get_session, require
from daihuo.tenancy.domain import Permission, Principal

router = APIRouter(prefix="/api/v1")


AUTH, DENIED = tenancy_errors.AUTH, errors.DENIED
PRICES = (errors.PriceOutOfRange, errors.InvalidPriceRange)


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def optional_principal(
    request: Request, session: AsyncSession = Depends(get_session)
) -> Principal | None:
    """The caller when it presents credentials, else ``None`` (public reads)."""
    h = request.headers
    if not (h.get("authorization") or h.get("x-api-key") or request.cookies.get(SESSION_COOKIE)):
        return None
    return await get_principal(request, session)


async def require_reviewer(
    principal: Principal = Depends(require(Permission.products_review)),
    session: AsyncSession = Depends(get_session),
) -> Principal:
    """A platform reviewer, whose session deliberately sees every supplier's products."""
    scope_session(session, None, all_tenants=True)
    return principal


# --- the supplier's products ---------------------------------------------------------------


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    tags=["catalog"],
    responses=problems(*AUTH, *DENIED, *PRICES),
)
async def create_product(
    data: ProductCreate,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
) -> ProductRead:
    """Add a product (SPU) with its SKUs and stock, as a draft (suppliers)."""
    product = await service.create_product(session, principal, data)
    await commit(session)
    return product


@router.get("/products", tags=["catalog"], responses=problems(*AUTH, *DENIED))
async def list_products(
    state: ProductState | None = Query(default=None),
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require(Permission.catalog_read)),
    session: AsyncSession = Depends(get_session),
) -> Page[ProductRead]:
    """The supplier's own products in every state."""
    items, cursor = await service.list_products(session, principal, params, state)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/products/{product_id}",
    tags=["catalog"],
    responses=problems(*AUTH, *DENIED, errors.ProductNotFound),
)
async def get_product(
    product_id: ResourceId,
    principal: Principal = Depends(require(Permission.catalog_read)),
    session: AsyncSession = Depends(get_session),
) -> ProductRead:
    """One of the supplier's products with SKUs, stock and images."""
    return await service.get_product(session, principal, product_id)


@router.patch(
    "/products/{product_id}",
    tags=["catalog"],
    responses=problems(*AUTH, *DENIED, *PRICES, errors.ProductNotFound, errors.ProductNotEditable),
)
async def update_product(
    product_id: ResourceId,
    data: ProductUpdate,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
) -> ProductRead:
    """Change a product: content in draft or delisted only, commercial terms any time."""
    product = await service.update_product(session, principal, product_id, data)
    await commit(session)
    return product


@router.post(
    "/products/{product_id}/skus",
    status_code=status.HTTP_201_CREATED,
    tags=["catalog"],
    responses=problems(
        *AUTH,
        *DENIED,
        *PRICES,
        errors.ProductNotFound,
        errors.DuplicateSkuCode,
        errors.ProductNotEditable,
    ),
)
async def add_sku(
    product_id: ResourceId,
    data: SkuCreate,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
) -> ProductRead:
    """Add a SKU (a spec such as colour and size) with its stock."""
    product = await service.add_sku(session, principal, product_id, data)
    await commit(session)
    return product


@router.patch(
    "/products/{product_id}/skus/{sku_id}",
    tags=["catalog"],
    responses=problems(*AUTH, *DENIED, *PRICES, errors.ProductNotFound, errors.SkuNotFound),
)
async def update_sku(
    product_id: ResourceId,
    sku_id: ResourceId,
    data: SkuUpdate,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
) -> ProductRead:
    """Change a SKU's suggested price or spec."""
    product = await service.update_sku(session, principal, product_id, sku_id, data)
    await commit(session)
    return product


@router.post(
    "/products/{product_id}/skus/{sku_id}/stock",
    tags=["catalog"],
    responses=problems(
        *AUTH, *DENIED, errors.ProductNotFound, errors.SkuNotFound, errors.InsufficientStock
    ),
)
async def adjust_stock(
    product_id: ResourceId,
    sku_id: ResourceId,
    data: StockAdjust,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
) -> SkuRead:
    """Add or remove available units of a SKU (reserved and sold units are untouched)."""
    sku = await service.adjust_stock(session, principal, product_id, sku_id, data.delta)
    await commit(session)
    return sku


@router.post(
    "/products/{product_id}/submit",
    tags=["catalog"],
    responses=problems(*AUTH, *DENIED, errors.ProductNotFound, errors.InvalidProductTransition),
)
async def submit_product(
    product_id: ResourceId,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
) -> ProductRead:
    """Send a draft or delisted product to the platform for review."""
    product = await service.submit_product(session, principal, product_id)
    await commit(session)
    return product


@router.post(
    "/products/{product_id}/delist",
    tags=["catalog"],
    responses=problems(*AUTH, *DENIED, errors.ProductNotFound, errors.InvalidProductTransition),
)
async def delist_product(
    product_id: ResourceId,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
) -> ProductRead:
    """Take a listed product out of the supply pool."""
    product = await service.delist_product(session, principal, product_id)
    await commit(session)
    return product


_IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("image/png", "image/jpeg", "image/gif", "image/webp")
        },
    }
}


@router.post(
    "/products/{product_id}/images",
    status_code=status.HTTP_201_CREATED,
    tags=["catalog"],
    openapi_extra=_IMAGE_BODY,
    responses=problems(
        *AUTH,
        *DENIED,
        errors.ProductNotFound,
        errors.ProductNotEditable,
        errors.UnsupportedImage,
        errors.EmptyImage,
        errors.TooManyImages,
    ),
)
async def upload_image(
    request: Request,
    product_id: ResourceId,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
    storage: Storage = Depends(get_storage),
) -> ImageRead:
    """Upload a product image as the raw request body (PNG, JPEG, GIF or WebP)."""
    data = await request.body()
    image = await service.add_image(session, principal, storage, product_id, data)
    await commit(session)
    return image


@router.get(
    "/products/{product_id}/images/{image_id}",
    tags=["catalog"],
    response_class=Response,
    responses={
        200: {"content": {"image/*": {}}, "description": "The image bytes"},
        **problems(*AUTH, errors.ImageNotFound),
    },
)
async def get_image(
    product_id: ResourceId,
    image_id: ResourceId,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(get_session),
    storage: Storage = Depends(get_storage),
) -> Response:
    """An image of a listed product (public) or of the caller's own product."""
    content_type, data = await service.image_bytes(
        session, principal, storage, product_id, image_id
    )
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.delete(
    "/products/{product_id}/images/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["catalog"],
    responses=problems(
        *AUTH, *DENIED, errors.ProductNotFound, errors.ImageNotFound, errors.ProductNotEditable
    ),
)
async def delete_image(
    product_id: ResourceId,
    image_id: ResourceId,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
    storage: Storage = Depends(get_storage),
) -> None:
    """Remove a product image (the file goes once the removal is committed)."""
    key = await service.delete_image(session, principal, storage, product_id, image_id)

    async def remove_file() -> None:
        await storage.delete(key)

    after_commit(session, remove_file)
    await commit(session)


@router.put(
    "/products/{product_id}/commissions/{merchant_id}",
    tags=["catalog"],
    responses=problems(*AUTH, *DENIED, errors.ProductNotFound, errors.MerchantNotFound),
)
async def set_commission(
    product_id: ResourceId,
    merchant_id: ResourceId,
    data: CommissionSet,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
) -> CommissionRead:
    """Set this product's commission rate for one merchant (0–90 %)."""
    result = await service.set_commission(
        session, principal, product_id, merchant_id, data.commission_bps
    )
    await commit(session)
    return result


@router.delete(
    "/products/{product_id}/commissions/{merchant_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["catalog"],
    responses=problems(*AUTH, *DENIED, errors.ProductNotFound, errors.MerchantNotFound),
)
async def clear_commission(
    product_id: ResourceId,
    merchant_id: ResourceId,
    principal: Principal = Depends(require(Permission.catalog_write)),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Drop a merchant's own rate; the product's rate applies again."""
    await service.clear_commission(session, principal, product_id, merchant_id)
    await commit(session)


# --- platform review ----------------------------------------------------------------------


@router.get("/platform/products/review", tags=["platform"], responses=problems(*AUTH, *DENIED))
async def review_queue(
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require_reviewer),
    session: AsyncSession = Depends(get_session),
) -> Page[ReviewItem]:
    """Products waiting for review (platform operators)."""
    items, cursor = await service.review_queue(session, principal, params)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/platform/products/{product_id}/approve",
    tags=["platform"],
    responses=problems(*AUTH, *DENIED, errors.ProductNotFound, errors.InvalidProductTransition),
)
async def approve_product(
    product_id: ResourceId,
    principal: Principal = Depends(require_reviewer),
    session: AsyncSession = Depends(get_session),
) -> ProductRead:
    """List a reviewed product in the supply pool."""
    product = await service.approve_product(session, principal, product_id)
    await commit(session)
    return product


@router.post(
    "/platform/products/{product_id}/reject",
    tags=["platform"],
    responses=problems(*AUTH, *DENIED, errors.ProductNotFound, errors.InvalidProductTransition),
)
async def reject_product(
    product_id: ResourceId,
    data: Rejection,
    principal: Principal = Depends(require_reviewer),
    session: AsyncSession = Depends(get_session),
) -> ProductRead:
    """Send a product back to its supplier as a draft, with the reason."""
    product = await service.reject_product(session, principal, product_id, data.reason)
    await commit(session)
    return product


# --- the supply pool -------------------------------------------------------------------------


@router.get("/pool/products", tags=["pool"], responses=problems(*AUTH, *DENIED, InvalidCursor))
async def search_pool(
    q: str | None = Query(default=None, max_length=100, description="Chinese or other words."),
    category: str | None = Query(default=None, max_length=60, description="Category or parent."),
    price_min: int | None = Query(default=None, ge=0, le=MAX_PRICE_FEN),
    price_max: int | None = Query(default=None, ge=0, le=MAX_PRICE_FEN),
    commission_min: int | None = Query(default=None, ge=0, le=MAX_COMMISSION_BPS),
    stock_min: int | None = Query(default=None, ge=0, le=MAX_STOCK * 100),
    sales_min: int | None = Query(default=None, ge=0, le=2**31),
    sort: SortKey = Query(default="newest"),
    cursor: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT),
    principal: Principal = Depends(require(Permission.pool_read)),
    session: AsyncSession = Depends(get_session),
) -> Page[PoolProduct]:
    """Search and filter the supply pool (listed products of every supplier)."""
    query = PoolQuery(
        q=q,
        category=category,
        price_min=price_min,
        price_max=price_max,
        commission_min=commission_min,
        stock_min=stock_min,
        sales_min=sales_min,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = await service.search_pool(session, principal, query)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/pool/products/{product_id}",
    tags=["pool"],
    responses=problems(*AUTH, *DENIED, errors.ProductNotFound),
)
async def pool_product(
    product_id: ResourceId,
    principal: Principal = Depends(require(Permission.pool_read)),
    session: AsyncSession = Depends(get_session),
) -> PoolProduct:
    """One listed product, with the commission rate the caller would earn."""
    return await service.pool_product(session, principal, product_id)


# --- the merchant's showcase ------------------------------------------------------------------


@router.get("/showcase", tags=["showcase"], responses=problems(*AUTH, *DENIED))
async def list_showcase(
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require(Permission.showcase_read)),
    session: AsyncSession = Depends(get_session),
) -> Page[ShowcaseItemRead]:
    """The merchant's picked products with its prices and commission rates."""
    items, cursor = await service.list_showcase(session, principal, params)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/showcase",
    status_code=status.HTTP_201_CREATED,
    tags=["showcase"],
    responses=problems(
        *AUTH, *DENIED, errors.PriceOutOfRange, errors.ProductNotFound, errors.AlreadyInShowcase
    ),
)
async def add_to_showcase(
    data: ShowcaseCreate,
    principal: Principal = Depends(require(Permission.showcase_write)),
    session: AsyncSession = Depends(get_session),
) -> ShowcaseItemRead:
    """Pick a pool product for the showcase at a price inside the supplier's range (选品)."""
    item = await service.add_to_showcase(session, principal, data)
    await commit(session)
    return item


@router.patch(
    "/showcase/{item_id}",
    tags=["showcase"],
    responses=problems(*AUTH, *DENIED, errors.PriceOutOfRange, errors.ShowcaseItemNotFound),
)
async def update_showcase(
    item_id: ResourceId,
    data: ShowcaseUpdate,
    principal: Principal = Depends(require(Permission.showcase_write)),
    session: AsyncSession = Depends(get_session),
) -> ShowcaseItemRead:
    """Change the merchant's selling price of a showcase item."""
    item = await service.update_showcase(session, principal, item_id, data.price)
    await commit(session)
    return item


@router.delete(
    "/showcase/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["showcase"],
    responses=problems(*AUTH, *DENIED, errors.ShowcaseItemNotFound),
)
async def remove_from_showcase(
    item_id: ResourceId,
    principal: Principal = Depends(require(Permission.showcase_write)),
    session: AsyncSession = Depends(get_session),
) -> None:
    """Take a product out of the showcase."""
    await service.remove_from_showcase(session, principal, item_id)
    await commit(session)


@router.get("/shops/{merchant_id}/items", tags=["showcase"])
async def storefront(
    merchant_id: ResourceId,
    params: PageParams = Depends(page_params),
    session: AsyncSession = Depends(get_session),
) -> Page[StorefrontItem]:
    """A merchant's shop as consumers see it (public): what can be bought, at which price."""
    items, cursor = await service.storefront(session, merchant_id, params)
    return Page(items=items, next_cursor=cursor)
