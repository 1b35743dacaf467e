"""Catalog request and response bodies. Money is integer fen; commission is in basis
points of the selling price (1500 = 15 %, at most 9000 = 90 %)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from daihuo.catalog.domain import (
    MAX_COMMISSION_BPS,
    MAX_PRICE_FEN,
    MAX_SKUS,
    MAX_STOCK,
    ProductState,
)
from daihuo.core.types import STRICT_INPUT, Identifier, Name, Text

Fen = Annotated[
    int, Field(ge=1, le=MAX_PRICE_FEN, strict=True, description="Money in fen (1/100 CNY).")
]
Bps = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_COMMISSION_BPS,
        strict=True,
        description="Basis points of the selling price (0–9000).",
    ),
]
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK, strict=True)]


def _line(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 or c in "\u2028\u2029" for c in value):
        raise ValueError("must not contain control characters or line breaks")
    return value


def _category(value: str) -> str:
    parts = value.split("/")
    if any(not p.strip() or p != p.strip() for p in parts) or len(parts) > 4:
        raise ValueError("must be 1 to 4 non-empty levels separated by '/', e.g. 服饰/女装")
    return value


Category = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(_line),
    AfterValidator(_category),
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
SkuCode = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-.]+$")
]


Label = Annotated[ShortText, AfterValidator(_line)]
Value = Annotated[Name, AfterValidator(_line)]
Attributes = Annotated[dict[Label, Value], Field(max_length=30)]


# --- what a host may tell viewers (answer drafts, issue 10) ---------------------------------

FactText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_line),
]
Question = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_line),
]
Height = Annotated[int, Field(ge=30, le=250, strict=True)]
Weight = Annotated[int, Field(ge=2, le=300, strict=True)]


class FaqEntry(BaseModel):
    """A question the supplier answers once for every host: 能机洗吗 → 可以，30 度以下。"""

    model_config = STRICT_INPUT
    q: Question
    a: FactText


class SizeRow(BaseModel):
    """One size of the size chart: for whom it fits (height in cm, weight in kg)."""

    model_config = STRICT_INPUT
    size: Label = Field(description='The size as the SKU specs name it, e.g. "M".')
    height_cm: tuple[Height, Height] | None = Field(default=None, description="[min, max]")
    weight_kg: tuple[Weight, Weight] | None = Field(default=None, description="[min, max]")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = Field(
        default="", description="Anything else of this size, e.g. 胸围 96cm."
    )

    @model_validator(mode="after")
    def _ranges(self) -> SizeRow:
        for name in ("height_cm", "weight_kg"):
            pair = getattr(self, name)
            if pair is not None and pair[0] > pair[1]:
                raise ValueError(f"{name} must be [min, max] with min <= max")
        return self


class ProductFacts(BaseModel):
    """What the supplier states about the product for hosts to answer viewers with.
    Every field is optional: an answer draft says it does not know rather than guess."""

    model_config = STRICT_INPUT
    material: FactText | None = Field(default=None, description="e.g. 95% 棉 5% 氨纶")
    shipping_promise: FactText | None = Field(
        default=None, description="e.g. 付款后 48 小时内发货，默认中通，包邮（偏远地区除外）"
    )
    usage: FactText | None = Field(default=None, description="How to use, wash or keep it.")
    size_chart: list[SizeRow] = Field(default_factory=list, max_length=20)
    faq: list[FaqEntry] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _sizes_unique(self) -> ProductFacts:
        sizes = [r.size for r in self.size_chart]
        if len(sizes) != len(set(sizes)):
            raise ValueError("each size appears once in the size chart")
        return self


class SkuCreate(BaseModel):
    model_config = STRICT_INPUT
    code: SkuCode
    spec: Annotated[dict[Label, Value], Field(max_length=5)] = Field(
        default_factory=dict, description='e.g. {"颜色": "红", "尺码": "M"}'
    )
    price: Fen = Field(description="Suggested selling price, inside the product's range.")
    stock: Stock


class ProductCreate(BaseModel):
    model_config = STRICT_INPUT
    title: Name
    category: Category
    description: Text = ""
    attributes: Attributes = Field(default_factory=dict)
    facts: ProductFacts = Field(default_factory=ProductFacts)
    price_min: Fen = Field(description="Lowest selling price a merchant may set.")
    price_max: Fen = Field(description="Highest selling price a merchant may set.")
    commission_bps: Bps
    max_per_user: int | None = Field(default=None, ge=1, le=1_000_000, strict=True)
    skus: list[SkuCreate] = Field(min_length=1, max_length=MAX_SKUS)

    @model_validator(mode="after")
    def _codes_unique(self) -> ProductCreate:
        codes = [s.code for s in self.skus]
        if len(codes) != len(set(codes)):
            raise ValueError("SKU codes must be unique within a product")
        return self


class ProductUpdate(BaseModel):
    model_config = STRICT_INPUT
    title: Name | None = None
    category: Category | None = None
    description: Text | None = None
    attributes: Attributes | None = None
    facts: ProductFacts | None = None
    price_min: Fen | None = None
    price_max: Fen | None = None
    commission_bps: Bps | None = None
    max_per_user: int | None = Field(
        default=None, ge=1, le=1_000_000, strict=True, description="Send null to remove the limit."
    )

    @model_validator(mode="after")
    def _no_null_except_limit(self) -> ProductUpdate:
        nulls = [
            f for f in self.model_fields_set if f != "max_per_user" and getattr(self, f) is None
        ]
        if nulls:
            raise ValueError(f"{', '.join(sorted(nulls))} cannot be null")
        return self


class SkuUpdate(BaseModel):
    model_config = STRICT_INPUT
    price: Fen | None = None
    spec: Annotated[dict[Label, Value], Field(max_length=5)] | None = None


class StockAdjust(BaseModel):
    model_config = STRICT_INPUT
    delta: int = Field(
        ge=-MAX_STOCK, le=MAX_STOCK, strict=True, description="Units to add (or remove, negative)."
    )


class CommissionSet(BaseModel):
    model_config = STRICT_INPUT
    commission_bps: Bps


class Rejection(BaseModel):
    model_config = STRICT_INPUT
    reason: Annotated[Text, StringConstraints(min_length=1, max_length=500)]


class SkuRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    code: str
    spec: dict[str, Any]
    price: int
    available: int
    reserved: int
    sold: int


class ImageRead(BaseModel):
    id: str
    content_type: str
    size: int
    url: str


class ProductRead(BaseModel):
    """A product as its supplier sees it."""

    id: str
    supplier_id: str
    title: str
    category: str
    description: str
    attributes: dict[str, Any]
    facts: ProductFacts
    state: ProductState
    price_min: int
    price_max: int
    commission_bps: int
    max_per_user: int | None
    review_note: str | None
    skus: list[SkuRead]
    images: list[ImageRead]
    created_at: datetime
    updated_at: datetime
    listed_at: datetime | None


class PoolSku(BaseModel):
    id: str
    code: str
    spec: dict[str, Any]
    price: int
    available: int


class PoolProduct(BaseModel):
    """A listed product in the supply pool, with the commission the caller would earn."""

    id: str
    supplier_id: str
    title: str
    category: str
    description: str
    attributes: dict[str, Any]
    facts: ProductFacts
    price_min: int
    price_max: int
    commission_bps: int
    max_per_user: int | None
    stock: int
    sales: int
    skus: list[PoolSku]
    images: list[ImageRead]
    listed_at: datetime | None


class ProductSheet(BaseModel):
    """A product of the merchant's showcase with everything a host may tell viewers:
    its content, the supplier's facts, the shop's price and each SKU's stock."""

    product_id: str
    item_id: str
    title: str
    category: str
    description: str
    attributes: dict[str, Any]
    facts: ProductFacts
    price: int = Field(description="The shop's selling price in fen (every SKU).")
    max_per_user: int | None
    skus: list[PoolSku]


class ReviewItem(BaseModel):
    id: str
    supplier_id: str
    title: str
    category: str
    state: ProductState
    updated_at: datetime


class CommissionRead(BaseModel):
    product_id: str
    merchant_id: str
    commission_bps: int


class ShowcaseCreate(BaseModel):
    model_config = STRICT_INPUT
    product_id: Identifier
    price: Fen = Field(description="The merchant's selling price, inside the supplier's range.")


class ShowcaseUpdate(BaseModel):
    model_config = STRICT_INPUT
    price: Fen


class ShowcaseItemRead(BaseModel):
    id: str
    product_id: str
    title: str
    product_state: ProductState
    price: int
    price_min: int
    price_max: int
    commission_bps: int = Field(description="What the merchant earns per sale, in basis points.")
    created_at: datetime
    updated_at: datetime


class StorefrontItem(BaseModel):
    """A showcase item as consumers see it: what they can buy and at which price."""

    id: str
    merchant_id: str
    product_id: str
    title: str
    category: str
    description: str
    price: int
    max_per_user: int | None
    skus: list[PoolSku]
    images: list[ImageRead]


SortKey = Literal["newest", "sales", "commission", "price"]


class PoolQuery(BaseModel):
    q: str | None = None
    category: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    commission_min: int | None = None
    stock_min: int | None = None
    sales_min: int | None = None
    sort: SortKey = "newest"
    cursor: str | None = None
    limit: int = 50


# --- traceability --------------------------------------------------------------------------

BatchCode = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-.]+$")
]
Place = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_line),
]


class BatchCreate(BaseModel):
    model_config = STRICT_INPUT
    code: BatchCode = Field(description="The supplier's batch (lot) code, unique per product.")
    quantity: int = Field(ge=0, le=10**12, strict=True, description="Units made in the batch.")
    notes: Annotated[Text, StringConstraints(max_length=2000)] = ""


class EvidenceRead(BaseModel):
    id: str
    sha256: str = Field(description="Lower-case hex SHA-256 of the file: what the log holds.")
    size: int
    content_type: str
    url: str = Field(description="Where anyone can fetch the file to check its hash.")


class StepCreate(BaseModel):
    model_config = STRICT_INPUT
    step: Annotated[str, StringConstraints(min_length=1, max_length=16)] = Field(
        description="sourced, produced, processed, inspected, packed, stored, shipped, received."
    )
    at: AwareDatetime = Field(description="When it happened, with a timezone.")
    place: Place
    evidence: list[Identifier] = Field(
        default_factory=list,
        max_length=10,
        description="Ids of evidence files uploaded to this batch and not used by a step yet.",
    )


class StepRead(BaseModel):
    id: str
    step: str
    at: datetime
    place: str
    actor: str = Field(description="The supplier tenant that recorded the step.")
    evidence: list[EvidenceRead]
    recorded_at: datetime
    leaf_index: int | None = Field(
        description="Index of the step's trace entry in the transparency log; null while pending."
    )


class BatchRead(BaseModel):
    id: str
    public_id: str
    product_id: str
    code: str
    quantity: int
    notes: str
    page_url: str = Field(description="The public provenance page (also in the QR code).")
    created_at: datetime
    steps: list[StepRead]


class ProvenanceProduct(BaseModel):
    id: str
    title: str
    supplier_id: str
    supplier_name: str
    image_url: str | None


class ProvenanceBatch(BaseModel):
    public_id: str
    code: str
    quantity: int
    notes: str
    created_at: datetime


class ProvenanceStep(BaseModel):
    """A step as published, with where to fetch its log entry and inclusion proof."""

    id: str
    step: str
    at: str = Field(description="As in the log entry: UTC, milliseconds.")
    place: str
    actor: str
    evidence: list[EvidenceRead]
    recorded_at: str = Field(description="The entry's ts.")
    leaf_index: int | None
    entry_url: str | None
    proof_url: str | None = Field(
        description="Inclusion proof in the signed tree current when this was served."
    )


class ProvenanceRead(BaseModel):
    product: ProvenanceProduct
    batch: ProvenanceBatch
    steps: list[ProvenanceStep]
    tree_size: int = Field(description="Size of the signed tree the proof URLs refer to.")
    checkpoint_url: str
    keys_url: str


class FlashSaleCreate(BaseModel):
    model_config = STRICT_INPUT
    item_id: Identifier = Field(description="A showcase item of the caller's shop.")
    sku_id: Identifier
    price: Fen = Field(description="The sale price, inside the supplier's range.")
    units: int = Field(ge=1, le=1_000_000, description="Units of the SKU set aside for the sale.")
    per_user_limit: int = Field(default=1, ge=1, le=100)
    starts_at: AwareDatetime | None = Field(default=None, description="Default: now.")
    duration_seconds: int = Field(default=300, ge=10, le=7 * 24 * 3600)


class FlashSaleRead(BaseModel):
    id: str
    session_id: str | None
    item_id: str
    product_id: str
    sku_id: str
    title: str
    price: int
    units: int
    remaining: int = Field(description="Units not yet taken by a buyer's open or paid order.")
    per_user_limit: int
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    created_at: datetime
