"""Catalog tables. Products, SKUs, images and commission overrides belong to the
supplier tenant; showcase items to the merchant tenant (both scoped automatically).
``product_terms`` is a derived search index keyed by product; it is only ever joined
to ``products``, whose scoping or explicit pool filter decides what is visible."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from daihuo.core.db import Base, TenantScoped


class Product(TenantScoped, Base):
    """A supplier's product (SPU). Prices in fen; commission in basis points."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_min > 0 AND price_min <= price_max", name="price_range"),
        CheckConstraint("commission_bps >= 0 AND commission_bps <= 9000", name="commission"),
        Index("ix_products_state_category", "state", "category"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What the supplier states for answering viewers (``schemas.ProductFacts``).
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16))
    price_min: Mapped[int] = mapped_column(BigInteger)
    price_max: Mapped[int] = mapped_column(BigInteger)
    commission_bps: Mapped[int] = mapped_column(Integer)
    max_per_user: Mapped[int | None] = mapped_column(Integer)
    review_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    listed_at: Mapped[datetime | None]


class Sku(TenantScoped, Base):
    """One variant of a product with its stock.

    ``available + reserved + sold`` only changes by restocking: a purchase moves units
    from ``available`` to ``reserved`` (a conditional UPDATE, never read-then-write),
    payment from ``reserved`` to ``sold``, cancellation back to ``available``.
    """

    __tablename__ = "skus"
    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        CheckConstraint("available >= 0", name="available"),
        CheckConstraint("reserved >= 0", name="reserved"),
        CheckConstraint("sold >= 0", name="sold"),
        CheckConstraint("price > 0", name="price"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    price: Mapped[int] = mapped_column(BigInteger)
    available: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class ProductImage(TenantScoped, Base):
    __tablename__ = "product_images"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class ProductTerm(Base):
    """One jieba term of a product's searchable text (see ``catalog.search``)."""

    __tablename__ = "product_terms"

    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class CommissionOverride(TenantScoped, Base):
    """A supplier's commission rate for one merchant on one product."""

    __tablename__ = "commission_overrides"
    __table_args__ = (
        UniqueConstraint("product_id", "merchant_id"),
        CheckConstraint("commission_bps >= 0 AND commission_bps <= 9000", name="commission"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    merchant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    commission_bps: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class ShowcaseItem(TenantScoped, Base):
    """A pool product a merchant picked, at the merchant's own selling price."""

    __tablename__ = "showcase_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "product_id"),
        CheckConstraint("price > 0", name="price"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    price: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Batch(TenantScoped, Base):
    """A production batch of a supplier's product; ``public_id`` names its public page
    (``/p/{public_id}``, printed on the package as a QR code): random, not the ULID, so
    that one package does not reveal when the supplier's other batches were made."""

    __tablename__ = "trace_batches"
    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        CheckConstraint("quantity >= 0", name="quantity"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    code: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(BigInteger)
    notes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class TraceStep(TenantScoped, Base):
    """One step of a batch's life, and where it sits in the transparency log.

    The row is committed first with ``leaf_index`` NULL; the ``trace`` entry is appended
    after the commit and its index stored. ``recorded_at`` is the entry's ``ts`` and
    ``log_floor`` the signed tree size seen before the commit — no leaf of this step
    can sit below it — so the entry can be rebuilt byte for byte and looked up again by
    the recovery (``catalog.trace.recover_steps``) after a crash between the two.
    """

    __tablename__ = "trace_steps"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[str] = mapped_column(
        ForeignKey("trace_batches.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]
    log_floor: Mapped[int] = mapped_column(BigInteger)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, index=True)


class TraceEvidence(TenantScoped, Base):
    """A file that backs a step (photo, inspection report). Uploaded to the batch first,
    then named by the step that it supports; only its SHA-256 goes into the log."""

    __tablename__ = "trace_evidence"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[str] = mapped_column(
        ForeignKey("trace_batches.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str | None] = mapped_column(
        ForeignKey("trace_steps.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class FlashSale(TenantScoped, Base):
    """Units of one SKU set aside by a merchant for a flash sale (秒杀) at a sale price.

    Creating the sale moves ``units`` of the SKU from ``available`` to ``reserved``:
    the sale holds them. A buyer's win takes units from ``remaining`` (a conditional
    UPDATE, like any reservation) into the buyer's order, which keeps them reserved
    until it is paid (reserved → sold) or lapses — then they go back to ``remaining``
    while the sale runs, or to the SKU's ``available`` once it has ended. Ending the
    sale returns ``remaining`` to ``available``. So ``remaining`` plus the units of the
    sale's open orders is what the sale holds of the SKU's ``reserved``.
    """

    __tablename__ = "flash_sales"
    __table_args__ = (
        CheckConstraint("units > 0", name="units"),
        CheckConstraint("remaining >= 0 AND remaining <= units", name="remaining"),
        CheckConstraint("per_user_limit > 0", name="per_user_limit"),
        CheckConstraint("price > 0", name="price"),
        CheckConstraint("ends_at > starts_at", name="window"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str | None] = mapped_column(String(40), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("showcase_items.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(BigInteger)
    commission_bps: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    per_user_limit: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class FlashHold(Base):
    """Units of a flash sale a buyer holds (in open or paid orders), for its per-user limit."""

    __tablename__ = "flash_holds"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity"),)

    sale_id: Mapped[str] = mapped_column(
        ForeignKey("flash_sales.id", ondelete="CASCADE"), primary_key=True
    )
    buyer_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
