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

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from daihuo.catalog.errors import (
    InvalidPriceRange,
    InvalidProductTransition,
    PriceOutOfRange,
    StepTimeOutOfRange,
    UnknownTraceStep,
    UnsupportedEvidence,
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


# --- traceability ---------------------------------------------------------------------------
#
# A batch is one production run of a product; its life is a list of trace steps after the
# GS1 EPCIS event model: what happened (``step``), when (``at``), where (``place``), who
# (``actor``: the supplier tenant) and why we believe it (``evidence``: SHA-256 of files).
# Every step is one ``trace`` entry of the transparency log (shared/spec/ledger.md).

TRACE_STEPS: dict[str, tuple[str, str]] = {
    # step: (zh-CN label, English label); the EPCIS business step it corresponds to in the
    # comment. The order is the usual order of a product's life, not a rule.
    "sourced": ("原料采购", "Sourced"),  # EPCIS commissioning of inputs / receiving
    "produced": ("生产", "Produced"),  # commissioning
    "processed": ("加工", "Processed"),  # transforming
    "inspected": ("检验", "Inspected"),  # inspecting
    "packed": ("包装", "Packed"),  # packing
    "stored": ("入库", "Stored"),  # storing
    "shipped": ("发货", "Shipped"),  # shipping
    "received": ("收货", "Received"),  # receiving
}
STEP_CLOCK_SKEW = timedelta(minutes=5)  # how far in the future a step's time may lie
EARLIEST_STEP = datetime(2000, 1, 1, tzinfo=UTC)
MAX_EVIDENCE_BYTES = 8 * 1024 * 1024  # the deployment's body limit applies first
MAX_EVIDENCE_PER_BATCH = 200
MAX_EVIDENCE_PER_STEP = 10
MAX_BATCHES_PER_PRODUCT = 10_000

# Magic numbers of the evidence formats: photos and PDF reports.
_PDF_MAGIC = b"%PDF-"


def check_step(step: str) -> str:
    if step not in TRACE_STEPS:
        raise UnknownTraceStep(
            f"step {step!r} is not one of: {', '.join(TRACE_STEPS)}.", allowed=list(TRACE_STEPS)
        )
    return step


def to_millis(ts: datetime) -> datetime:
    """UTC, truncated to the millisecond: what the log's timestamps carry."""
    utc = ts.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def check_step_time(at: datetime, now: datetime) -> datetime:
    """The step's time in UTC milliseconds; not in the future beyond the skew, not pre-2000."""
    if at.tzinfo is None:
        raise StepTimeOutOfRange("at must carry a timezone, e.g. 2026-11-20T08:30:00+08:00.")
    if at > now + STEP_CLOCK_SKEW:
        raise StepTimeOutOfRange(
            f"at {at.isoformat()} is in the future (the server's time is {now.isoformat()})."
        )
    if at < EARLIEST_STEP:
        raise StepTimeOutOfRange(f"at {at.isoformat()} is before {EARLIEST_STEP.date()}.")
    return to_millis(at)


def iso_millis(ts: datetime) -> str:
    """``2026-11-27T12:00:05.120Z``: the spelling of times inside log entries."""
    utc = to_millis(ts)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def sniff_evidence(data: bytes) -> str:
    """The content type of an evidence file from its bytes: an image or a PDF."""
    if data.startswith(_PDF_MAGIC):
        return "application/pdf"
    try:
        return sniff_image(data)
    except UnsupportedImage as exc:
        raise UnsupportedEvidence("Upload a PNG, JPEG, GIF or WebP photo or a PDF.") from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def trace_body(
    *,
    product: str,
    batch: str,
    step: str,
    at: datetime,
    place: str,
    actor: str,
    evidence: Sequence[str],
) -> dict[str, Any]:
    """The ``body`` of a ``trace`` entry. ``evidence`` (lower-case hex SHA-256 of each
    file, sorted so that the same files give the same bytes) is left out when empty."""
    body: dict[str, Any] = {
        "product": product,
        "batch": batch,
        "step": step,
        "at": iso_millis(at),
        "place": place,
        "actor": actor,
    }
    if evidence:
        body["evidence"] = sorted(evidence)
    return body
