"""Review exports (复盘) of a report (``{"sessions": {...}}``): CSV for spreadsheets and a
self-contained HTML page with charts — inline CSS and SVG, no script, no CDN, so it opens
offline and can be mailed or archived as one file.

CSV: one row per figure and session — ``session,figure,name,minute,value`` — with the
per-minute curves as one row per minute (``minute`` 0, 1, …; empty for single figures).
Money is fen, as in the report; ``null`` figures are empty cells. A report with the
review's extras (the API's) adds one row per marker — ``marker.pin`` or
``marker.flash_sale``, its title, its first minute and its period as an ISO 8601
interval (UTC) — and two rows per compared figure: ``compare.median.<key>`` (the median
of the previous sessions) and ``compare.difference.<key>``.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from daihuo.analytics.cli_report import METRICS, format_value

CURVES = (
    ("online_per_minute", "在线人数 online", "#e4572e", False),
    ("new_viewers_per_minute", "进入人数 entries", "#17bebb", False),
    ("gmv_per_minute", "成交金额 GMV (元)", "#ffc914", True),
)


def to_csv(report: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["session", "figure", "name", "minute", "value"])
    for session, figures in report["sessions"].items():
        for key, name, how in METRICS:
            value = figures.get(key)
            if how.startswith("curve"):
                for minute, v in enumerate(value or []):
                    writer.writerow([session, key, name, minute, v])
            else:
                writer.writerow([session, key, name, "", "" if value is None else value])
        for m in report.get("markers") or []:
            writer.writerow([session, f"marker.{m['kind']}", m["title"], m["minute_from"],
                             _period(m)])  # fmt: skip
        comparison = report.get("comparison")
        if comparison:
            n = len(comparison["previous"])
            for row in comparison["figures"]:
                for what, label in (("median", f"前 {n} 场中位数 median of previous {n}"),
                                    ("difference", "差值 difference")):  # fmt: skip
                    value = row[what]
                    writer.writerow([session, f"compare.{what}.{row['key']}", label, "",
                                     "" if value is None else value])  # fmt: skip
    return out.getvalue()


def _iso(ms: int | None) -> str:
    if ms is None:
        return ""
    at = datetime.fromtimestamp(ms / 1000, UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _period(marker: Mapping[str, Any]) -> str:
    return f"{_iso(marker['start_ms'])}/{_iso(marker.get('end_ms'))}"


MARKER_COLOURS = {"pin": "#4c6ef5", "flash_sale": "#e8590c"}
MARKER_NAMES = {"pin": "讲解 pinned", "flash_sale": "秒杀 flash sale"}


def _chart(
    values: Sequence[int],
    colour: str,
    money: bool,
    markers: Sequence[Mapping[str, Any]] = (),
    w: int = 640,
    h: int = 160,
) -> str:
    if not values:
        return "<p class=muted>—</p>"
    top = max(max(values), 1)
    n = len(values)
    step = w / max(n - 1, 1)
    areas = []
    for m in markers:
        if m.get("minute_from") is None:
            continue
        x0 = m["minute_from"] * step
        x1 = min(max((m["minute_to"] + 1) * step, x0 + 2), w)
        areas.append(
            f'<rect x="{x0:.1f}" y="0" width="{x1 - x0:.1f}" height="{h}" '
            f'fill="{MARKER_COLOURS[m["kind"]]}" fill-opacity="0.12">'
            f"<title>{html.escape(MARKER_NAMES[m['kind']])} {html.escape(m['title'])}</title>"
            "</rect>"
        )
    points = " ".join(f"{i * step:.1f},{h - v / top * (h - 10):.1f}" for i, v in enumerate(values))
    peak = f"{top / 100:,.2f} 元" if money else f"{top:,}"
    return (
        f'<svg viewBox="0 0 {w} {h}" width="100%" height="{h}" role="img" '
        f'aria-label="peak {html.escape(peak)}">'
        + "".join(areas)
        + f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        f'<text x="4" y="12" font-size="11" fill="#555">峰值 peak {html.escape(peak)}</text>'
        f'<text x="{w - 4}" y="{h - 2}" font-size="11" fill="#555" text-anchor="end">'
        f"{n} 分钟 min</text></svg>"
    )


def to_html(report: Mapping[str, Any], *, title: str = "直播复盘 Session review") -> str:
    parts = [
        "<!doctype html><html lang=zh-CN><head><meta charset=utf-8>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#222}table{border-collapse:collapse;width:100%}"
        "td,th{border-bottom:1px solid #eee;padding:.3rem .5rem;text-align:left}"
        "td.v{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#888}"
        "code{color:#666;font-size:.85em}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    markers = report.get("markers") or []
    for session, figures in report["sessions"].items():
        parts.append(f"<h2>{html.escape(session)}</h2>")
        for key, label, colour, money in CURVES:
            values = [int(v) for v in figures.get(key) or []]
            parts.append(f"<h3>{html.escape(label)}</h3>{_chart(values, colour, money, markers)}")
        if markers:
            parts.append(_markers(markers))
        if report.get("comparison"):
            parts.append(_comparison(report["comparison"]))
        parts.append("<table><tr><th>指标 figure</th><th>值 value</th></tr>")
        for key, name, how in METRICS:
            if how.startswith("curve"):
                continue
            value = html.escape(format_value(figures.get(key), how))
            parts.append(
                f"<tr><td>{html.escape(name)} <code>{key}</code></td><td class=v>{value}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<p class=muted>Daihuo · 指标定义见 shared/spec/metrics.md（金额单位：元）</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _markers(markers: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        "<h3>标记 markers</h3><table class=markers><tr><th>类型 kind</th><th>商品 product</th>"
        "<th>开始 start (UTC)</th><th>结束 end (UTC)</th><th>分钟 minutes</th></tr>"
    ]
    for m in markers:
        minutes = "" if m.get("minute_from") is None else f"{m['minute_from']}–{m['minute_to']}"
        rows.append(
            f"<tr><td>{html.escape(MARKER_NAMES[m['kind']])}</td>"
            f"<td>{html.escape(m['title'])} <code>{html.escape(str(m['id']))}</code></td>"
            f"<td>{_iso(m['start_ms'])}</td><td>{_iso(m.get('end_ms'))}</td>"
            f"<td class=v>{minutes}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _comparison(comparison: Mapping[str, Any]) -> str:
    kinds = {key: how for key, _, how in METRICS}
    names = {key: name for key, name, _ in METRICS} | {"net_gmv": "退款后成交金额"}
    n = len(comparison["previous"])
    if n == 0:
        return (
            "<h3>往期对比 comparison</h3>"
            "<p class=muted>没有可对比的往期场次 no previous session</p>"
        )
    out = [
        f"<h3>与前 {n} 场比较 compared with the previous {n} sessions (中位数 median)</h3>",
        "<table class=compare><tr><th>指标 figure</th><th>本场 this session</th>"
        "<th>中位数 median</th><th>差值 difference</th><th>变化 change</th></tr>",
    ]
    for row in comparison["figures"]:
        how = kinds.get(row["key"], row["kind"])
        relative = "—" if row["relative"] is None else f"{row['relative']:+.1%}"
        out.append(
            f"<tr><td>{html.escape(names.get(row['key'], ''))} <code>{html.escape(row['key'])}"
            f"</code></td><td class=v>{html.escape(format_value(row['value'], how))}</td>"
            f"<td class=v>{html.escape(format_value(row['median'], how))}</td>"
            f"<td class=v>{html.escape(format_value(row['difference'], how))}</td>"
            f"<td class=v>{relative}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)
