"""Spending a claimed coupon on an order, and giving it back.

A live-room coupon is the merchant's: ``amount`` fen off one order at that merchant's
shop, of at least ``threshold`` fen before the discount, until the coupon expires. The
merchant pays for it out of its commission on that order (``settlement.domain``), so a
coupon larger than that commission does not apply to the order: a coupon never cuts into
the supplier's price or the platform's fee.

A claim is spent by one conditional UPDATE (``order_id IS NULL``), in the transaction
that creates the order: two orders racing for one coupon get it once, on SQLite and on
PostgreSQL. An order cancelled or expired before payment gives its coupon back; a paid
and later refunded order does not (the usual rule of shops: a refund returns money, not
coupons).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from daihuo.core.db import UNSCOPED
from daihuo.live import errors
from daihuo.live.models import LiveCoupon, LiveCouponClaim


async def spend(
    session: AsyncSession,
    *,
    coupon_id: str,
    buyer_id: str,
    merchant_id: str,
    gross: int,
    commission: int,
    order_id: str,
    now: datetime,
) -> int:
    """Spend ``buyer_id``'s claim of ``coupon_id`` on order ``order_id`` of ``gross`` fen
    (before the discount) at ``merchant_id``, whose commission on it is ``commission``
    fen. Returns the discount in fen; raises, changing nothing, when it does not apply."""
    stmt = (
        select(LiveCouponClaim, LiveCoupon)
        .join(LiveCoupon, LiveCoupon.id == LiveCouponClaim.coupon_id)
        .where(LiveCouponClaim.user_id == buyer_id, LiveCouponClaim.coupon_id == coupon_id)
        .execution_options(**UNSCOPED)
    )
    found = (await session.execute(stmt)).first()
    if found is None:
        raise errors.CouponNotFound("You have not claimed this coupon.")
    claim, coupon = found
    if coupon.tenant_id != merchant_id:
        raise errors.CouponNotApplicable("The coupon is for another shop's products.")
    if now >= coupon.expires_at:
        raise errors.CouponExpired(f"The coupon expired at {coupon.expires_at.isoformat()}.")
    if claim.order_id is not None:
        raise errors.CouponUsed("You have spent this coupon on another order.")
    if gross < coupon.threshold:
        raise errors.CouponNotApplicable(
            f"The coupon applies to orders of at least {coupon.threshold} fen; "
            f"this one is {gross} fen."
        )
    if coupon.amount >= gross:
        raise errors.CouponNotApplicable(
            f"The coupon ({coupon.amount} fen off) is not less than the order ({gross} fen)."
        )
    if coupon.amount > commission:
        raise errors.CouponNotApplicable(
            f"The shop pays for its coupons out of its commission, which is {commission} fen "
            f"on this order: less than the coupon's {coupon.amount} fen."
        )
    taken = await session.execute(
        update(LiveCouponClaim)
        .where(LiveCouponClaim.id == claim.id, LiveCouponClaim.order_id.is_(None))
        .values(order_id=order_id, used_at=now)
        .execution_options(**UNSCOPED)
    )
    assert isinstance(taken, CursorResult)
    if taken.rowcount != 1:  # another order of the same buyer took it meanwhile
        raise errors.CouponUsed("You have spent this coupon on another order.")
    return coupon.amount


async def give_back(session: AsyncSession, order_id: str) -> None:
    """The order was cancelled before payment: its coupon can be spent again."""
    await session.execute(
        update(LiveCouponClaim)
        .where(LiveCouponClaim.order_id == order_id)
        .values(order_id=None, used_at=None)
        .execution_options(**UNSCOPED)
    )
