"""Request and response bodies of answer drafts (``assistant.answers`` drafts them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from daihuo.core.types import STRICT_INPUT, Identifier, Text


class QuestionAsked(BaseModel):
    model_config = STRICT_INPUT
    question: Annotated[Text, StringConstraints(min_length=1, max_length=500)] = Field(
        description="The viewer's question as they wrote it (emoji, typos and all)."
    )
    lang: Literal["zh-CN", "en"] = Field(default="zh-CN", description="The draft's language.")


class DraftRequest(QuestionAsked):
    product_id: Identifier | None = Field(
        default=None,
        description="A product (or showcase item) of the shop; default: the pinned product.",
    )


class DraftRead(BaseModel):
    text: str = Field(description="What the host would say; never sent without the host.")
    slot: str = Field(
        description="What it answers: size, price, material, shipping, stock, usage, faq, "
        "description, attribute; unknown when the data has nothing, unknown_product when "
        "the product is not the shop's, no_product when none was named or pinned."
    )
    source: str = Field(description="Where in the product data the text comes from.")
    confidence: float = Field(ge=0, le=1, description="How sure the match is; 0 for no answer.")


class DraftsRead(BaseModel):
    question: str
    product_id: str | None = Field(description="The product answered about, if any.")
    product_title: str | None = Field(description="Its title, when it is the shop's.")
    drafts: list[DraftRead] = Field(description="Best first; at least one.")
