"""Live-session request and response bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator

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


MAX_STREAM_URL = 500


def _stream_url(value: str) -> str:
    # The page hands this URL to hls.js / mpegts.js: only absolute http(s) URLs, no
    # credentials, no spaces or control characters, no javascript: or data: schemes.
    if len(value) > MAX_STREAM_URL:
        raise ValueError(f"must be at most {MAX_STREAM_URL} characters")
    if not value.isascii() or any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in value):
        raise ValueError("must be an ASCII URL without spaces or control characters")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL (HLS or FLV)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    del port
    return value


StreamUrl = Annotated[
    str,
    AfterValidator(_stream_url),
    Field(
        description="The HLS (.m3u8) or FLV stream the live-room page plays.",
        examples=["https://live.example.com/app/room1.m3u8"],
    ),
]


class LiveSessionStart(BaseModel):
    model_config = STRICT_INPUT

    stream_url: StreamUrl | None = None


class VisitorTokenRead(BaseModel):
    token: str = Field(description="Send it in the WebSocket hello as `visitor`.")
    visitor: str = Field(description="The anonymous viewer id the room and the events use.")
    expires_at: datetime


class SessionProduct(BaseModel):
    position: int = Field(description="1 for the first product explained, then 2, 3, …")
    item_id: str
    product_id: str
    title: str
    price: int = Field(description="The merchant's selling price in fen.")


class PinSet(BaseModel):
    model_config = STRICT_INPUT

    item_id: Identifier = Field(description="A showcase item of the session's product list.")


class LiveSessionRead(BaseModel):
    id: str
    title: str
    planned_start: datetime
    state: str
    stream_url: str | None
    pinned: SessionProduct | None = Field(description="The product being explained now.")
    started_at: datetime | None
    ended_at: datetime | None
    products: list[SessionProduct]
    created_at: datetime
    updated_at: datetime


MAX_WORDS = 2000
MAX_WORD_CHARS = 20


def _words(words: list[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        if not w.strip() or len(w) > MAX_WORD_CHARS:
            raise ValueError(f"each word has 1 to {MAX_WORD_CHARS} characters")
        if any(not c.isprintable() for c in w):
            raise ValueError("words must not hold control characters or line breaks")
        if w not in out:
            out.append(w)
    return out


class WordListSet(BaseModel):
    model_config = STRICT_INPUT

    words: Annotated[
        list[str],
        Field(max_length=MAX_WORDS, description="The merchant's own words; repeats are dropped."),
        AfterValidator(_words),
    ]


class WordListRead(BaseModel):
    words: list[str] = Field(description="The merchant's own words.")
    default: list[str] = Field(description="The platform's default list, always applied too.")


MAX_MUTE_SECONDS = 24 * 3600
MAX_SLOW_MODE_SECONDS = 300


class MuteSet(BaseModel):
    model_config = STRICT_INPUT

    user: Identifier = Field(description="The viewer: a user id or an anonymous `anon_…` id.")
    seconds: int = Field(ge=1, le=MAX_MUTE_SECONDS, description="How long they may not comment.")


class BanSet(BaseModel):
    model_config = STRICT_INPUT

    user: Identifier = Field(description="The viewer: a user id or an anonymous `anon_…` id.")


class SlowModeSet(BaseModel):
    model_config = STRICT_INPUT

    seconds: int = Field(
        ge=0, le=MAX_SLOW_MODE_SECONDS, description="One comment per user per this long; 0: off."
    )


class CommentPinSet(BaseModel):
    model_config = STRICT_INPUT

    comment_id: Identifier = Field(description="One of the room's recent comments (`id`).")


class RoomRead(BaseModel):
    """A session as its public room shows it: whose it is, whether it is on, what it sells."""

    id: str
    merchant_id: str = Field(description="The shop: its items are at /api/v1/shops/{id}/items.")
    title: str
    state: str
    stream_url: str | None = Field(description="HLS or FLV to play; none: a product slideshow.")
    products: list[SessionProduct]


def single_line(value: str) -> str:
    if any(not c.isprintable() for c in value):
        raise ValueError("must not contain control characters or line breaks")
    return value


MAX_COUPON_AMOUNT = 10_000_000  # 100,000 CNY in fen
MAX_COUPON_QUANTITY = 100_000


class CouponCreate(BaseModel):
    model_config = STRICT_INPUT

    amount: int = Field(strict=True, ge=1, le=MAX_COUPON_AMOUNT, description="Fen off the order.")
    threshold: int = Field(
        default=0,
        strict=True,
        ge=0,
        le=10 * MAX_COUPON_AMOUNT,
        description="The least order amount in fen it applies to (0: any); more than `amount`.",
    )
    quantity: int = Field(
        strict=True, ge=1, le=MAX_COUPON_QUANTITY, description="How many can be claimed in all."
    )
    claim_seconds: int = Field(
        default=300, strict=True, ge=1, le=24 * 3600, description="Claimable for this long."
    )
    valid_days: int = Field(
        default=7, strict=True, ge=1, le=90, description="A claimed coupon is valid this long."
    )

    @model_validator(mode="after")
    def _threshold_above_amount(self) -> Self:
        if self.threshold and self.threshold <= self.amount:
            raise ValueError("threshold must be 0 or more than the amount")
        return self


class CouponRead(BaseModel):
    id: str
    session_id: str
    amount: int = Field(description="Fen off the order.")
    threshold: int = Field(description="The least order amount in fen (0: any).")
    quantity: int
    claimed: int
    claim_until: datetime
    expires_at: datetime
    created_at: datetime


class ClaimedCoupon(BaseModel):
    id: str = Field(description="The claim's id.")
    coupon_id: str
    session_id: str
    merchant_id: str
    amount: int = Field(description="Fen off the order.")
    threshold: int = Field(description="The least order amount in fen (0: any).")
    claimed_at: datetime
    expires_at: datetime
    order_id: str | None = Field(
        default=None, description="The order it was spent on (null: not spent yet)."
    )
    used_at: datetime | None = None


Keyword = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20),
    AfterValidator(single_line),
]


class DrawCreate(BaseModel):
    model_config = STRICT_INPUT

    prize: Name = Field(description="What the winners get, e.g. 口红小样一支.")
    winners: int = Field(strict=True, ge=1, le=1000, description="How many winners.")
    condition: Literal["comment", "follow"] = Field(
        description="`comment`: a comment containing `keyword`; `follow`: following the host."
    )
    keyword: Keyword | None = Field(default=None, description="For `comment` draws only.")
    seconds: int = Field(
        default=60, strict=True, ge=1, le=3600, description="Entries are taken for this long."
    )

    @model_validator(mode="after")
    def _keyword_for_comments(self) -> Self:
        if (self.condition == "comment") != (self.keyword is not None):
            raise ValueError("a comment draw needs a keyword; a follow draw takes none")
        return self


class DrawRead(BaseModel):
    id: str
    session_id: str
    prize: str
    winner_count: int
    condition: str
    keyword: str | None
    state: str = Field(description="`running`, then `drawn`.")
    commitment: str = Field(description="sha256(seed), hex: published when the draw starts.")
    starts_at: datetime
    ends_at: datetime
    seed: str | None = Field(description="The seed (hex), revealed once drawn.")
    entrant_count: int | None
    entrants_hash: str | None = Field(description="sha256 of the sorted entrant list (hex).")
    winners: list[str] | None = Field(description="User ids in draw order, once drawn.")
    entrants: list[str] | None = Field(
        default=None, description="The sorted entrant list (on the public draw page only)."
    )
    drawn_at: datetime | None


AnnouncementText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(single_line),
]


class AnnouncementCreate(BaseModel):
    model_config = STRICT_INPUT

    text: AnnouncementText
    seconds: int = Field(
        default=600, strict=True, ge=10, le=3600, description="Shown (and in snapshots) this long."
    )


class AnnouncementRead(BaseModel):
    id: str
    text: str
    at: datetime
    until: datetime


class ModerationActRead(BaseModel):
    id: str
    act: str = Field(
        description="delete_comment, pin_comment, unpin_comment, mute, ban, slow_mode, "
        "pin_product, unpin_product, coupon, draw, draw_result or announcement."
    )
    by: str | None = Field(description="The acting user; none for the system.")
    target: str | None = Field(description="The user, comment, coupon, draw… acted on.")
    detail: dict[str, Any]
    at: datetime
