"""Live-session tables, scoped to the merchant tenant that runs the session.

One exception: a coupon claim (:class:`LiveCouponClaim`) is the buyer's as much as the
merchant's (a buyer lists its coupons of every merchant), so like an order it is not
``TenantScoped`` and names its merchant in ``merchant_id``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from daihuo.core.db import Base, TenantScoped


class LiveSession(TenantScoped, Base):
    __tablename__ = "live_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    planned_start: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    # The merchant's own HLS or FLV stream, played by the live-room page; none means the
    # room runs without video (a slideshow of the pinned product).
    stream_url: Mapped[str | None] = mapped_column(String(500))
    # The showcase item the host is explaining now (讲解), if any; shown in the room.
    pinned_item_id: Mapped[str | None] = mapped_column(
        ForeignKey("showcase_items.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LiveSessionItem(TenantScoped, Base):
    """One showcase item in a session's product list, at its place in the running order.
    Taking the item out of the showcase takes it out of the list too."""

    __tablename__ = "live_session_items"
    __table_args__ = (UniqueConstraint("session_id", "position"),)

    session_id: Mapped[str] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(
        ForeignKey("showcase_items.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)


class LiveWordList(TenantScoped, Base):
    """A merchant's own sensitive words for its rooms' comments, on top of the default
    list; one word per line."""

    __tablename__ = "live_word_lists"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    words: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class LiveModerationAct(TenantScoped, Base):
    """One act of the host in a session's room (moderation and host controls): who did
    what to whom, when. shared/spec/events.md has no such event types, so they are kept
    here and not in the event log."""

    __tablename__ = "live_moderation_acts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    act: Mapped[str] = mapped_column(String(32))
    # The acting user (none for the system, e.g. a draw drawn when its time is up); kept as
    # text so the record outlives the user.
    by_user_id: Mapped[str | None] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)  # a JSON object
    at: Mapped[datetime]


class LiveCoupon(TenantScoped, Base):
    """A coupon the host dropped in a session's room: ``amount`` fen off orders of at
    least ``threshold`` fen; ``quantity`` of them can be claimed until ``claim_until``,
    each is valid until ``expires_at``. ``claimed`` only grows, never past ``quantity``."""

    __tablename__ = "live_coupons"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("threshold >= 0", name="threshold"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("claimed >= 0 AND claimed <= quantity", name="claimed"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    claimed: Mapped[int] = mapped_column(Integer)
    claim_until: Mapped[datetime]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]


class LiveCouponClaim(Base):
    """A buyer's coupon: at most one per coupon and user."""

    __tablename__ = "live_coupon_claims"
    __table_args__ = (UniqueConstraint("coupon_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    coupon_id: Mapped[str] = mapped_column(ForeignKey("live_coupons.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    merchant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[str] = mapped_column(String(40))
    claimed_at: Mapped[datetime]
    # The order that spent it; cleared again if that order is cancelled before payment.
    order_id: Mapped[str | None] = mapped_column(String(40), unique=True, index=True)
    used_at: Mapped[datetime | None]


class LiveDraw(TenantScoped, Base):
    """A lucky draw (福袋): ``winner_count`` winners among those who met the condition
    before ``ends_at``. ``commitment`` = sha256(seed) is public from the start; the seed,
    the entrants' hash and the winners are published when drawn (docs/draws.md)."""

    __tablename__ = "live_draws"
    __table_args__ = (
        CheckConstraint("winner_count > 0", name="winner_count"),
        Index("ix_live_draws_state_ends_at", "state", "ends_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    prize: Mapped[str] = mapped_column(String(100))
    winner_count: Mapped[int] = mapped_column(Integer)
    condition: Mapped[str] = mapped_column(String(16))  # comment | follow
    keyword: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(16))  # running | drawn
    seed: Mapped[str] = mapped_column(String(64))  # hex; secret until drawn
    commitment: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    entrant_count: Mapped[int | None] = mapped_column(Integer)
    entrants_hash: Mapped[str | None] = mapped_column(String(64))
    winners: Mapped[str | None] = mapped_column(Text)  # JSON list of user ids, in draw order
    drawn_at: Mapped[datetime | None]


class LiveDrawEntry(TenantScoped, Base):
    """A signed-in viewer who met a draw's condition in time (once per draw)."""

    __tablename__ = "live_draw_entries"

    draw_id: Mapped[str] = mapped_column(
        ForeignKey("live_draws.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    entered_at: Mapped[datetime]
