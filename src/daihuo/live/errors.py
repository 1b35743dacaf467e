"""Live-session problems."""

from __future__ import annotations

from daihuo.core.errors import Conflict, NotFound, Unauthorized, ValidationFailed


class LiveSessionNotFound(NotFound):
    slug, title = "live-session-not-found", "No such live session"


class UnknownShowcaseItems(ValidationFailed):
    slug, title = "unknown-showcase-items", "Not in your showcase"


class SessionNotEditable(Conflict):
    slug, title = "session-not-editable", "The session can no longer be changed"


class SessionStateConflict(Conflict):
    slug, title = "session-state-conflict", "The session is not in a state that allows this"


class SessionEnded(Conflict):
    slug, title = "session-ended", "The session has ended"


class SessionNotLive(Conflict):
    slug, title = "session-not-live", "The session has not started yet"


class ViewerUnauthorized(Unauthorized):
    slug, title = "viewer-unauthorized", "Not a valid viewer credential"


class NotInSession(ValidationFailed):
    slug, title = "not-in-session", "Not in the session's product list"


class CommentNotFound(NotFound):
    slug, title = "comment-not-found", "No such recent comment"


class CouponNotFound(NotFound):
    slug, title = "coupon-not-found", "No such coupon"


class CouponClosed(Conflict):
    slug, title = "coupon-closed", "The coupon can no longer be claimed"


class CouponSoldOut(Conflict):
    slug, title = "coupon-sold-out", "All of the coupons have been claimed"


class CouponAlreadyClaimed(Conflict):
    slug, title = "coupon-already-claimed", "You have claimed this coupon already"


class CouponUsed(Conflict):
    slug, title = "coupon-used", "The coupon was spent on another order"


class CouponExpired(Conflict):
    slug, title = "coupon-expired", "The coupon has expired"


class CouponNotApplicable(Conflict):
    slug, title = "coupon-not-applicable", "The coupon does not apply to this order"


class DrawNotFound(NotFound):
    slug, title = "draw-not-found", "No such lucky draw"
