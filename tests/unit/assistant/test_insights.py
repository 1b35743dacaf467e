"""Review insights on hand-built event logs: each kind fires on the pattern it names, with
the minute, product and money worked out here from how the log was built, and stays
silent when the pattern is absent; over random logs it never raises and stays ranked."""

from __future__ import annotations

import re
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daihuo.analytics.reference import session_report
from daihuo.assistant.insights import (
    KINDS,
    Insight,
    Span,
    bucket_minutes,
    event_facts,
    insights,
)
from daihuo.authenticity.scan import verified_events
from daihuo.events.model import Event

from tests.unit.analytics.logs import (
    created,
    end,
    enter,
    ev,
    event_logs,
    leave,
    paid,
    refunded,
    start,
)

MIN = 60  # seconds


def run(
    events: list[Event],
    spans: Sequence[Span] = (),
    authenticity: dict[str, object] | None = None,
) -> list[Insight]:
    return insights(
        session_report(events),
        spans=spans,
        titles={"p1": "口红", "p2": "面霜", "p3": "T恤"},
        authenticity=authenticity,
        facts=event_facts(events),
    )


def of_kind(found: list[Insight], kind: str) -> list[Insight]:
    return [i for i in found if i.kind == kind]


def sale(seconds: float, user: str, order: str, product: str, amount: int) -> list[Event]:
    return [
        created(seconds, user, order, product=product, amount=amount),
        paid(seconds + 1, user, order, product=product, amount=amount),
    ]


def pin(ident: str, product: str, first: int, last: int) -> Span:
    return Span("pin", ident, product, f"title of {product}", first, last)


# --- viewer drop ----------------------------------------------------------------------


def drop_log(leavers: int, spread: bool) -> list[Event]:
    """20 viewers from second 5 of a 10-minute session; ``leavers`` of them leave in
    minute 4 (all at once) or one a minute from minute 1 (``spread``); four orders."""
    events = [start(), end(10 * MIN)]
    events += [enter(5, f"u{i}") for i in range(20)]
    for i in range(leavers):
        at = (1 + i) * MIN + 30 if spread else 4 * MIN + 10 + i
        events.append(leave(at, f"u{i}"))
    for i in range(4):
        events += sale(6 * MIN + i, f"u{19 - i}", f"o{i}", "p2", 2500)
    return events


def test_the_biggest_drop_names_its_minute_the_pinned_product_and_the_viewers_lost() -> None:
    spans = [pin("i1", "p1", 0, 2), pin("i2", "p2", 3, 5), pin("i3", "p3", 6, 9)]
    found = of_kind(run(drop_log(8, spread=False), spans), "viewer_drop")
    assert len(found) == 1
    drop = found[0]
    # they left during minute 4 (between the instants 4:00 and 5:00), under pin i2 (p2)
    assert drop.minute == 4 and drop.anchor == "minute:4" and drop.product == "p2"
    assert drop.figures["online_before"] == 20 and drop.figures["online_after"] == 12
    assert drop.figures["viewers_left"] == 8
    # 4 orders of ¥25 over 20 viewers: ¥5 a viewer, 8 viewers lost
    assert drop.money_fen == 8 * (4 * 2500 // 20)
    assert "口红" not in drop.text_zh and "面霜" in drop.text_zh and "面霜" in drop.text_en


def test_viewers_leaving_one_a_minute_is_no_drop() -> None:
    assert of_kind(run(drop_log(8, spread=True)), "viewer_drop") == []


# --- attention vs sales -------------------------------------------------------------------


def clicks(product: str, users: Sequence[str], at: float = 60) -> list[Event]:
    out = []
    for u in users:
        out.append(ev(at, "product_impression", user=u, product=product))
        out.append(ev(at + 1, "product_click", user=u, product=product))
    return out


def attention_log(p1_orders: int) -> list[Event]:
    events = [start(), end(10 * MIN)]
    events += clicks("p1", [f"a{i}" for i in range(30)])
    events += clicks("p2", [f"b{i}" for i in range(10)])
    for i in range(p1_orders):
        events += sale(120 + i, f"a{i}", f"x{i}", "p1", 1000)
    for i in range(5):
        events += sale(180 + i, f"b{i}", f"y{i}", "p2", 2000)
    return events


def test_a_product_with_the_most_clicks_and_few_sales_is_flagged_against_the_best_seller() -> None:
    found = of_kind(run(attention_log(1)), "attention_vs_sales")
    assert [i.product for i in found] == ["p1"]
    flagged = found[0]
    assert flagged.anchor == "product:p1"
    assert flagged.figures["click_uv"] == 30 and flagged.figures["gmv"] == 1000
    assert flagged.figures["best_seller_gmv"] == 5 * 2000
    # p2 sold ¥100 on 10 clicks, ¥10 a click: p1's 30 clicks at that rate, less its ¥10
    assert flagged.money_fen == 30 * (5 * 2000 // 10) - 1000


def test_a_clicked_product_that_also_converts_is_not_flagged() -> None:
    # 15 orders of ¥10 on 30 clicks: ¥5 a click, half of p2's ¥10 a click, so not weak
    assert of_kind(run(attention_log(15)), "attention_vs_sales") == []


# --- GPM by pinned slot ----------------------------------------------------------------


def slot_log(second_slot_gmv: int) -> list[Event]:
    """20 viewers enter in second 1 and stay; ¥100 sold in minutes 0-4 (pin of p1),
    ``second_slot_gmv`` in minutes 5-9 (pin of p2)."""
    events = [start(), end(10 * MIN)]
    events += [enter(1, f"u{i}") for i in range(20)]
    events += sale(2 * MIN, "u0", "o1", "p1", 10_000)
    if second_slot_gmv:
        events += sale(7 * MIN, "u1", "o2", "p2", second_slot_gmv)
    return events


SLOTS = [pin("i1", "p1", 0, 4), pin("i2", "p2", 5, 9)]


def test_the_weakest_pinned_slot_by_gpm_is_named_with_its_shortfall() -> None:
    found = of_kind(run(slot_log(1000), SLOTS), "slot_gpm")
    assert len(found) == 1
    weak = found[0]
    assert weak.product == "p2" and weak.anchor == "minute:5" and weak.minute == 5
    # every one of the 20 viewers watched both slots
    assert weak.figures["viewers"] == 20 and weak.figures["gmv"] == 1000
    assert weak.figures["gpm"] == 1000 * 1000 / 20
    # at the two slots' pooled rate (¥110 over 40 slot viewers) its 20 viewers buy ¥55
    assert weak.money_fen == (10_000 + 1000) * 20 // 40 - 1000
    assert [r["product"] for r in weak.rows] == ["p1", "p2"]


def test_slots_selling_alike_give_no_gpm_finding() -> None:
    assert of_kind(run(slot_log(8000), SLOTS), "slot_gpm") == []


# --- flash sale -----------------------------------------------------------------------


def flash_log() -> list[Event]:
    """One ¥10 order in each of minutes 4 and 5, three in each of minutes 6 and 7."""
    events = [start(), end(10 * MIN)]
    n = 0
    for minute, count in ((4, 1), (5, 1), (6, 3), (7, 3)):
        for _ in range(count):
            n += 1
            events += sale(minute * MIN + n, f"u{n}", f"o{n}", "p3", 1000)
    return events


def test_a_flash_sale_is_compared_with_as_many_minutes_before_it() -> None:
    sale_span = Span("flash_sale", "f1", "p3", "T恤秒杀", 6, 7)
    found = of_kind(run(flash_log(), [sale_span]), "flash_sale")
    assert len(found) == 1
    effect = found[0]
    assert effect.anchor == "flash_sale:f1" and effect.product == "p3"
    assert effect.figures["orders_during"] == 6 and effect.figures["orders_before"] == 2
    assert effect.figures["gmv_during"] == 6000 and effect.figures["gmv_before"] == 2000
    # ¥60 in two minutes against ¥10 a minute before: ¥40 more
    assert effect.money_fen == 6000 - 2 * 1000
    assert effect.figures["uplift_fen"] == 4000


def test_a_flash_sale_at_the_first_minute_or_without_sales_gives_nothing() -> None:
    at_start = Span("flash_sale", "f1", "p3", "", 0, 1)
    quiet = Span("flash_sale", "f2", "p3", "", 8, 9)
    found = of_kind(run(flash_log(), [at_start]), "flash_sale")
    assert found == []
    nothing_sold = [start(), end(10 * MIN)]
    assert of_kind(run(nothing_sold, [quiet]), "flash_sale") == []


# --- refunds --------------------------------------------------------------------------


def refund_log(p1_refund: int, p2_refund: int) -> list[Event]:
    events = [start(), end(10 * MIN)]
    events += sale(60, "u1", "o1", "p1", 5000) + sale(90, "u2", "o2", "p2", 5000)
    if p1_refund:
        events.append(refunded(300, "u1", "o1", p1_refund))
    if p2_refund:
        events.append(refunded(300, "u2", "o2", p2_refund))
    return events


def test_refunds_concentrated_on_one_product_are_flagged_with_their_share() -> None:
    found = of_kind(run(refund_log(3000, 500)), "refund_concentration")
    assert len(found) == 1
    flagged = found[0]
    assert flagged.product == "p1" and flagged.anchor == "product:p1"
    assert flagged.money_fen == 3000
    assert flagged.figures["share_of_refunds"] == 3000 / (3000 + 500)
    assert flagged.figures["refund_rate"] == 3000 / 5000


def test_refunds_spread_evenly_are_not_concentrated() -> None:
    assert of_kind(run(refund_log(1000, 1000)), "refund_concentration") == []
    # p1 only... a session of one product sold says nothing about concentration
    single = [start(), end(10 * MIN), *sale(60, "u1", "o1", "p1", 5000)]
    single.append(refunded(300, "u1", "o1", 4000))
    assert of_kind(run(single), "refund_concentration") == []


# --- verified vs raw ------------------------------------------------------------------


def test_what_the_verified_figures_removed_is_reported() -> None:
    events = [start(), end(10 * MIN)]
    events += [enter(5, f"u{i}") for i in range(10)] + [enter(5, f"bot{i}") for i in range(6)]
    events += sale(60, "u1", "o1", "p1", 3000) + sale(70, "bot1", "o2", "p1", 8000)
    raw = session_report(events)
    verified = session_report(verified_events(events, {f"bot{i}" for i in range(6)}, set()))
    found = of_kind(run(events, authenticity={"raw": raw, "verified": verified}), "verified_change")
    assert len(found) == 1
    change = found[0]
    assert change.money_fen == 8000  # bot1's order
    assert change.figures["viewers_removed"] == 6
    assert change.anchor == "authenticity"
    same = {"raw": raw, "verified": raw}
    assert of_kind(run(events, authenticity=same), "verified_change") == []


# --- comment topics -------------------------------------------------------------------


def comment(seconds: float, user: str, text: str) -> Event:
    return ev(seconds, "comment", user=user, text=text)


def test_comment_topics_follow_the_session_bucket_by_bucket() -> None:
    events = [start(), end(20 * MIN)]
    sizes = ("这件尺码偏大吗", "尺码怎么选", "一米七穿什么尺码", "尺码标准吗", "尺码偏小吗")
    shipping = ("什么时候发货", "发货快吗", "今天能发货吗", "包邮发货吗", "发货地在哪")
    events += [comment(30 + 40 * i, f"u{i}", t) for i, t in enumerate(sizes)]
    events += [comment(10 * MIN + 30 * i, f"v{i}", t) for i, t in enumerate(shipping)]
    found = of_kind(run(events), "comment_topics")
    assert len(found) == 1
    rows = found[0].rows
    size = bucket_minutes(20)
    assert [(r["minute_from"], r["comments"]) for r in rows] == [(0, 5), (10 // size * size, 5)]
    assert "尺码" in rows[0]["keywords"] and "发货" in rows[1]["keywords"]
    assert found[0].money_fen == 0


def test_a_handful_of_comments_gives_no_topics() -> None:
    events = [start(), end(20 * MIN)] + [comment(30 * i, "u", "尺码偏大吗") for i in range(5)]
    assert of_kind(run(events), "comment_topics") == []


# --- whole lists ------------------------------------------------------------------------


def test_no_events_and_a_session_with_only_its_start_and_end_give_no_findings() -> None:
    assert insights(None) == []
    assert insights({}) == []
    assert run([start(), end(30 * MIN)]) == []


def test_findings_are_ranked_by_money_at_stake() -> None:
    # the refund log (¥45 refunded on p1) and 20 viewers of whom 8 leave in minute 4
    events = refund_log(4500, 500)
    events += [enter(5, f"w{i}") for i in range(20)]
    events += [leave(4 * MIN + 10, f"w{i}") for i in range(8)]
    found = run(events)
    assert [i.kind for i in found] == ["refund_concentration", "viewer_drop"]
    # ¥100 sold, 20 viewers (the two buyers never entered): ¥5 a viewer, 8 viewers lost
    assert [i.money_fen for i in found] == [4500, 8 * 10_000 // 20]


ANCHOR = re.compile(r"^(minute:\d+|product:.+|flash_sale:.+|authenticity)$")


@st.composite
def spans(draw: st.DrawFn) -> list[Span]:
    out = []
    for i in range(draw(st.integers(0, 4))):
        first = draw(st.integers(0, 6))
        out.append(
            Span(
                draw(st.sampled_from(("pin", "flash_sale"))),
                f"m{i}",
                draw(st.sampled_from(("p1", "p2", "p10", None))),
                "",
                first,
                first + draw(st.integers(0, 3)),
            )
        )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=event_logs(), marks=spans(), drop_users=st.sets(st.sampled_from(("u1", "u2"))))
def test_insights_never_raise_and_stay_ranked_on_random_logs(
    log: list[Event], marks: list[Span], drop_users: set[str]
) -> None:
    by_session: dict[str, list[Event]] = {}
    for e in log:
        by_session.setdefault(e.session, []).append(e)
    for events in by_session.values():
        report = session_report(events)
        kept = verified_events(events, drop_users, set())
        auth = {"raw": report, "verified": session_report(kept) if kept else None}
        facts = event_facts(events)
        # the facts count the sales the report counts, minute by minute
        per_minute = [0] * len(report["gmv_per_minute"])
        for s in facts.sales:
            per_minute[s.minute] += s.amount
        assert per_minute == report["gmv_per_minute"]
        found = insights(report, spans=marks, authenticity=auth, facts=facts)
        again = insights(report, spans=marks, authenticity=auth, facts=facts)
        assert found == again
        keys = [(-i.money_fen, KINDS.index(i.kind), i.anchor) for i in found]
        assert keys == sorted(keys)
        assert all(i.money_fen >= 0 and ANCHOR.match(i.anchor) for i in found)
