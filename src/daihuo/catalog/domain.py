"""Pure catalog rules: product states, prices, commission, images. No I/O.

Product states::

    draft ──submit──▶ in_review ──approve (platform)──▶ listed ──delist──▶ delisted
      ▲                  │                                                  │
      └──reject (platform)┘◀───────────────────submit───────────────────────┘

Only ``listed`` products are in the supply pool, can be picked by merchants and can be
bought. Content (title, category, description, attributes, images) is edited in
``draft`` or ``delisted`` and goes through review again; commercial terms (price range,
commission, purchase limit, SKUs and stock) may change in any state.

Money is integer fen. A commission rate is in basis points of the merchant's selling
price: 0–9000 (0–90 %). A merchant's selling price must lie inside the supplier's
``[price_min, price_max]``; each SKU's suggested price too.
"""

from __future__ import annotations

from enum import StrEnum

from daihuo.catalog.errors import (
    InvalidPriceRange,
    InvalidProductTransition,
    PriceOutOfRange,
    UnsupportedImage,
)

MAX_COMMISSION_BPS = 9000
MAX_PRICE_FEN = 10_000_000_000  # 1 亿元
MAX_STOCK = 10_000_000
MAX_IMAGES = 20
MAX_SKUS = 100


class ProductState(StrEnum):
    draft = "draft"
    in_review = "in_review"
    listed = "listed"
    delisted = "delisted"


class ProductAction(StrEnum):
    submit = "submit"
    approve = "approve"
    reject = "reject"
    delist = "delist"


PRODUCT_TRANSITIONS: dict[ProductAction, tuple[frozenset[ProductState], ProductState]] = {
    ProductAction.submit: (
        frozenset({ProductState.draft, ProductState.delisted}),
        ProductState.in_review,
    ),
    ProductAction.approve: (frozenset({ProductState.in_review}), ProductState.listed),
    ProductAction.reject: (frozenset({ProductState.in_review}), ProductState.draft),
    ProductAction.delist: (frozenset({ProductState.listed}), ProductState.delisted),
}

CONTENT_EDITABLE = frozenset({ProductState.draft, ProductState.delisted})


def product_transition(current: ProductState, action: ProductAction) -> ProductState:
    """The state after ``action``, or :class:`InvalidProductTransition`."""
    sources, target = PRODUCT_TRANSITIONS[action]
    if current not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise InvalidProductTransition(
            f"Cannot {action.value} a product that is {current.value} (only from {allowed})."
        )
    return target


def check_price_range(price_min: int, price_max: int) -> None:
    if not 0 < price_min <= price_max <= MAX_PRICE_FEN:
        raise InvalidPriceRange(
            f"price_min ({price_min}) must be at least 1 fen and not above price_max ({price_max})."
        )


def check_price_in_range(price: int, price_min: int, price_max: int, *, what: str) -> None:
    if not price_min <= price <= price_max:
        raise PriceOutOfRange(
            f"{what} {price} fen is outside the supplier's range {price_min}–{price_max} fen.",
            price=price,
            price_min=price_min,
            price_max=price_max,
        )


def effective_commission(product_bps: int, override_bps: int | None) -> int:
    """The rate a merchant earns: its own override when the supplier set one."""
    return product_bps if override_bps is None else override_bps


# Magic numbers of the image formats a browser shows everywhere.
_IMAGE_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
)


def sniff_image(data: bytes) -> str:
    """The content type from the file's own bytes (never from the client's header)."""
    for magic, offset, kind in _IMAGE_MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise UnsupportedImage("Upload a PNG, JPEG, GIF or WebP image.")
