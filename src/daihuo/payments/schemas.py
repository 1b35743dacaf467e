"""Payment request and response bodies. There is no amount in any request: what is
charged is the order's amount, and what is refunded is checked against what was paid."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from daihuo.core.types import STRICT_INPUT


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    order_id: str
    provider: str
    amount: int
    state: str
    pay_url: str | None = Field(description="Send the buyer here to pay.")
    created_at: datetime
    paid_at: datetime | None


class RefundApprove(BaseModel):
    model_config = STRICT_INPUT
    amount: int | None = Field(
        default=None, ge=1, strict=True, description="Fen to refund; default the amount requested."
    )


class RefundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    order_id: str
    payment_id: str
    amount: int
    state: str
    created_at: datetime


class WebhookAck(BaseModel):
    received: bool = True
    event_id: str
    effect: str = Field(description="What the callback changed, e.g. 'order paid'.")
