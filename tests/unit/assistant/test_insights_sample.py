"""Review insights on the shared simulated sample, with the real authenticity scan: what
the verified figures removed is the flagged users' and orders' paid sales, summed here
straight from the events."""

from __future__ import annotations

from pathlib import Path

import pytest

from daihuo.analytics.reference import session_report
from daihuo.assistant.insights import event_facts, insights
from daihuo.authenticity.scan import group, scan_session
from daihuo.events.parse import load_events

SAMPLE = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "sample.events.jsonl"
needs_sample = pytest.mark.skipif(not SAMPLE.is_file(), reason=f"{SAMPLE} is absent")


@needs_sample
def test_the_verified_change_is_the_flagged_sales_of_a_simulated_session() -> None:
    events, _ = load_events(SAMPLE)
    sid, evs = sorted(group(events).items())[0]
    scan = scan_session(sid, evs)
    users = {f["user"] for f in scan["suspicious_users"]}
    orders = {f["order"] for f in scan["suspicious_orders"]}
    start = min(e.ts_ms for e in evs if e.type == "live_start")
    end = max(e.ts_ms for e in evs if e.type == "live_end")
    created = {}
    for e in sorted(evs, key=lambda e: e.ts_ms):
        if e.type == "order_created":
            created.setdefault(e.order, e)
    first_paid: dict[str | None, int] = {}
    for e in sorted(evs, key=lambda e: e.ts_ms):
        if e.type == "order_paid" and e.order not in first_paid:
            first_paid[e.order] = e.amount or 0
    removed = sum(
        first_paid[o]
        for o, made in created.items()
        if o in first_paid and start <= made.ts_ms <= end and (o in orders or made.user in users)
    )
    assert removed > 0  # the sample has brushing: otherwise the test proves nothing
    found = insights(session_report(evs), authenticity=scan, facts=event_facts(evs))
    change = [i for i in found if i.kind == "verified_change"]
    assert len(change) == 1 and change[0].money_fen == removed
    assert change[0].figures["gmv_removed"] == removed
    assert found[0].money_fen == max(i.money_fen for i in found)
