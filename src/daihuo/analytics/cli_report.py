"""Plain-text rendering of a report (``{"sessions": {...}}``) for terminals and logs.

Each figure is shown with its Chinese dashboard name and its JSON key, so a merchant and
an engineer read the same line. Money sums are fen in the report and shown as yuan here;
``None`` (a zero denominator) is shown as an em dash. No third-party dependency: column
widths count East Asian wide characters as two cells so the tables line up.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, Final

# key, 中文名, how to show the value
METRICS: Final[tuple[tuple[str, str, str], ...]] = (
    ("duration_seconds", "直播时长", "seconds"),
    ("exposure_uv", "曝光人数", "count"),
    ("viewer_uv", "观看人数", "count"),
    ("views_pv", "观看次数", "count"),
    ("entry_rate", "曝光-观看率", "rate"),
    ("pcu", "最高在线", "count"),
    ("acu", "平均在线", "number"),
    ("total_watch_seconds", "总观看时长", "seconds"),
    ("avg_watch_seconds", "人均观看时长", "seconds"),
    ("online_per_minute", "在线人数曲线", "curve"),
    ("new_viewers_per_minute", "进入人数曲线", "curve"),
    ("comment_count", "评论次数", "count"),
    ("like_count", "点赞次数", "count"),
    ("share_count", "分享次数", "count"),
    ("follow_uv", "新增粉丝", "count"),
    ("interaction_uv", "互动人数", "count"),
    ("interaction_rate", "互动率", "rate"),
    ("product_impression_uv", "商品曝光人数", "count"),
    ("product_click_uv", "商品点击人数", "count"),
    ("product_ctr", "商品点击率", "rate"),
    ("cart_uv", "加购人数", "count"),
    ("order_count", "成交订单数", "count"),
    ("buyer_uv", "成交人数", "count"),
    ("items_sold", "成交件数", "count"),
    ("gmv", "成交金额", "money"),
    ("conversion_rate", "观看-成交转化率", "rate"),
    ("gpm", "千次观看成交金额", "money"),
    ("uv_value", "UV价值", "money"),
    ("aov", "客单价", "money"),
    ("refund_amount", "退款金额", "money"),
    ("refund_rate", "退款率", "rate"),
    ("gmv_per_minute", "成交金额曲线", "curve_money"),
)
FUNNEL_STEPS: Final = (
    ("曝光", "exposure_uv"),
    ("观看", "viewer_uv"),
    ("商品曝光", "product_impression_uv"),
    ("商品点击", "product_click_uv"),
    ("加购", "cart_uv"),
    ("成交", "buyer_uv"),
)
PRODUCT_COLUMNS: Final = (
    ("商品", "product", "text"),
    ("曝光人数", "impression_uv", "count"),
    ("点击人数", "click_uv", "count"),
    ("点击率", "ctr", "rate"),
    ("订单数", "order_count", "count"),
    ("件数", "items_sold", "count"),
    ("成交金额", "gmv", "money"),
    ("退款金额", "refund_amount", "money"),
)
CURVE_SHOWN: Final = 12  # values of a per-minute curve shown before eliding
NONE: Final = "—"


def width(text: str) -> int:
    """Terminal cells taken by ``text`` (wide and full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, cells: int, right: bool = False) -> str:
    fill = " " * max(0, cells - width(text))
    return fill + text if right else text + fill


def format_value(value: Any, how: str) -> str:
    if value is None:
        return NONE
    if how == "seconds":
        return f"{value:,.1f} s"
    if how == "rate":
        return f"{value:.2%}"
    if how == "number":
        return f"{value:,.2f}"
    if how == "money":
        return f"¥{value / 100:,.2f}"
    if how in ("curve", "curve_money"):
        return _curve(value, money=how == "curve_money")
    if how == "count":
        return f"{value:,}"
    return str(value)


def _curve(values: Sequence[int], money: bool) -> str:
    if not values:
        return "(no minutes)"
    shown = " ".join(str(v) for v in values[:CURVE_SHOWN])
    if len(values) > CURVE_SHOWN:
        shown += f" … (+{len(values) - CURVE_SHOWN} more)"
    unit = " fen" if money else ""
    return f"[{len(values)} min] {shown}{unit}; max {max(values):,}{unit}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str) -> list[str]:
    cells = [max(width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(row: Sequence[str], head: bool) -> str:
        parts = [_pad(v, cells[i], right=i > 0 and not head) for i, v in enumerate(row)]
        return (indent + "  ".join(parts)).rstrip()

    return [line(headers, True), *(line(r, False) for r in rows)]


def format_session(session_id: str, figures: Mapping[str, Any]) -> str:
    lines = [f"场次 session {session_id}"]
    rows = [
        (name, key, format_value(figures.get(key), how))
        for key, name, how in METRICS
        if key in figures
    ]
    name_cells = max(width(name) for name, _, _ in rows)
    key_cells = max(len(key) for _, key, _ in rows)
    for name, key, shown in rows:
        lines.append(f"  {_pad(name, name_cells)}  {_pad(key, key_cells)}  {shown}")

    funnel = figures.get("funnel")
    if funnel is not None:
        steps = [f"{zh} {value:,}" for (zh, _), value in zip(FUNNEL_STEPS, funnel, strict=True)]
        lines.append("  漏斗 funnel: " + " → ".join(steps))

    products = figures.get("products") or []
    lines.append(f"  商品 products ({len(products)}):")
    if products:
        headers = [f"{zh} {key}" for zh, key, _ in PRODUCT_COLUMNS]
        body = [
            [format_value(p.get(key), how) for _, key, how in PRODUCT_COLUMNS] for p in products
        ]
        lines.extend(_table(headers, body, indent="    "))

    sources = figures.get("sources") or {}
    lines.append(f"  流量来源 sources ({len(sources)}):")
    if sources:
        headers = ["来源 source", "曝光人数 exposure_uv", "观看人数 viewer_uv"]
        body = [
            [name, f"{row['exposure_uv']:,}", f"{row['viewer_uv']:,}"]
            for name, row in sources.items()
        ]
        lines.extend(_table(headers, body, indent="    "))
    return "\n".join(lines)


def format_table(report: Mapping[str, Any]) -> str:
    """The whole report as text, one block per session, in the report's session order."""
    sessions: Mapping[str, Mapping[str, Any]] = report.get("sessions", {})
    if not sessions:
        return "(no sessions)"
    return "\n\n".join(format_session(sid, figures) for sid, figures in sessions.items())
