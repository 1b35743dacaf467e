"""Review insights (复盘洞察): a session's report turned into ranked, explained findings.

:func:`insights` is pure: it reads a session's report (shared/spec/metrics.md, the shape
of :func:`daihuo.analytics.reference.session_report`), the review's markers (pinned
products and flash sales, as :class:`Span`), product titles, the authenticity scan's
``raw``/``verified`` reports when known, and the session's comments and paid orders
per minute (:func:`event_facts` derives both from the event log with the report's own
rules). It returns :class:`Insight` records, each with the figures behind it, a chart
anchor and its text in zh-CN and English.

Minutes are the report's: minute ``k`` is ``[start + k·60 s, start + (k+1)·60 s)`` and
``online_per_minute[k]`` is the audience at its first instant. An anchor ``kind:value``
names the review page's element ``kind-value`` (``minute:37`` → ``id="minute-37"``,
``product:p1`` → ``id="product-p1"``, ``flash_sale:f1`` → ``id="flash_sale-f1"``);
``authenticity`` is the page's authenticity panel.

Kinds, when each fires, and how its money at stake (integer fen, ≥ 0) is estimated:

``viewer_drop``
    The largest fall of ``online_per_minute`` from one minute to the next, minute ``m``
    being the one in which they left (``online[m] - online[m+1]``). Fires when at least
    :data:`MIN_DROP` viewers left and they were at least :data:`DROP_SHARE` of
    ``online[m]``. What was pinned: the pin covering minute ``m`` (the latest started
    when several do). Money: viewers lost × the session's ``uv_value`` (GMV ÷ viewers).
``attention_vs_sales``
    The product with the most clicks (``click_uv``; ties: more ``impression_uv``, then
    product id) is not the product with the most GMV, has at least :data:`MIN_CLICKS`
    clicks, and its GMV per click is below :data:`WEAK_SHARE` of the other products'
    pooled GMV per click. Money: its clicks × the others' GMV per click − its GMV.
``slot_gpm``
    GPM of each pin slot: the GMV of ``gmv_per_minute`` over the slot's minutes per
    1,000 viewers of the slot, viewers being ``online`` at its first minute plus the
    views (``new_viewers_per_minute``) in its minutes (at minute resolution: an entry
    at exactly a minute's first instant counts twice). Slots with fewer than
    :data:`MIN_SLOT_VIEWERS` viewers are left out. Fires for the weakest slot when at
    least two slots qualify and its GPM is below :data:`WEAK_SHARE` of the pooled GPM
    of all qualifying slots. Money: (pooled GPM − its GPM) × its viewers ÷ 1,000.
``flash_sale``
    Per flash sale on the curves: GMV and paid orders in its minutes against the same
    number of minutes just before it (fewer when it starts early; none: no finding).
    Fires when there was GMV in either period. Money: |GMV during − GMV per minute
    before × minutes during|, the uplift (or loss) the sale made.
``refund_concentration``
    At least two products sold, refunds > 0, and one product (most refunded; ties:
    product id) holds more than :data:`REFUND_SHARE` of the refund amount. Money: that
    product's refund amount.
``verified_change``
    The authenticity scan removed GMV or viewers (raw − verified > 0). Money: the GMV
    removed.
``comment_topics``
    At least :data:`MIN_COMMENTS` comments: the keywords (:data:`TOPIC_WORDS`; jieba
    TF-IDF weighted towards words of one period, see :func:`keywords`) of each time
    bucket of :func:`bucket_minutes` minutes that has at least
    :data:`MIN_BUCKET_COMMENTS` comments. Context rather than money: its money is 0.

Order: money at stake, highest first; ties by :data:`KINDS` order, then anchor. The same
input always gives the same list. No events (``report`` ``None`` or empty) gives ``[]``.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal, get_args

from pydantic import BaseModel, Field

from daihuo.analytics.reference import MINUTE_MS, clean, window
from daihuo.events.model import Event

# The kinds, in the order that breaks ties of money at stake.
Kind = Literal[
    "verified_change",
    "refund_concentration",
    "viewer_drop",
    "attention_vs_sales",
    "slot_gpm",
    "flash_sale",
    "comment_topics",
]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)
MIN_DROP: Final = 5  # viewers
DROP_SHARE: Final = 0.10
MIN_CLICKS: Final = 10
WEAK_SHARE: Final = 0.5
MIN_SLOT_VIEWERS: Final = 10
REFUND_SHARE: Final = 0.5
MIN_COMMENTS: Final = 10
MIN_BUCKET_COMMENTS: Final = 3
TOPIC_WORDS: Final = 3
MAX_BUCKETS: Final = 6
MIN_BUCKET_MINUTES: Final = 5
# Chat words that say nothing about what viewers want (jieba's own stop list is English).
STOP_WORDS: Final = frozenset(
    {
        "主播", "这个", "那个", "什么", "怎么", "可以", "就是", "还有", "没有", "我们",
        "你们", "他们", "一个", "哈哈", "哈哈哈", "真的", "现在", "大家", "来了", "知道",
    }
)  # fmt: skip
_NUMBER = re.compile(r"^[\d.]+$")

Figure = int | float | None


class Insight(BaseModel):
    """One finding: what, how much money it concerns, the numbers, where to look."""

    kind: Kind
    money_fen: int = Field(ge=0, description="Money at stake, fen (see the module's docs).")
    anchor: str = Field(description="The chart element: `minute:37`, `product:p1`, …")
    product: str | None = None
    minute: int | None = None
    figures: dict[str, Figure] = Field(description="The numbers behind it, by name.")
    rows: list[dict[str, Any]] = Field(
        default_factory=list, description="Per slot or per time bucket, where there are some."
    )
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str


@dataclass(frozen=True)
class Span:
    """A review marker placed on the curves (as in ``analytics.review.Marker``)."""

    kind: Literal["pin", "flash_sale"]
    id: str
    product: str | None
    title: str
    minute_from: int | None
    minute_to: int | None


@dataclass(frozen=True)
class Sale:
    """A paid order counted by the report, in the minute of its ``order_created``."""

    minute: int
    product: str
    amount: int


@dataclass(frozen=True)
class Facts:
    comments: list[tuple[int, str]]
    sales: list[Sale]


def event_facts(events: Iterable[Event]) -> Facts:
    """The comments and paid orders of one session's events, per minute of its window,
    counted by the report's rules (analytics.reference): comments inside the window,
    orders created inside it and paid at any time (the first payment's amount)."""
    evs = clean(events)
    if not evs:
        return Facts([], [])
    start, end = window(evs)
    n_minutes = -(-(end - start) // MINUTE_MS)

    def minute(ts_ms: int) -> int | None:
        k = (ts_ms - start) // MINUTE_MS
        return k if 0 <= k < n_minutes else None

    comments: list[tuple[int, str]] = []
    created: dict[str, Event] = {}
    paid: dict[str, Event] = {}
    for e in evs:
        if e.type == "comment" and start <= e.ts_ms <= end:
            k = minute(e.ts_ms)
            if k is not None and e.text:
                comments.append((k, e.text))
        elif e.type == "order_created" and e.order is not None:
            created.setdefault(e.order, e)
        elif e.type == "order_paid" and e.order is not None:
            paid.setdefault(e.order, e)
    sales = []
    for order, made in created.items():
        pay = paid.get(order)
        if pay is None or made.product is None or not start <= made.ts_ms <= end:
            continue
        k = minute(made.ts_ms)
        if k is not None:
            sales.append(Sale(k, made.product, pay.amount or 0))
    return Facts(comments, sales)


# --- formatting -------------------------------------------------------------------------


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def yuan(fen: float) -> str:
    return f"¥{fen / 100:,.2f}"


def pct(x: float) -> str:
    return f"{x:.0%}"


def _name(product: str | None, titles: Mapping[str, str], fallback: str = "") -> str:
    if product is None:
        return fallback or "—"
    return titles.get(product) or fallback or product


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def _series(report: Mapping[str, Any], key: str) -> list[int]:
    return [int(v) for v in report.get(key) or []]


def _on_curves(span: Span) -> bool:
    return span.minute_from is not None and span.minute_to is not None


# --- the kinds --------------------------------------------------------------------------


def _viewer_drop(
    report: Mapping[str, Any], spans: Sequence[Span], titles: Mapping[str, str]
) -> Insight | None:
    online = _series(report, "online_per_minute")
    best: tuple[int, int] | None = None  # (left, minute)
    for m in range(len(online) - 1):
        left = online[m] - online[m + 1]
        if left > 0 and (best is None or left > best[0]):
            best = (left, m)
    if best is None:
        return None
    left, m = best
    if left < MIN_DROP or left < DROP_SHARE * online[m]:
        return None
    uv_value = _ratio(report.get("gmv") or 0, report.get("viewer_uv") or 0) or 0.0
    covering = [
        s for s in spans
        if s.kind == "pin" and _on_curves(s)
        and (s.minute_from or 0) <= m <= (s.minute_to or 0)
    ]  # fmt: skip
    pin = max(covering, key=lambda s: (s.minute_from or 0, s.id), default=None)
    product = pin.product if pin else None
    name = _name(product, titles, pin.title if pin else "")
    money = _round(left * uv_value)
    share = left / online[m]
    if pin:
        zh_pin, en_pin = f"当时讲解的是「{name}」", f"while {name} was pinned"
    else:
        zh_pin, en_pin = "当时没有讲解商品", "with no product pinned"
    return Insight(
        kind="viewer_drop",
        money_fen=money,
        anchor=f"minute:{m}",
        product=product,
        minute=m,
        figures={
            "online_before": online[m],
            "online_after": online[m + 1],
            "viewers_left": left,
            "share_left": share,
            "uv_value": uv_value,
        },
        title_zh=f"第 {m} 分钟观众流失最多",
        title_en=f"Most viewers left in minute {m}",
        text_zh=(
            f"第 {m} 分钟在线人数从 {online[m]} 降到 {online[m + 1]}，"
            f"流失 {left} 人（{pct(share)}），{zh_pin}。"
            f"按本场 UV 价值 {yuan(uv_value)} 计，约损失 {yuan(money)} 成交。"
        ),
        text_en=(
            f"In minute {m} the audience fell from {online[m]} to {online[m + 1]}: "
            f"{left} viewers ({pct(share)}) left {en_pin}. At this session's value per "
            f"viewer of {yuan(uv_value)}, that is about {yuan(money)} of sales."
        ),
    )


def _attention_vs_sales(report: Mapping[str, Any], titles: Mapping[str, str]) -> Insight | None:
    rows = list(report.get("products") or [])
    if len(rows) < 2:
        return None
    top = min(rows, key=lambda r: (-r["click_uv"], -r["impression_uv"], r["product"]))
    seller = min(rows, key=lambda r: (-r["gmv"], r["product"]))
    if seller["gmv"] <= 0 or seller["product"] == top["product"]:
        return None
    clicks = int(top["click_uv"])
    if clicks < MIN_CLICKS:
        return None
    others = [r for r in rows if r["product"] != top["product"]]
    other_clicks = sum(int(r["click_uv"]) for r in others)
    other_gmv = sum(int(r["gmv"]) for r in others)
    per_click = _ratio(other_gmv, other_clicks)
    if per_click is None:
        return None
    own = int(top["gmv"]) / clicks
    if own >= WEAK_SHARE * per_click:
        return None
    money = max(_round(clicks * per_click) - int(top["gmv"]), 0)
    name, sold = _name(top["product"], titles), _name(seller["product"], titles)
    return Insight(
        kind="attention_vs_sales",
        money_fen=money,
        anchor=f"product:{top['product']}",
        product=top["product"],
        figures={
            "click_uv": clicks,
            "impression_uv": int(top["impression_uv"]),
            "ctr": top["ctr"],
            "order_count": int(top["order_count"]),
            "gmv": int(top["gmv"]),
            "gmv_per_click": own,
            "others_gmv_per_click": per_click,
            "best_seller_gmv": int(seller["gmv"]),
            "best_seller_click_uv": int(seller["click_uv"]),
        },
        title_zh=f"「{name}」吸引了关注却没卖动",
        title_en=f"{name} held attention but did not sell",
        text_zh=(
            f"「{name}」点击人数最多（{clicks} 人），只成交 {int(top['order_count'])} 单、"
            f"{yuan(int(top['gmv']))}；卖得最好的是「{sold}」（{yuan(int(seller['gmv']))}）。"
            f"若按其他商品每次点击 {yuan(per_click)} 的成交计，它少卖了约 {yuan(money)}。"
        ),
        text_en=(
            f"{name} drew the most clicks ({clicks}) but sold only "
            f"{int(top['order_count'])} orders, {yuan(int(top['gmv']))}; the best seller "
            f"was {sold} ({yuan(int(seller['gmv']))}). At the other products' "
            f"{yuan(per_click)} per click it would have sold about {yuan(money)} more."
        ),
    )


def _slots(report: Mapping[str, Any], spans: Sequence[Span]) -> list[dict[str, Any]]:
    online = _series(report, "online_per_minute")
    views = _series(report, "new_viewers_per_minute")
    gmv = _series(report, "gmv_per_minute")
    out = []
    for s in spans:
        if s.kind != "pin" or not _on_curves(s):
            continue
        f, t = s.minute_from or 0, s.minute_to or 0
        if f >= len(online):
            continue
        t = min(t, len(online) - 1)
        viewers = online[f] + sum(views[f : t + 1])
        slot_gmv = sum(gmv[f : t + 1])
        out.append(
            {
                "pin": s.id,
                "product": s.product,
                "title": s.title,
                "minute_from": f,
                "minute_to": t,
                "viewers": viewers,
                "gmv": slot_gmv,
                "gpm": _ratio(slot_gmv * 1000, viewers),
            }
        )
    return out


def _slot_gpm(
    report: Mapping[str, Any], spans: Sequence[Span], titles: Mapping[str, str]
) -> Insight | None:
    slots = [s for s in _slots(report, spans) if s["viewers"] >= MIN_SLOT_VIEWERS]
    if len(slots) < 2:
        return None
    pooled = sum(s["gmv"] for s in slots) * 1000 / sum(s["viewers"] for s in slots)
    weak = min(slots, key=lambda s: (s["gpm"], s["minute_from"], s["pin"]))
    if pooled <= 0 or weak["gpm"] >= WEAK_SHARE * pooled:
        return None
    best = max(slots, key=lambda s: (s["gpm"], -s["minute_from"]))
    money = max(_round((pooled - weak["gpm"]) * weak["viewers"] / 1000), 0)
    name = _name(weak["product"], titles, weak["title"])
    best_name = _name(best["product"], titles, best["title"])
    f, t = weak["minute_from"], weak["minute_to"]
    return Insight(
        kind="slot_gpm",
        money_fen=money,
        anchor=f"minute:{f}",
        product=weak["product"],
        minute=f,
        figures={
            "minute_from": f,
            "minute_to": t,
            "viewers": weak["viewers"],
            "gmv": weak["gmv"],
            "gpm": weak["gpm"],
            "pooled_gpm": pooled,
            "best_gpm": best["gpm"],
            "slots": len(slots),
        },
        rows=slots,
        title_zh=f"讲解「{name}」时千次观看成交最低",
        title_en=f"The lowest GPM was while {name} was pinned",
        text_zh=(
            f"第 {f}–{t} 分钟讲解「{name}」，{weak['viewers']} 人观看，成交 "
            f"{yuan(weak['gmv'])}，GPM {yuan(weak['gpm'])}；各讲解时段合计 GPM "
            f"{yuan(pooled)}，最高的是「{best_name}」（{yuan(best['gpm'])}）。"
            f"按合计 GPM 计少卖约 {yuan(money)}。"
        ),
        text_en=(
            f"Minutes {f}–{t}, {name} pinned: {weak['viewers']} viewers, "
            f"{yuan(weak['gmv'])} sold, GPM {yuan(weak['gpm'])}, against {yuan(pooled)} "
            f"over all pinned slots (best: {best_name}, {yuan(best['gpm'])}). At that GPM "
            f"it would have sold about {yuan(money)} more."
        ),
    )


def _flash_sales(
    report: Mapping[str, Any],
    spans: Sequence[Span],
    sales: Sequence[Sale],
    titles: Mapping[str, str],
) -> list[Insight]:
    gmv = _series(report, "gmv_per_minute")
    out = []
    for s in spans:
        if s.kind != "flash_sale" or not _on_curves(s):
            continue
        f, t = s.minute_from or 0, min(s.minute_to or 0, len(gmv) - 1)
        if f < 1 or f > t:
            continue  # nothing before it to compare with
        n = t - f + 1
        b = max(0, f - n)
        during, before = sum(gmv[f : t + 1]), sum(gmv[b:f])
        if during == 0 and before == 0:
            continue
        orders_during = sum(1 for x in sales if f <= x.minute <= t)
        orders_before = sum(1 for x in sales if b <= x.minute < f)
        product_orders = sum(1 for x in sales if f <= x.minute <= t and x.product == s.product)
        per_before = before / (f - b)
        uplift = during - per_before * n
        money = _round(abs(uplift))
        name = _name(s.product, titles, s.title)
        up = uplift >= 0
        out.append(
            Insight(
                kind="flash_sale",
                money_fen=money,
                anchor=f"flash_sale:{s.id}",
                product=s.product,
                minute=f,
                figures={
                    "minute_from": f,
                    "minute_to": t,
                    "minutes": n,
                    "minutes_before": f - b,
                    "gmv_during": during,
                    "gmv_before": before,
                    "gmv_per_minute_during": during / n,
                    "gmv_per_minute_before": per_before,
                    "orders_during": orders_during,
                    "orders_before": orders_before,
                    "product_orders_during": product_orders,
                    "uplift_fen": _round(uplift),
                },
                title_zh=f"秒杀「{name}」{'带来' if up else '没有带来'}成交增长",
                title_en=f"The flash sale of {name} {'lifted' if up else 'did not lift'} sales",
                text_zh=(
                    f"秒杀期间（第 {f}–{t} 分钟）成交 {yuan(during)}、{orders_during} 单，"
                    f"每分钟 {yuan(during / n)}；之前 {f - b} 分钟每分钟 {yuan(per_before)}、"
                    f"共 {orders_before} 单。{'多' if up else '少'}成交约 {yuan(money)}。"
                ),
                text_en=(
                    f"During the flash sale (minutes {f}–{t}): {yuan(during)} in "
                    f"{orders_during} orders, {yuan(during / n)} a minute, against "
                    f"{yuan(per_before)} a minute and {orders_before} orders in the "
                    f"{f - b} minutes before: about {yuan(money)} "
                    f"{'more' if up else 'less'}."
                ),
            )
        )
    return out


def _refunds(report: Mapping[str, Any], titles: Mapping[str, str]) -> Insight | None:
    rows = list(report.get("products") or [])
    total = int(report.get("refund_amount") or 0)
    if total <= 0 or sum(1 for r in rows if r["gmv"] > 0) < 2:
        return None
    top = min(rows, key=lambda r: (-r["refund_amount"], r["product"]))
    amount = int(top["refund_amount"])
    share = amount / total
    if share <= REFUND_SHARE:
        return None
    rate = _ratio(amount, int(top["gmv"]))
    name = _name(top["product"], titles)
    rate_zh = "" if rate is None else f"，占其成交的 {pct(rate)}"
    rate_en = "" if rate is None else f", {pct(rate)} of its sales"
    return Insight(
        kind="refund_concentration",
        money_fen=amount,
        anchor=f"product:{top['product']}",
        product=top["product"],
        figures={
            "refund_amount": amount,
            "share_of_refunds": share,
            "gmv": int(top["gmv"]),
            "refund_rate": rate,
            "session_refund_amount": total,
            "session_refund_rate": report.get("refund_rate"),
        },
        title_zh=f"退款集中在「{name}」",
        title_en=f"Refunds are concentrated on {name}",
        text_zh=(
            f"「{name}」退款 {yuan(amount)}，占本场退款 {yuan(total)} 的 {pct(share)}"
            f"{rate_zh}。请检查商品质量与描述。"
        ),
        text_en=(
            f"{name} was refunded {yuan(amount)}, {pct(share)} of this session's "
            f"{yuan(total)} of refunds{rate_en}. Check its quality and description."
        ),
    )


def _verified(authenticity: Mapping[str, Any] | None) -> Insight | None:
    if not authenticity:
        return None
    raw, verified = authenticity.get("raw"), authenticity.get("verified")
    if not raw:
        return None
    verified = verified or {}
    raw_gmv, ver_gmv = int(raw.get("gmv") or 0), int(verified.get("gmv") or 0)
    raw_uv, ver_uv = int(raw.get("viewer_uv") or 0), int(verified.get("viewer_uv") or 0)
    gmv_removed, uv_removed = raw_gmv - ver_gmv, raw_uv - ver_uv
    if gmv_removed <= 0 and uv_removed <= 0:
        return None
    money = max(gmv_removed, 0)
    return Insight(
        kind="verified_change",
        money_fen=money,
        anchor="authenticity",
        figures={
            "raw_gmv": raw_gmv,
            "verified_gmv": ver_gmv,
            "gmv_removed": gmv_removed,
            "raw_viewer_uv": raw_uv,
            "verified_viewer_uv": ver_uv,
            "viewers_removed": uv_removed,
            "raw_pcu": raw.get("pcu"),
            "verified_pcu": verified.get("pcu"),
            "raw_conversion_rate": raw.get("conversion_rate"),
            "verified_conversion_rate": verified.get("conversion_rate"),
        },
        title_zh="核验后的数据变了",
        title_en="The verified figures differ",
        text_zh=(
            f"真实度核验去掉了 {yuan(max(gmv_removed, 0))} 成交（{yuan(raw_gmv)} → "
            f"{yuan(ver_gmv)}）和 {max(uv_removed, 0)} 名观众（{raw_uv} → {ver_uv}）。"
            f"请以核验后的数字做决定。"
        ),
        text_en=(
            f"The authenticity check removed {yuan(max(gmv_removed, 0))} of sales "
            f"({yuan(raw_gmv)} → {yuan(ver_gmv)}) and {max(uv_removed, 0)} viewers "
            f"({raw_uv} → {ver_uv}). Decide on the verified figures."
        ),
    )


def bucket_minutes(n_minutes: int) -> int:
    """Minutes per comment bucket: at most :data:`MAX_BUCKETS` buckets, each at least
    :data:`MIN_BUCKET_MINUTES` minutes long."""
    return max(MIN_BUCKET_MINUTES, -(-n_minutes // MAX_BUCKETS))


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba's IDF table (the one ``jieba.analyse`` ships), read here rather than through
    ``jieba.analyse``, whose import leaves the file open."""
    import jieba  # type: ignore[import-untyped]

    path = Path(jieba.__file__).parent / "analyse" / "idf.txt"
    table: dict[str, float] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            word, _, freq = line.strip().partition(" ")
            if freq:
                table[word] = float(freq)
    values = sorted(table.values())
    return table, values[len(values) // 2]


def _terms(texts: Sequence[str]) -> dict[str, int]:
    """Term frequencies of jieba tokens of two characters or more, stop words and bare
    numbers left out (in order of first appearance)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    freq: dict[str, int] = {}
    for text in texts:
        for token in jieba.lcut(text):
            word = str(token).strip()
            if len(word) < 2 or word.lower() in STOP_WORDS or _NUMBER.match(word):
                continue
            freq[word] = freq.get(word, 0) + 1
    return freq


def keywords(buckets: Sequence[Sequence[str]], k: int = TOPIC_WORDS) -> list[list[str]]:
    """The ``k`` top keywords of each bucket of comment texts: term frequency × jieba's
    IDF (as ``jieba.analyse.extract_tags``; a word missing from the table takes the
    median) × ``1 + ln(buckets ÷ buckets using the word)``, so that a word of one period
    ranks above chat heard all session long. Ties go to the word seen first."""
    idf, median = _idf()
    freqs = [_terms(texts) for texts in buckets]
    used = Counter(w for freq in freqs for w in freq)
    n = len(freqs)
    out = []
    for freq in freqs:
        score = {w: f * idf.get(w, median) * (1 + math.log(n / used[w])) for w, f in freq.items()}
        out.append(sorted(freq, key=lambda w: -score[w])[:k])  # stable
    return out


def _topics(report: Mapping[str, Any], comments: Sequence[tuple[int, str]]) -> Insight | None:
    n_minutes = len(report.get("online_per_minute") or [])
    texts = [(m, t) for m, t in comments if 0 <= m < n_minutes and t.strip()]
    if len(texts) < MIN_COMMENTS:
        return None
    size = bucket_minutes(n_minutes)
    by_bucket: dict[int, list[str]] = {}
    for m, t in texts:
        by_bucket.setdefault(m // size, []).append(t)
    kept = [b for b in sorted(by_bucket) if len(by_bucket[b]) >= MIN_BUCKET_COMMENTS]
    rows: list[dict[str, Any]] = []
    for b, words in zip(kept, keywords([by_bucket[b] for b in kept]), strict=True):
        if words:
            rows.append(
                {
                    "minute_from": b * size,
                    "minute_to": min((b + 1) * size, n_minutes) - 1,
                    "comments": len(by_bucket[b]),
                    "keywords": words,
                }
            )
    if not rows:
        return None
    busiest = max(rows, key=lambda r: (r["comments"], -r["minute_from"]))
    overall = Counter(w for r in rows for w in r["keywords"])
    common = [w for w, _ in sorted(overall.items(), key=lambda x: (-x[1], x[0]))][:TOPIC_WORDS]
    f, t = busiest["minute_from"], busiest["minute_to"]
    zh_parts = "；".join(
        f"第 {r['minute_from']}–{r['minute_to']} 分钟：{'、'.join(r['keywords'])}" for r in rows
    )
    en_parts = "; ".join(
        f"minutes {r['minute_from']}–{r['minute_to']}: {', '.join(r['keywords'])}" for r in rows
    )
    return Insight(
        kind="comment_topics",
        money_fen=0,
        anchor=f"minute:{f}",
        minute=f,
        figures={
            "comments": len(texts),
            "buckets": len(rows),
            "bucket_minutes": size,
            "busiest_minute_from": f,
            "busiest_minute_to": t,
            "busiest_comments": busiest["comments"],
        },
        rows=rows,
        title_zh=f"评论话题：{'、'.join(common)}",
        title_en=f"Comment topics: {', '.join(common)}",
        text_zh=f"{len(texts)} 条评论的关键词 — {zh_parts}。",
        text_en=f"Keywords of {len(texts)} comments — {en_parts}.",
    )


def insights(
    report: Mapping[str, Any] | None,
    *,
    spans: Sequence[Span] = (),
    titles: Mapping[str, str] | None = None,
    authenticity: Mapping[str, Any] | None = None,
    facts: Facts | None = None,
) -> list[Insight]:
    """The session's findings, most money at stake first (see the module's docs)."""
    if not report:
        return []
    titles = titles or {}
    facts = facts or Facts([], [])
    found: list[Insight | None] = [
        _verified(authenticity),
        _refunds(report, titles),
        _viewer_drop(report, spans, titles),
        _attention_vs_sales(report, titles),
        _slot_gpm(report, spans, titles),
        *_flash_sales(report, spans, facts.sales, titles),
        _topics(report, facts.comments),
    ]
    out = [i for i in found if i is not None]
    out.sort(key=lambda i: (-i.money_fen, KINDS.index(i.kind), i.anchor))
    return out
