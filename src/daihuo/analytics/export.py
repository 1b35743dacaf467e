"""Review exports (复盘) of a report (``{"sessions": {...}}``): CSV for spreadsheets and a
self-contained HTML page with charts — inline CSS and SVG, no script, no CDN, so it opens
offline and can be mailed or archived as one file.

CSV: one row per figure and session — ``session,figure,name,minute,value`` — with the
per-minute curves as one row per minute (``minute`` 0, 1, …; empty for single figures).
Money is fen, as in the report; ``null`` figures are empty cells.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Mapping, Sequence
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
    return out.getvalue()


def _chart(values: Sequence[int], colour: str, money: bool, w: int = 640, h: int = 160) -> str:
    if not values:
        return "<p class=muted>—</p>"
    top = max(max(values), 1)
    n = len(values)
    step = w / max(n - 1, 1)
    points = " ".join(f"{i * step:.1f},{h - v / top * (h - 10):.1f}" for i, v in enumerate(values))
    peak = f"{top / 100:,.2f} 元" if money else f"{top:,}"
    return (
        f'<svg viewBox="0 0 {w} {h}" width="100%" height="{h}" role="img" '
        f'aria-label="peak {html.escape(peak)}">'
        f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
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
    for session, figures in report["sessions"].items():
        parts.append(f"<h2>{html.escape(session)}</h2>")
        for key, label, colour, money in CURVES:
            values = [int(v) for v in figures.get(key) or []]
            parts.append(f"<h3>{html.escape(label)}</h3>{_chart(values, colour, money)}")
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
