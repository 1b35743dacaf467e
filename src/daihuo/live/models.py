"""Live-session tables, scoped to the merchant tenant that runs the session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
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
