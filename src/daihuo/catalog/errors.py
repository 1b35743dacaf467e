"""Catalog errors, each with a stable problem type."""

from __future__ import annotations

from daihuo.core.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from daihuo.tenancy import errors as tenancy_errors


class WrongTenantKind(Forbidden):
    slug, title = "wrong-tenant-kind", "Not for this kind of tenant"


class ProductNotFound(NotFound):
    slug, title = "product-not-found", "No such product"


class SkuNotFound(NotFound):
    slug, title = "sku-not-found", "No such SKU"


class ImageNotFound(NotFound):
    slug, title = "image-not-found", "No such image"


class ShowcaseItemNotFound(NotFound):
    slug, title = "showcase-item-not-found", "No such showcase item"


class MerchantNotFound(NotFound):
    slug, title = "merchant-not-found", "No such merchant"


class InvalidProductTransition(Conflict):
    slug, title = "invalid-product-transition", "Not possible in the product's state"


class ProductNotEditable(Conflict):
    slug, title = "product-not-editable", "The product cannot be edited in its state"


class ProductNotListed(Conflict):
    slug, title = "product-not-listed", "The product is not in the supply pool"


class AlreadyInShowcase(Conflict):
    slug, title = "already-in-showcase", "The product is already in the showcase"


class DuplicateSkuCode(Conflict):
    slug, title = "duplicate-sku-code", "A SKU with this code exists"


class InsufficientStock(Conflict):
    slug, title = "insufficient-stock", "Not enough stock"


class PriceOutOfRange(ValidationFailed):
    slug, title = "price-out-of-range", "Price outside the allowed range"


class InvalidPriceRange(ValidationFailed):
    slug, title = "invalid-price-range", "Invalid price range"


class UnsupportedImage(BadRequest):
    status = 415
    slug, title = "unsupported-image", "Not a PNG, JPEG, GIF or WebP image"


class EmptyImage(BadRequest):
    slug, title = "empty-image", "The image is empty"


class TooManyImages(Conflict):
    slug, title = "too-many-images", "The product has the maximum number of images"


class InvalidSearch(BadRequest):
    slug, title = "invalid-search", "Invalid search"


# --- traceability (batches and trace steps) ------------------------------------------------


class BatchNotFound(NotFound):
    slug, title = "batch-not-found", "No such batch"


class DuplicateBatchCode(Conflict):
    slug, title = "duplicate-batch-code", "The product has a batch with this code"


class UnknownTraceStep(ValidationFailed):
    slug, title = "unknown-trace-step", "Not one of the documented trace steps"


class StepTimeOutOfRange(ValidationFailed):
    slug, title = "step-time-out-of-range", "The step's time is in the future or implausibly old"


class InvalidEvidence(ValidationFailed):
    slug, title = "invalid-evidence", "Evidence must be unused files uploaded to this batch"


class EvidenceNotFound(NotFound):
    slug, title = "evidence-not-found", "No such evidence file"


class EmptyEvidence(BadRequest):
    slug, title = "empty-evidence", "The evidence file is empty"


class EvidenceTooLarge(BadRequest):
    status = 413
    slug, title = "evidence-too-large", "The evidence file is too large"


class UnsupportedEvidence(BadRequest):
    status = 415
    slug, title = "unsupported-evidence", "Not a PNG, JPEG, GIF, WebP image or a PDF"


class TooMuchEvidence(Conflict):
    slug, title = "too-much-evidence", "The batch has the maximum number of evidence files"


# A refused caller of an endpoint for one kind of tenant (suppliers, merchants).
DENIED = (*tenancy_errors.DENIED, WrongTenantKind)


class FlashSaleNotFound(NotFound):
    slug, title = "flash-sale-not-found", "No such flash sale"


class FlashSaleNotRunning(Conflict):
    slug, title = "flash-sale-not-running", "The flash sale is not running"


class FlashSoldOut(Conflict):
    slug, title = "flash-sale-sold-out", "The flash sale is sold out"


class FlashLimitReached(Conflict):
    slug, title = "flash-sale-limit-reached", "The per-person limit of this flash sale is reached"
