"""Verified figures: the metric dictionary without flagged users and orders.

Properties over a simulated room: removing nothing gives the raw report; removing any
users and orders never raises a count, a sum of money or watch time; removed users'
activity is gone. And on a fraud room, verified figures are closer to the truth.
"""

from __future__ import annotations

from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daihuo.analytics.reference import session_report
from daihuo.authenticity.scan import scan_session, verified_events

from tests.unit.authenticity.sims import Sim, camouflage, simulate

MONOTONE = (
    "exposure_uv", "viewer_uv", "views_pv", "pcu", "total_watch_seconds", "comment_count",
    "like_count", "share_count", "follow_uv", "interaction_uv", "product_impression_uv",
    "product_click_uv", "cart_uv", "order_count", "buyer_uv", "items_sold", "gmv",
    "refund_amount",
)  # fmt: skip


@cache
def room() -> tuple[Sim, tuple[str, ...], tuple[str, ...], dict]:  # type: ignore[type-arg]
    sim = simulate(sessions=1, viewers=150, seed=3)[0]
    users = tuple(sorted({e.user for e in sim.events if e.user}))
    orders = tuple(sorted({e.order for e in sim.events if e.order}))
    return sim, users, orders, session_report(sim.events)


def test_removing_nothing_gives_the_raw_report() -> None:
    sim, _, _, raw = room()
    assert session_report(verified_events(sim.events, set(), set())) == raw


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_verified_never_exceeds_raw_for_monotone_figures(data: st.DataObject) -> None:
    sim, users, orders, raw = room()
    gone_users = set(data.draw(st.lists(st.sampled_from(users), max_size=40)))
    gone_orders = set(data.draw(st.lists(st.sampled_from(orders), max_size=10)))
    verified = session_report(verified_events(sim.events, gone_users, gone_orders))
    for key in MONOTONE:
        assert verified[key] <= raw[key], key
    assert verified["duration_seconds"] == raw["duration_seconds"]
    for p_raw in raw["products"]:
        p_ver = next((p for p in verified["products"] if p["product"] == p_raw["product"]), None)
        if p_ver is not None:
            assert p_ver["gmv"] <= p_raw["gmv"]


def test_scan_verified_is_the_report_without_the_flags() -> None:
    sim = simulate(camouflage("blatant"))[0]
    report = scan_session(sim.session, sim.events)
    users = {f["user"] for f in report["suspicious_users"]}
    orders = {f["order"] for f in report["suspicious_orders"]}
    assert users and orders
    assert report["verified"] == session_report(verified_events(sim.events, users, orders))
    assert report["raw"] == session_report(sim.events)


def test_verified_figures_are_near_the_truth_on_a_blatant_room() -> None:
    for sim in simulate(camouflage("blatant")):
        report = scan_session(sim.session, sim.events)
        truth = session_report(
            verified_events(sim.events, set(sim.fake_users), set(sim.fake_orders))
        )
        raw, ver = report["raw"], report["verified"]
        for key, tolerance in (("gmv", 0.03), ("viewer_uv", 0.1)):
            assert abs(ver[key] - truth[key]) <= tolerance * truth[key], key
            assert abs(ver[key] - truth[key]) < abs(raw[key] - truth[key]), key


def test_score_and_breakdown_follow_the_flags() -> None:
    sim = simulate(camouflage("blatant"))[0]
    report = scan_session(sim.session, sim.events)
    parts = report["breakdown"]
    product = 1.0
    for part in parts.values():
        assert 0.0 <= part["share"] <= 1.0
        product *= 1.0 - part["share"]
    assert abs(report["authenticity_score"] - product) < 1e-3
    assert report["authenticity_score"] < 0.9
    clean = simulate((), clean=True, sessions=1, viewers=300, seed=9)[0]
    assert scan_session(clean.session, clean.events)["authenticity_score"] >= 0.99
