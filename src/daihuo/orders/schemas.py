"""Order request and response bodies. Money is integer fen; the client never sends an
amount for an order: it is the shop's price times the quantity, computed here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from daihuo.core.types import STRICT_INPUT, Identifier, Name, Text
from daihuo.orders.domain import Actor, OrderState

Reason = Annotated[Text, StringConstraints(max_length=500)]


class DeliveryAddress(BaseModel):
    """Where the supplier ships the order (收货地址)."""

    model_config = STRICT_INPUT
    recipient: Annotated[Name, StringConstraints(max_length=40)]
    phone: str = Field(pattern=r"^\+?[0-9][0-9 \-]{5,19}$", description="Digits, spaces, dashes.")
    region: Annotated[Name, StringConstraints(max_length=100)] = Field(
        description="Province, city and district, e.g. 浙江省 杭州市 西湖区."
    )
    detail: Annotated[Name, StringConstraints(max_length=200)] = Field(
        description="Street, building, room."
    )


class OrderCreate(BaseModel):
    model_config = STRICT_INPUT
    item_id: Identifier = Field(description="A showcase item of the merchant's shop.")
    sku_id: Identifier
    quantity: int = Field(ge=1, le=1_000_000, strict=True)
    session: Identifier | None = Field(
        default=None, description="The live session the order was placed in, if any."
    )
    address: DeliveryAddress | None = Field(
        default=None, description="Where to ship it; needed before the supplier can ship."
    )
    coupon_id: Identifier | None = Field(
        default=None,
        description="A coupon of this shop the buyer claimed in a live room (GET "
        "/api/v1/me/coupons): its amount comes off the order. Spent by this order; given "
        "back if the order is cancelled or expires unpaid.",
    )


class Shipment(BaseModel):
    model_config = STRICT_INPUT
    carrier: Name
    tracking_no: Annotated[str, StringConstraints(min_length=1, max_length=60)] = Field(
        pattern=r"^[A-Za-z0-9\-]+$"
    )


class RefundRequest(BaseModel):
    model_config = STRICT_INPUT
    amount: int | None = Field(
        default=None, ge=1, strict=True, description="Fen to refund; all that was paid if omitted."
    )
    reason: Reason = ""


class RefundRejection(BaseModel):
    model_config = STRICT_INPUT
    reason: Annotated[Text, StringConstraints(min_length=1, max_length=500)]


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    state: OrderState
    buyer_id: str
    merchant_id: str
    supplier_id: str
    item_id: str
    product_id: str
    sku_id: str
    title: str
    quantity: int
    unit_price: int
    amount: int = Field(description="What the buyer pays: unit price × quantity − discount.")
    discount: int = Field(description="Fen off from the coupon spent on the order (0: none).")
    coupon_id: str | None
    commission_bps: int
    refunded_amount: int
    refund_amount: int | None
    refund_reason: str | None
    session: str
    flash_sale_id: str | None = Field(default=None, description="Bought in this flash sale.")
    delivery: DeliveryAddress | None = Field(default=None, description="Where it ships.")
    carrier: str | None
    tracking_no: str | None
    created_at: datetime
    expires_at: datetime | None = Field(
        default=None, description="When an unpaid order's reservation ends."
    )
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    refunded_at: datetime | None


class HistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    action: str
    from_state: OrderState | None
    to_state: OrderState
    actor: Actor
    actor_id: str | None
    actor_tenant_id: str | None
    amount: int | None
    note: str | None
    at: datetime


class OrderFacts(BaseModel):
    """What settlement needs of an order: who is paid for what, and what came back.

    ``paid_amount`` is the amount once the order was paid (0 before, and for orders
    cancelled unpaid); ``refunded_amount`` what the provider confirmed refunded.
    """

    model_config = ConfigDict(frozen=True)
    order_id: str
    state: OrderState
    buyer_id: str
    merchant_id: str
    supplier_id: str
    product_id: str
    sku_id: str
    quantity: int
    unit_price: int
    amount: int
    commission_bps: int
    paid_amount: int
    refunded_amount: int
    paid_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    refunded_at: datetime | None


class OutboxRecord(BaseModel):
    """One row of ``order_outbox``: ``payload`` is the event as events.md defines it."""

    model_config = ConfigDict(frozen=True)
    seq: int
    event_id: str
    type: str
    order_id: str
    payload: dict[str, Any]
    created_at: datetime


class PayableOrder(BaseModel):
    """What the payments module needs to charge for an order."""

    model_config = ConfigDict(frozen=True)
    order_id: str
    buyer_id: str
    amount: int
    title: str


class RefundPlan(BaseModel):
    """An approved refund the payments module sends to the provider."""

    model_config = ConfigDict(frozen=True)
    order_id: str
    amount: int
    reason: str
