"""The authorization matrix: for every endpoint and every kind of caller, the exact
status — and, whenever a request is refused, proof that nothing changed.

Adding an endpoint without adding it here fails ``test_every_api_route_is_in_the_matrix``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from daihuo.app import create_app
from daihuo.core.db import Database
from daihuo.models import metadata

from tests.conftest import DatabaseFactory, client_for, make_settings
from tests.integration.tenancy.world import PNG, WORLD_SETTINGS, World, build_world

ACTORS = [
    "anonymous", "consumer", "viewer", "operator", "admin", "owner", "api_key_read",
    "platform_admin", "supplier",
]  # fmt: skip


@dataclass(frozen=True)
class Spec:
    path: str  # with {placeholders} from World.ids
    body: dict[str, Any] | None
    expect: dict[str, int]  # actor -> status
    content: bytes | None = None  # a raw body instead of JSON (uploads)


def _statuses(
    ok: int, allowed: set[str], *, anon: int = 401, others: int = 403, **extra: int
) -> dict[str, int]:
    out = {a: (ok if a in allowed else others) for a in ACTORS}
    out["anonymous"] = anon if "anonymous" not in allowed else ok
    out.update(extra)
    return out


READERS = {"viewer", "operator", "admin", "owner", "api_key_read", "platform_admin", "supplier"}
MANAGERS = {"admin", "owner", "platform_admin", "supplier"}
USERS = {"consumer", "viewer", "operator", "admin", "owner", "platform_admin", "supplier"}

MATRIX: dict[tuple[str, str], Spec] = {
    # Public: anyone may sign up and sign in (with their own credentials).
    ("POST", "/api/v1/auth/signup"): Spec(
        "/api/v1/auth/signup",
        {"email": "fresh@example.test", "password": "long enough pw", "display_name": "新用户"},
        _statuses(201, set(ACTORS)),
    ),
    ("POST", "/api/v1/auth/token"): Spec(
        "/api/v1/auth/token",
        {"email": "{email_owner_a}", "password": "correct horse battery"},
        _statuses(200, set(ACTORS)),
    ),
    ("POST", "/api/v1/auth/login"): Spec(
        "/api/v1/auth/login",
        {"email": "{email_owner_a}", "password": "correct horse battery"},
        _statuses(200, set(ACTORS)),
    ),
    ("POST", "/api/v1/auth/logout"): Spec(
        "/api/v1/auth/logout", None, _statuses(204, USERS, api_key_read=403)
    ),
    ("GET", "/api/v1/me"): Spec("/api/v1/me", None, _statuses(200, USERS, api_key_read=403)),
    # The caller's own tenant.
    ("GET", "/api/v1/tenant"): Spec("/api/v1/tenant", None, _statuses(200, READERS)),
    ("PATCH", "/api/v1/tenant"): Spec("/api/v1/tenant", {"name": "改名"}, _statuses(200, MANAGERS)),
    ("GET", "/api/v1/members"): Spec("/api/v1/members", None, _statuses(200, READERS)),
    ("POST", "/api/v1/members"): Spec(
        "/api/v1/members", {"email": "{email_newcomer}", "role": "viewer"}, _statuses(201, MANAGERS)
    ),
    # Resources addressed by id belong to tenant A: the platform admin (of tenant P)
    # gets 404 like any outsider — it cannot even learn that they exist.
    ("PATCH", "/api/v1/members/{member_id}"): Spec(
        "/api/v1/members/{viewer_member_a}",
        {"role": "operator"},
        _statuses(200, MANAGERS, platform_admin=404, supplier=404),
    ),
    ("DELETE", "/api/v1/members/{member_id}"): Spec(
        "/api/v1/members/{spare_member_a}",
        None,
        _statuses(204, MANAGERS, platform_admin=404, supplier=404),
    ),
    ("GET", "/api/v1/api-keys"): Spec("/api/v1/api-keys", None, _statuses(200, MANAGERS)),
    ("POST", "/api/v1/api-keys"): Spec(
        "/api/v1/api-keys", {"name": "k", "scopes": ["tenant:read"]}, _statuses(201, MANAGERS)
    ),
    ("DELETE", "/api/v1/api-keys/{key_id}"): Spec(
        "/api/v1/api-keys/{spare_key_a}",
        None,
        _statuses(204, MANAGERS, platform_admin=404, supplier=404),
    ),
    # The transparency log is public: every caller, signed in or not, gets the same answer.
    # The world's orders and its batch's step are in the log: these proofs exist, for all.
    ("GET", "/api/v1/ledger/checkpoint"): Spec(
        "/api/v1/ledger/checkpoint", None, _statuses(200, set(ACTORS))
    ),
    ("GET", "/api/v1/ledger/entries"): Spec(
        "/api/v1/ledger/entries?start=0&end=10", None, _statuses(200, set(ACTORS))
    ),
    ("GET", "/api/v1/ledger/keys"): Spec("/api/v1/ledger/keys", None, _statuses(200, set(ACTORS))),
    ("GET", "/api/v1/ledger/records/{kind}/{record_id}"): Spec(
        "/api/v1/ledger/records/order/{order_paid}", None, _statuses(200, set(ACTORS))
    ),
    ("GET", "/api/v1/ledger/proof/inclusion"): Spec(
        "/api/v1/ledger/proof/inclusion?index=0&size=2", None, _statuses(200, set(ACTORS))
    ),
    ("GET", "/api/v1/ledger/proof/consistency"): Spec(
        "/api/v1/ledger/proof/consistency?old=1&new=2", None, _statuses(200, set(ACTORS))
    ),
    # Settlement books: owners and admins read their tenant's; platform staff the platform's.
    ("GET", "/api/v1/settlement/balances"): Spec(
        "/api/v1/settlement/balances", None, _statuses(200, MANAGERS)
    ),
    ("GET", "/api/v1/settlement/statement"): Spec(
        "/api/v1/settlement/statement?from=2026-03-01&to=2026-04-01&format=csv",
        None,
        _statuses(200, MANAGERS),
    ),
    # Platform operators only.
    ("GET", "/api/v1/platform/tenants"): Spec(
        "/api/v1/platform/tenants", None, _statuses(200, {"platform_admin"})
    ),
    ("POST", "/api/v1/platform/tenants"): Spec(
        "/api/v1/platform/tenants",
        {"kind": "supplier", "name": "新供应商", "owner_email": "{email_newcomer}"},
        _statuses(201, {"platform_admin"}),
    ),
}


# --- commerce (docs/commerce.md) ------------------------------------------------------------
# What a tenant may do depends on its kind as well as its role: only the supplier lists
# products (merchant roles holding catalog:write still get 403 wrong-tenant-kind), only
# a merchant's staff pick them, only the platform reviews. Orders belong to three
# parties: the buyer (the consumer bought every world order from A's showcase), A's staff
# and the supplier S; anyone else — the platform included — gets 404 for them.
SUPPLIER = {"supplier"}
MERCHANT_WRITERS = {"operator", "admin", "owner"}
MERCHANT_STAFF = MERCHANT_WRITERS | {"viewer"}
POOL = MERCHANT_STAFF | {"platform_admin", "supplier"}
STRANGERS = {"platform_admin": 404, "api_key_read": 404}
ORDER_READERS = MERCHANT_STAFF | {"consumer", "supplier"}

COMMERCE: dict[tuple[str, str], Spec] = {
    ("POST", "/api/v1/products"): Spec(
        "/api/v1/products",
        {
            "title": "新品",
            "category": "美妆",
            "price_min": 100,
            "price_max": 900,
            "commission_bps": 1000,
            "skus": [{"code": "A", "price": 500, "stock": 5}],
        },
        _statuses(201, SUPPLIER),
    ),
    ("GET", "/api/v1/products"): Spec("/api/v1/products", None, _statuses(200, SUPPLIER)),
    ("GET", "/api/v1/products/{product_id}"): Spec(
        "/api/v1/products/{product_listed}", None, _statuses(200, SUPPLIER)
    ),
    ("PATCH", "/api/v1/products/{product_id}"): Spec(
        "/api/v1/products/{product_draft}", {"title": "改名"}, _statuses(200, SUPPLIER)
    ),
    ("POST", "/api/v1/products/{product_id}/skus"): Spec(
        "/api/v1/products/{product_draft}/skus",
        {"code": "XL", "price": 2000, "stock": 3},
        _statuses(201, SUPPLIER),
    ),
    ("PATCH", "/api/v1/products/{product_id}/skus/{sku_id}"): Spec(
        "/api/v1/products/{product_draft}/skus/{sku_draft}",
        {"price": 2500},
        _statuses(200, SUPPLIER),
    ),
    ("POST", "/api/v1/products/{product_id}/skus/{sku_id}/stock"): Spec(
        "/api/v1/products/{product_listed}/skus/{sku_listed}/stock",
        {"delta": 5},
        _statuses(200, SUPPLIER),
    ),
    ("POST", "/api/v1/products/{product_id}/submit"): Spec(
        "/api/v1/products/{product_draft}/submit", None, _statuses(200, SUPPLIER)
    ),
    ("POST", "/api/v1/products/{product_id}/delist"): Spec(
        "/api/v1/products/{product_listed}/delist", None, _statuses(200, SUPPLIER)
    ),
    ("POST", "/api/v1/products/{product_id}/images"): Spec(
        "/api/v1/products/{product_draft}/images", None, _statuses(201, SUPPLIER), content=PNG
    ),
    # A draft's image: its supplier sees it; to anyone else it does not exist.
    ("GET", "/api/v1/products/{product_id}/images/{image_id}"): Spec(
        "/api/v1/products/{product_draft}/images/{image_draft}",
        None,
        _statuses(200, SUPPLIER, anon=404, others=404),
    ),
    ("DELETE", "/api/v1/products/{product_id}/images/{image_id}"): Spec(
        "/api/v1/products/{product_draft}/images/{image_spare}", None, _statuses(204, SUPPLIER)
    ),
    ("PUT", "/api/v1/products/{product_id}/commissions/{merchant_id}"): Spec(
        "/api/v1/products/{product_listed}/commissions/{tenant_a}",
        {"commission_bps": 2500},
        _statuses(200, SUPPLIER),
    ),
    ("DELETE", "/api/v1/products/{product_id}/commissions/{merchant_id}"): Spec(
        "/api/v1/products/{product_listed}/commissions/{tenant_a}",
        None,
        _statuses(204, SUPPLIER),
    ),
    ("GET", "/api/v1/platform/products/review"): Spec(
        "/api/v1/platform/products/review", None, _statuses(200, {"platform_admin"})
    ),
    ("POST", "/api/v1/platform/products/{product_id}/approve"): Spec(
        "/api/v1/platform/products/{product_review}/approve",
        None,
        _statuses(200, {"platform_admin"}),
    ),
    ("POST", "/api/v1/platform/products/{product_id}/reject"): Spec(
        "/api/v1/platform/products/{product_review}/reject",
        {"reason": "资质不全"},
        _statuses(200, {"platform_admin"}),
    ),
    ("GET", "/api/v1/pool/products"): Spec(
        "/api/v1/pool/products?q=口红", None, _statuses(200, POOL)
    ),
    ("GET", "/api/v1/pool/products/{product_id}"): Spec(
        "/api/v1/pool/products/{product_listed}", None, _statuses(200, POOL)
    ),
    ("GET", "/api/v1/showcase"): Spec("/api/v1/showcase", None, _statuses(200, MERCHANT_STAFF)),
    ("POST", "/api/v1/showcase"): Spec(
        "/api/v1/showcase",
        {"product_id": "{product_unpicked}", "price": 2000},
        _statuses(201, MERCHANT_WRITERS),
    ),
    ("PATCH", "/api/v1/showcase/{item_id}"): Spec(
        "/api/v1/showcase/{item_a}", {"price": 2100}, _statuses(200, MERCHANT_WRITERS)
    ),
    ("DELETE", "/api/v1/showcase/{item_id}"): Spec(
        "/api/v1/showcase/{item_a}", None, _statuses(204, MERCHANT_WRITERS)
    ),
    ("GET", "/api/v1/shops/{merchant_id}/items"): Spec(
        "/api/v1/shops/{tenant_a}/items", None, _statuses(200, set(ACTORS))
    ),
    # Buying and paying need a signed-in user; a tenant is optional.
    ("POST", "/api/v1/orders"): Spec(
        "/api/v1/orders",
        {"item_id": "{item_a}", "sku_id": "{sku_listed}", "quantity": 1},
        _statuses(201, USERS),
    ),
    ("GET", "/api/v1/me/orders"): Spec("/api/v1/me/orders", None, _statuses(200, USERS)),
    ("GET", "/api/v1/orders"): Spec(
        "/api/v1/orders", None, _statuses(200, MERCHANT_STAFF | SUPPLIER)
    ),
    ("GET", "/api/v1/orders/{order_id}"): Spec(
        "/api/v1/orders/{order_created}", None, _statuses(200, ORDER_READERS, **STRANGERS)
    ),
    ("GET", "/api/v1/orders/{order_id}/history"): Spec(
        "/api/v1/orders/{order_created}/history",
        None,
        _statuses(200, ORDER_READERS, **STRANGERS),
    ),
    ("GET", "/api/v1/orders/{order_id}/ledger"): Spec(
        "/api/v1/orders/{order_paid}/ledger",
        None,
        _statuses(200, ORDER_READERS, **STRANGERS),
    ),
    ("POST", "/api/v1/orders/{order_id}/cancel"): Spec(
        "/api/v1/orders/{order_created}/cancel",
        None,
        _statuses(200, MERCHANT_WRITERS | {"consumer"}, **STRANGERS),
    ),
    ("POST", "/api/v1/orders/{order_id}/pay"): Spec(
        "/api/v1/orders/{order_created}/pay",
        None,
        _statuses(201, {"consumer"}, platform_admin=404),
    ),
    ("PUT", "/api/v1/orders/{order_id}/address"): Spec(
        "/api/v1/orders/{order_created}/address",
        {"recipient": "王五", "phone": "13900000000", "region": "上海市 徐汇区", "detail": "1 号"},
        _statuses(200, {"consumer"}, **STRANGERS),
    ),
    ("POST", "/api/v1/orders/{order_id}/ship"): Spec(
        "/api/v1/orders/{order_paid}/ship",
        {"carrier": "顺丰速运", "tracking_no": "SF1"},
        _statuses(200, SUPPLIER, **STRANGERS),
    ),
    ("POST", "/api/v1/orders/{order_id}/deliver"): Spec(
        "/api/v1/orders/{order_shipped}/deliver", None, _statuses(200, SUPPLIER, **STRANGERS)
    ),
    ("POST", "/api/v1/orders/{order_id}/complete"): Spec(
        "/api/v1/orders/{order_delivered}/complete",
        None,
        _statuses(200, {"consumer"}, **STRANGERS),
    ),
    ("POST", "/api/v1/orders/{order_id}/refund-request"): Spec(
        "/api/v1/orders/{order_paid}/refund-request",
        {"reason": "不想要了"},
        _statuses(200, MERCHANT_WRITERS | SUPPLIER | {"consumer"}, **STRANGERS),
    ),
    ("POST", "/api/v1/orders/{order_id}/refund-reject"): Spec(
        "/api/v1/orders/{order_refund_requested}/refund-reject",
        {"reason": "已发货"},
        _statuses(200, MERCHANT_WRITERS | SUPPLIER, **STRANGERS),
    ),
    ("POST", "/api/v1/orders/{order_id}/refund"): Spec(
        "/api/v1/orders/{order_refund_requested}/refund",
        {},
        _statuses(201, MERCHANT_WRITERS | SUPPLIER, **STRANGERS),
    ),
    # Traceability: batches are the supplier's like its products; provenance is public.
    ("POST", "/api/v1/products/{product_id}/batches"): Spec(
        "/api/v1/products/{product_listed}/batches",
        {"code": "LOT-2", "quantity": 10},
        _statuses(201, SUPPLIER),
    ),
    ("GET", "/api/v1/products/{product_id}/batches"): Spec(
        "/api/v1/products/{product_listed}/batches", None, _statuses(200, SUPPLIER)
    ),
    ("GET", "/api/v1/products/{product_id}/batches/{batch_id}"): Spec(
        "/api/v1/products/{product_listed}/batches/{batch_listed}", None, _statuses(200, SUPPLIER)
    ),
    ("POST", "/api/v1/products/{product_id}/batches/{batch_id}/evidence"): Spec(
        "/api/v1/products/{product_listed}/batches/{batch_listed}/evidence",
        None,
        _statuses(201, SUPPLIER),
        content=PNG,
    ),
    ("POST", "/api/v1/products/{product_id}/batches/{batch_id}/steps"): Spec(
        "/api/v1/products/{product_listed}/batches/{batch_listed}/steps",
        {"step": "shipped", "at": "2026-01-06T10:00:00+08:00", "place": "杭州仓"},
        _statuses(201, SUPPLIER),
    ),
    ("GET", "/api/v1/provenance/{public_id}"): Spec(
        "/api/v1/provenance/{batch_public}", None, _statuses(200, set(ACTORS))
    ),
    # The provider's callback carries no user credential: without a valid signature it is
    # refused the same way whoever sends it.
    ("POST", "/api/v1/payments/webhooks/sandbox"): Spec(
        "/api/v1/payments/webhooks/sandbox",
        {"id": "sbe_1", "type": "payment.succeeded", "data": {"payment": "pay_1", "amount": 1}},
        _statuses(400, set(ACTORS)),
    ),
}
MATRIX.update(COMMERCE)

# Live sessions belong to merchant A: its staff read them, its writers change them; the
# supplier and the platform (other tenants' kinds) are refused by kind, B would get 404.
LIVE: dict[tuple[str, str], Spec] = {
    ("GET", "/api/v1/live-sessions"): Spec(
        "/api/v1/live-sessions", None, _statuses(200, MERCHANT_STAFF)
    ),
    ("POST", "/api/v1/live-sessions"): Spec(
        "/api/v1/live-sessions",
        {
            "title": "新品首发",
            "planned_start": "2026-12-01T20:00:00+08:00",
            "products": ["{item_a}"],
        },
        _statuses(201, MERCHANT_WRITERS),
    ),
    ("GET", "/api/v1/live-sessions/{session_id}"): Spec(
        "/api/v1/live-sessions/{live_a}", None, _statuses(200, MERCHANT_STAFF)
    ),
    ("PUT", "/api/v1/live-sessions/{session_id}/products"): Spec(
        "/api/v1/live-sessions/{live_a}/products",
        {"products": []},
        _statuses(200, MERCHANT_WRITERS),
    ),
    # Going live is the merchant writers' (the world's session is scheduled); ending it is
    # too, but a scheduled session cannot end: they get past authorization to a 409.
    ("POST", "/api/v1/live-sessions/{session_id}/start"): Spec(
        "/api/v1/live-sessions/{live_a}/start",
        {"stream_url": "https://live.example.com/app/a.m3u8"},
        _statuses(200, MERCHANT_WRITERS),
    ),
    ("POST", "/api/v1/live-sessions/{session_id}/end"): Spec(
        "/api/v1/live-sessions/{live_a}/end", None, _statuses(409, MERCHANT_WRITERS)
    ),
    # Pinning is for live sessions: the writers get past authorization to a 409.
    ("PUT", "/api/v1/live-sessions/{session_id}/pin"): Spec(
        "/api/v1/live-sessions/{live_a}/pin",
        {"item_id": "{item_a}"},
        _statuses(409, MERCHANT_WRITERS),
    ),
    ("DELETE", "/api/v1/live-sessions/{session_id}/pin"): Spec(
        "/api/v1/live-sessions/{live_a}/pin", None, _statuses(409, MERCHANT_WRITERS)
    ),
    # Moderation is the merchant writers' while the room is open: a 409 for the scheduled
    # session (the acts are room state on the bus, so no row changes either way).
    ("DELETE", "/api/v1/live-sessions/{session_id}/comments/{comment_id}"): Spec(
        "/api/v1/live-sessions/{live_a}/comments/evt_X", None, _statuses(409, MERCHANT_WRITERS)
    ),
    ("PUT", "/api/v1/live-sessions/{session_id}/pinned-comment"): Spec(
        "/api/v1/live-sessions/{live_a}/pinned-comment",
        {"comment_id": "evt_X"},
        _statuses(409, MERCHANT_WRITERS),
    ),
    ("DELETE", "/api/v1/live-sessions/{session_id}/pinned-comment"): Spec(
        "/api/v1/live-sessions/{live_a}/pinned-comment", None, _statuses(409, MERCHANT_WRITERS)
    ),
    ("POST", "/api/v1/live-sessions/{session_id}/mutes"): Spec(
        "/api/v1/live-sessions/{live_a}/mutes",
        {"user": "anon_x", "seconds": 60},
        _statuses(409, MERCHANT_WRITERS),
    ),
    ("POST", "/api/v1/live-sessions/{session_id}/bans"): Spec(
        "/api/v1/live-sessions/{live_a}/bans", {"user": "anon_x"}, _statuses(409, MERCHANT_WRITERS)
    ),
    ("PUT", "/api/v1/live-sessions/{session_id}/slow-mode"): Spec(
        "/api/v1/live-sessions/{live_a}/slow-mode",
        {"seconds": 10},
        _statuses(409, MERCHANT_WRITERS),
    ),
    # Host controls are the writers' while the room is open: a 409 for the scheduled
    # session (and no coupon, draw or record row is written).
    ("POST", "/api/v1/live-sessions/{session_id}/coupons"): Spec(
        "/api/v1/live-sessions/{live_a}/coupons",
        {"amount": 500, "threshold": 5000, "quantity": 100},
        _statuses(409, MERCHANT_WRITERS),
    ),
    ("POST", "/api/v1/live-sessions/{session_id}/draws"): Spec(
        "/api/v1/live-sessions/{live_a}/draws",
        {"prize": "口红小样", "winners": 3, "condition": "comment", "keyword": "想要"},
        _statuses(409, MERCHANT_WRITERS),
    ),
    ("POST", "/api/v1/live-sessions/{session_id}/announcements"): Spec(
        "/api/v1/live-sessions/{live_a}/announcements",
        {"text": "今晚八点整点抽奖"},
        _statuses(409, MERCHANT_WRITERS),
    ),
    # The session's coupons, draws and record of host acts: its staff read them.
    ("GET", "/api/v1/live-sessions/{session_id}/coupons"): Spec(
        "/api/v1/live-sessions/{live_a}/coupons", None, _statuses(200, MERCHANT_STAFF)
    ),
    ("GET", "/api/v1/live-sessions/{session_id}/draws"): Spec(
        "/api/v1/live-sessions/{live_a}/draws", None, _statuses(200, MERCHANT_STAFF)
    ),
    ("GET", "/api/v1/live-sessions/{session_id}/moderation"): Spec(
        "/api/v1/live-sessions/{live_a}/moderation", None, _statuses(200, MERCHANT_STAFF)
    ),
    # Coupons are claimed by signed-in users (not API keys): past authorization, an
    # unknown coupon is 404 for every one of them. Each user lists their own claims.
    ("POST", "/api/v1/coupons/{coupon_id}/claim"): Spec(
        "/api/v1/coupons/cpn_X/claim", None, _statuses(404, USERS, api_key_read=403)
    ),
    ("GET", "/api/v1/me/coupons"): Spec(
        "/api/v1/me/coupons", None, _statuses(200, USERS, api_key_read=403)
    ),
    # A draw's verification page is public: the same 404 for everyone when there is none.
    ("GET", "/api/v1/draws/{draw_id}"): Spec(
        "/api/v1/draws/drw_X", None, _statuses(404, set(ACTORS))
    ),
    # The room is public: anyone, signed in or not, may get a visitor token (no row changes).
    ("POST", "/api/v1/live-sessions/{session_id}/visitor-token"): Spec(
        "/api/v1/live-sessions/{live_a}/visitor-token", None, _statuses(201, set(ACTORS))
    ),
    # A merchant's own sensitive words for its rooms' comments.
    ("GET", "/api/v1/live-words"): Spec("/api/v1/live-words", None, _statuses(200, MERCHANT_STAFF)),
    ("PUT", "/api/v1/live-words"): Spec(
        "/api/v1/live-words", {"words": ["竞品店名"]}, _statuses(200, MERCHANT_WRITERS)
    ),
    # The world's session has no events: its staff get past authorization to a 404
    # no-events-yet (the figures themselves are tests/integration/analytics').
    ("GET", "/api/v1/sessions/{session_id}/report"): Spec(
        "/api/v1/sessions/{live_a}/report", None, _statuses(404, MERCHANT_STAFF)
    ),
    # Answer drafts (assistant): the session's merchant staff only; drafting reads.
    ("POST", "/api/v1/sessions/{session_id}/assistant/drafts"): Spec(
        "/api/v1/sessions/{live_a}/assistant/drafts",
        {"question": "多少钱", "product_id": "{product_listed}"},
        _statuses(200, MERCHANT_STAFF),
    ),
    ("POST", "/api/v1/products/{product_id}/answer-draft"): Spec(
        "/api/v1/products/{product_listed}/answer-draft",
        {"question": "多少钱"},
        _statuses(200, MERCHANT_STAFF),
    ),
    # Review insights (assistant): the world's session has no events, so its staff get an
    # empty list; the scan is skipped to keep the matrix fast.
    ("GET", "/api/v1/sessions/{session_id}/insights"): Spec(
        "/api/v1/sessions/{live_a}/insights?verified=false", None, _statuses(200, MERCHANT_STAFF)
    ),
    # Cross-session reports: a merchant's staff read their own sessions' (the world's has
    # no events: an empty report); a supplier's staff its products' sales. Anyone else
    # is refused (wrong kind of tenant, or no such permission).
    ("GET", "/api/v1/analytics/merchant"): Spec(
        "/api/v1/analytics/merchant", None, _statuses(200, MERCHANT_STAFF)
    ),
    ("GET", "/api/v1/analytics/supplier"): Spec(
        "/api/v1/analytics/supplier", None, _statuses(200, SUPPLIER)
    ),
    # Selection picks (选品): a merchant's staff only (suppliers and the platform: 403
    # wrong-tenant-kind); the world has no sales, so the picks are cold-start ones.
    ("GET", "/api/v1/assistant/recommendations"): Spec(
        "/api/v1/assistant/recommendations?limit=5", None, _statuses(200, MERCHANT_STAFF)
    ),
    ("GET", "/api/v1/sessions/{session_id}/authenticity"): Spec(
        "/api/v1/sessions/{live_a}/authenticity", None, _statuses(404, MERCHANT_STAFF)
    ),
    # The live feed: the world's session is scheduled, so its staff get past
    # authorization to a 409 session-not-live; the one-shot tile shows its zeros.
    ("GET", "/api/v1/sessions/{session_id}/live"): Spec(
        "/api/v1/sessions/{live_a}/live", None, _statuses(409, MERCHANT_STAFF)
    ),
    ("GET", "/api/v1/sessions/{session_id}/live/tile"): Spec(
        "/api/v1/sessions/{live_a}/live/tile", None, _statuses(200, MERCHANT_STAFF)
    ),
    # The assistant's comment triage of a session: its merchant's staff (empty queues).
    ("GET", "/api/v1/sessions/{session_id}/assistant/comments"): Spec(
        "/api/v1/sessions/{live_a}/assistant/comments", None, _statuses(200, MERCHANT_STAFF)
    ),
    ("GET", "/api/v1/platform/authenticity"): Spec(
        "/api/v1/platform/authenticity", None, _statuses(200, {"platform_admin"})
    ),
    # A room's public view (shop, state, product list): anyone.
    ("GET", "/api/v1/rooms/{session_id}"): Spec(
        "/api/v1/rooms/{live_a}", None, _statuses(200, set(ACTORS))
    ),
    # Flash sales start while the session is live (the world's is scheduled: the writers
    # get past authorization to a 409); a room's sales are public; buying needs a
    # signed-in user, ending the sale's merchant writers (no such sale: 404 past auth).
    ("POST", "/api/v1/live-sessions/{session_id}/flash-sales"): Spec(
        "/api/v1/live-sessions/{live_a}/flash-sales",
        {"item_id": "{item_a}", "sku_id": "{sku_listed}", "price": 1500, "units": 5},
        _statuses(409, MERCHANT_WRITERS),
    ),
    ("GET", "/api/v1/live-sessions/{session_id}/flash-sales"): Spec(
        "/api/v1/live-sessions/{live_a}/flash-sales", None, _statuses(200, set(ACTORS))
    ),
    ("GET", "/api/v1/flash-sales/{sale_id}"): Spec(
        "/api/v1/flash-sales/fls_none", None, _statuses(404, set(ACTORS))
    ),
    ("POST", "/api/v1/flash-sales/{sale_id}/buy"): Spec(
        "/api/v1/flash-sales/fls_none/buy", {"quantity": 1}, _statuses(404, USERS)
    ),
    ("POST", "/api/v1/flash-sales/{sale_id}/end"): Spec(
        "/api/v1/flash-sales/fls_none/end", None, _statuses(404, MERCHANT_WRITERS)
    ),
}
MATRIX.update(LIVE)


def _fill(value: Any, world: World) -> Any:
    names = {**world.ids, **{f"email_{k}": v for k, v in world.emails.items()}}
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


AUDIT_COLUMN = ("api_keys", "last_used_at")


async def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refused request changed nothing."""
    db = Database(url)
    try:
        async with db.session(all_tenants=True) as session:
            out = {}
            for table in metadata.sorted_tables:
                # A key's last-use time is audit data: recorded even when the use is refused.
                columns = [c for c in table.columns if (table.name, c.name) != AUDIT_COLUMN]
                rows = (await session.execute(select(*columns))).all()
                out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
            return out
    finally:
        await db.dispose()


class Templates:
    """Per backend: the world built once, and one copy of it shared by every case that
    must not change it (refusals and reads) — each of those is checked with a snapshot,
    so a case that does change it fails — served by one running app. Only accepted
    writes get a fresh copy and an app of their own."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.worlds: dict[str, World] = {}
        self.shared: dict[str, World] = {}
        self.factories: dict[str, DatabaseFactory] = {}
        self.apps: dict[str, tuple[client_for, httpx.AsyncClient]] = {}

    async def world(self, backend: str) -> World:
        if backend not in self.worlds:
            factory = DatabaseFactory(backend, self.tmp)
            self.factories[backend] = factory
            self.worlds[backend] = await build_world(factory, self.tmp)
        return self.worlds[backend]

    async def copy(self, backend: str, databases: DatabaseFactory) -> World:
        template = await self.world(backend)
        url = await databases.new(template=template.url)
        return World(url, template.actors, template.ids, template.emails)

    async def shared_world(self, backend: str) -> World:
        if backend not in self.shared:
            self.shared[backend] = await self.copy(backend, self.factories[backend])
        return self.shared[backend]

    async def shared_client(self, backend: str) -> httpx.AsyncClient:
        """The running app over the shared world of ``backend``."""
        if backend not in self.apps:
            world = await self.shared_world(backend)
            folder = self.tmp / f"app-{backend}"
            folder.mkdir(exist_ok=True)
            app = client_for(make_settings(world.url, folder, **WORLD_SETTINGS))
            self.apps[backend] = (app, await app.__aenter__())
        return self.apps[backend][1]

    async def close(self) -> None:
        for app, _ in self.apps.values():
            await app.__aexit__(None, None, None)
        self.apps.clear()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def templates(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("worlds"))
    yield t
    await t.close()
    for factory in t.factories.values():
        await asyncio.to_thread(factory.cleanup)  # it runs its own event loop


@pytest.fixture
async def world(backend: str, templates: Templates, databases: DatabaseFactory) -> World:
    return await templates.copy(backend, databases)


def test_every_api_route_is_in_the_matrix(tmp_path: Path) -> None:
    app = create_app(make_settings("sqlite+aiosqlite:///" + str(tmp_path / "x.db"), tmp_path))
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    }
    assert routes == set(MATRIX), "add new endpoints to MATRIX with their expected statuses"


async def _send(
    client: httpx.AsyncClient, spec: Spec, method: str, world: World, actor: str
) -> httpx.Response:
    return await client.request(
        method,
        _fill(spec.path, world),
        json=_fill(spec.body, world) if spec.body is not None else None,
        content=spec.content,
        headers=world.actors[actor],
    )


# One event loop for the module's matrix: the app that serves the shared world's cases
# (refusals and reads) is started once per backend and kept, instead of once per case (a
# fresh app's start and its first request cost ~0.3 s here, times ~1,900 cases).
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("endpoint", list(MATRIX), ids=lambda e: f"{e[0]} {e[1]}")
@pytest.mark.parametrize("actor", ACTORS)
async def test_role_matrix(
    backend: str,
    templates: Templates,
    databases: DatabaseFactory,
    endpoint: tuple[str, str],
    actor: str,
    tmp_path: Path,
) -> None:
    spec = MATRIX[endpoint]
    expected = spec.expect[actor]
    method = endpoint[0]
    if method == "GET" or expected >= 400:
        await templates.world(backend)
        world = await templates.shared_world(backend)
        before = await snapshot(world.url) if expected >= 400 else None
        client = await templates.shared_client(backend)
        r = await _send(client, spec, method, world, actor)
    else:
        world = await templates.copy(backend, databases)
        before = None
        async with client_for(make_settings(world.url, tmp_path, **WORLD_SETTINGS)) as client:
            r = await _send(client, spec, method, world, actor)
    assert r.status_code == expected, f"{actor} {method} {spec.path}: {r.status_code} {r.text}"
    if expected >= 400:
        assert r.headers["content-type"] == "application/problem+json"
        assert await snapshot(world.url) == before, "a refused request changed state"


TENANT_ENDPOINTS = [e for e in MATRIX if e[1] in {
    "/api/v1/tenant", "/api/v1/members", "/api/v1/api-keys",
    "/api/v1/members/{member_id}", "/api/v1/api-keys/{key_id}",
}]  # fmt: skip

CROSS_TARGETS = {
    "/api/v1/members/{member_id}": "/api/v1/members/{member_b}",
    "/api/v1/api-keys/{key_id}": "/api/v1/api-keys/{key_b}",
}


@pytest.mark.parametrize("endpoint", TENANT_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_owner_of_a_cannot_touch_tenant_b(
    world: World, endpoint: tuple[str, str], tmp_path: Path
) -> None:
    """Tenant A's owner holds every permission, yet B's rows stay invisible and unchanged."""
    method, route = endpoint
    spec = MATRIX[endpoint]
    before = await snapshot(world.url)
    owner = world.actors["owner"]
    async with client_for(make_settings(world.url, tmp_path, **WORLD_SETTINGS)) as client:
        body = _fill(spec.body, world) if spec.body is not None else None
        # 1. Asking to act for tenant B is refused outright.
        r = await client.request(
            method,
            _fill(CROSS_TARGETS.get(route, spec.path), world),
            json=body,
            headers={**owner, "X-Daihuo-Tenant": world.ids["tenant_b"]},
        )
        assert r.status_code == 403, r.text
        assert r.json()["type"] == "urn:daihuo:problem:no-tenant"
        # 2. Addressing B's rows by id from A is a 404, not a 403: existence does not leak.
        if route in CROSS_TARGETS:
            r = await client.request(
                method, _fill(CROSS_TARGETS[route], world), json=body, headers=owner
            )
            assert r.status_code == 404, r.text
            assert await snapshot(world.url) == before
        # 3. Listings from A contain A's rows only.
        if method == "GET" and route in {"/api/v1/members", "/api/v1/api-keys"}:
            r = await client.get(route, headers=owner)
            ids = {item["id"] for item in r.json()["items"]}
            assert ids and world.ids["member_b"] not in ids and world.ids["key_b"] not in ids
        r = await client.get("/api/v1/tenant", headers=owner)
        assert r.json()["id"] == world.ids["tenant_a"]
    if method == "GET":
        assert await snapshot(world.url) == before


async def test_platform_admin_pages_through_every_tenant(world: World, tmp_path: Path) -> None:
    async with client_for(make_settings(world.url, tmp_path, **WORLD_SETTINGS)) as client:
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            r = await client.get(
                "/api/v1/platform/tenants", params=params, headers=world.actors["platform_admin"]
            )
            assert r.status_code == 200
            seen += [t["id"] for t in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) == 4
    assert set(seen) == {
        world.ids["tenant_a"],
        world.ids["tenant_b"],
        world.ids["tenant_p"],
        world.ids["tenant_s"],
    }
