"""Live-session request and response bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from daihuo.core.types import STRICT_INPUT, Identifier, Name

MAX_PRODUCTS = 200


def _distinct(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"lists {i} more than once")
        seen.add(i)
    return ids


ProductList = Annotated[
    list[Identifier],
    Field(max_length=MAX_PRODUCTS, description="Showcase item ids in running order."),
    AfterValidator(_distinct),
]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone, e.g. 2026-12-01T20:00:00+08:00")
    return value.astimezone(UTC)


class LiveSessionCreate(BaseModel):
    model_config = STRICT_INPUT

    title: Name
    planned_start: Annotated[datetime, AfterValidator(_aware)]
    products: ProductList = Field(default_factory=list)


class ProductListSet(BaseModel):
    model_config = STRICT_INPUT

    products: ProductList


class SessionProduct(BaseModel):
    position: int = Field(description="1 for the first product explained, then 2, 3, …")
    item_id: str
    product_id: str
    title: str
    price: int = Field(description="The merchant's selling price in fen.")


class LiveSessionRead(BaseModel):
    id: str
    title: str
    planned_start: datetime
    state: str
    products: list[SessionProduct]
    created_at: datetime
    updated_at: datetime
