"""Payment and webhook errors, each with a stable problem type."""

from __future__ import annotations

from daihuo.core.errors import BadRequest, Conflict, NotFound, ServiceUnavailable


class WebhookSignatureInvalid(BadRequest):
    slug, title = "webhook-signature-invalid", "Webhook signature invalid"


class WebhookStale(BadRequest):
    slug, title = "webhook-stale", "Webhook timestamp too old or in the future"


class WebhookMalformed(BadRequest):
    slug, title = "webhook-malformed", "Webhook body not understood"


class WebhookReplayed(Conflict):
    slug, title = "webhook-replayed", "Webhook already received"


class WebhookAmountMismatch(Conflict):
    slug, title = "webhook-amount-mismatch", "Webhook amount differs from the payment"


class PaymentNotFound(NotFound):
    slug, title = "payment-not-found", "No such payment"


class RefundNotFound(NotFound):
    slug, title = "refund-not-found", "No such refund"


class NotPaid(Conflict):
    slug, title = "not-paid", "The order has no successful payment"


class ProviderRejected(Conflict):
    slug, title = "provider-rejected", "The payment provider refused"


class SandboxDisabled(ServiceUnavailable):
    slug, title = "sandbox-disabled", "The sandbox payment provider is off"
