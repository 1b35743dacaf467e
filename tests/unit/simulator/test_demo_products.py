"""The demo's replayed audience names the session's own products, not the simulator's."""

from __future__ import annotations

from daihuo.demo import _as_session_products
from daihuo.simulator.replay import Timed


def test_simulated_products_take_the_sessions_ids_in_order_of_first_appearance() -> None:
    events = [
        {"type": "enter", "user": "u1"},
        {"type": "product_click", "user": "u1", "product": "p1007"},
        {"type": "product_click", "user": "u2", "product": "p4001"},
        {"type": "order_paid", "user": "u1", "product": "p1007", "amount": 100},
        {"type": "product_click", "user": "u3", "product": "p2004"},
        {"type": "cart_add", "user": "u3", "product": "p4001"},
    ]
    timed = [Timed(float(n), dict(e)) for n, e in enumerate(events)]
    _as_session_products(timed, ["prd_a", "prd_b"])
    assert [t.event.get("product") for t in timed] == [
        None, "prd_a", "prd_b", "prd_a", "prd_a", "prd_b"  # p2004 wraps round to the first
    ]  # fmt: skip
    assert timed[3].event["amount"] == 100  # nothing else changes

    untouched = [Timed(0.0, {"type": "product_click", "product": "p1"})]
    _as_session_products(untouched, [])  # a session without products keeps the ids
    assert untouched[0].event["product"] == "p1"
