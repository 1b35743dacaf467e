"""Compare the live feed's figures with the oracle's report of the same events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from daihuo.analytics import reference
from daihuo.analytics.live import processing_order
from daihuo.events.model import Event

# The feed's keys that metrics.md defines, with the same names.
SHARED = (
    "views_pv", "viewer_uv", "pcu", "like_count", "comment_count", "gmv", "order_count",
    "buyer_uv", "items_sold", "refund_amount", "conversion_rate",
)  # fmt: skip


def server_order(log: Sequence[Event]) -> list[Event]:
    """The events as a server records them: repeated ids dropped (the first one in the
    file wins, as the report reads it), ``live_start`` first (nothing happens in a room
    before it goes live), the rest in the spec's processing order."""
    seen: set[str] = set()
    kept = []
    for e in log:
        if e.id not in seen:
            seen.add(e.id)
            kept.append(e)
    starts = [e for e in kept if e.type == "live_start"]
    return starts + processing_order(e for e in kept if e.type != "live_start")


def expected(log: Sequence[Event]) -> dict[str, Any]:
    """The oracle's figures that the feed must equal."""
    report = reference.session_report(log)
    return {key: report[key] for key in SHARED}


def check(snapshot: dict[str, Any], log: Sequence[Event]) -> None:
    """Every figure both define is equal; the minutes equal the report's curves; the
    products' sales and clicks equal the report's product rows."""
    report = reference.session_report(log)
    assert {k: snapshot[k] for k in SHARED} == {k: report[k] for k in SHARED}
    n = len(report["online_per_minute"])
    for row in snapshot["minutes"]:
        k = row["minute"]
        if k < n:
            assert row["online"] == report["online_per_minute"][k], k
            assert row["views"] == report["new_viewers_per_minute"][k], k
            assert row["gmv"] == report["gmv_per_minute"][k], k
    rows = {r["product"]: r for r in report["products"]}
    for top in snapshot["top_products"]:
        row = rows[top["product"]]
        for key in ("gmv", "order_count", "items_sold"):
            assert top[key] == row[key], (top, row)
        assert top["click_uv"] == row["click_uv"]
