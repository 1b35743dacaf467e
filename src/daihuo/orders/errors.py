"""Order errors, each with a stable problem type."""

from __future__ import annotations

from daihuo.core.errors import Conflict, Forbidden, NotFound, ValidationFailed


class OrderNotFound(NotFound):
    slug, title = "order-not-found", "No such order"


class InvalidOrderTransition(Conflict):
    slug, title = "invalid-order-transition", "Not possible in the order's state"


class OrderChanged(Conflict):
    slug, title = "order-changed", "The order changed meanwhile"


class NotYourRole(Forbidden):
    slug, title = "not-your-role", "Your part in this order does not allow this"


class OutOfStock(Conflict):
    slug, title = "out-of-stock", "Out of stock"


class PurchaseLimitReached(Conflict):
    slug, title = "purchase-limit-reached", "Purchase limit reached"


class QuantityTooLarge(ValidationFailed):
    slug, title = "quantity-too-large", "Quantity too large"


class InvalidRefundAmount(ValidationFailed):
    slug, title = "invalid-refund-amount", "Invalid refund amount"


class OrderExpired(Conflict):
    slug, title = "order-expired", "The order's reservation has expired"


class AddressMissing(Conflict):
    slug, title = "address-missing", "The order has no delivery address"


class AddressLocked(Conflict):
    slug, title = "address-locked", "The order has left the warehouse; its address is fixed"
