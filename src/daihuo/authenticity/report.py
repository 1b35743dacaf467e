"""Plain-text rendering of a scan: the score, its breakdown, flags and raw vs verified."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from daihuo.analytics.cli_report import METRICS, format_value, width

KIND_ZH: Final = {
    "bot_audience": "虚假观众",
    "comment_farm": "控评水军",
    "like_farm": "刷赞",
    "brushing": "刷单",
}
FLAGS_SHOWN: Final = 10
SIDE_BY_SIDE: Final = frozenset(
    {"count", "money", "rate", "number", "seconds"}
)  # curves are left to the JSON


def _pad(text: str, cells: int) -> str:
    return text + " " * max(0, cells - width(text))


def _flags(title: str, flags: list[Mapping[str, Any]], subject: str) -> list[str]:
    lines = [f"  {title} ({len(flags)}):"]
    for f in flags[:FLAGS_SHOWN]:
        reasons = f["reasons"]
        first = reasons[0] if reasons else {"zh": "", "en": ""}
        lines.append(
            f"    {f[subject]}  {KIND_ZH[f['kind']]} {f['kind']}  {f['score']:.2f}  "
            f"{first['zh']} / {first['en']}"
        )
    if len(flags) > FLAGS_SHOWN:
        lines.append(f"    … (+{len(flags) - FLAGS_SHOWN} more in --format json)")
    return lines


def format_session(session_id: str, s: Mapping[str, Any]) -> str:
    lines = [
        f"场次 session {session_id}",
        f"  真实度 authenticity score: {s['authenticity_score']:.2f}",
    ]
    for kind, part in s["breakdown"].items():
        extra = f", {part['orders']} orders" if "orders" in part else ""
        lines.append(
            f"    {_pad(KIND_ZH[kind], 8)} {kind:12}  share {part['share']:.1%}  "
            f"({part['users']} users{extra})"
        )
    lines += _flags("可疑用户 suspicious users", s["suspicious_users"], "user")
    lines += _flags("可疑订单 suspicious orders", s["suspicious_orders"], "order")
    raw, verified = s["raw"] or {}, s["verified"] or {}
    rows = [
        (name, key, format_value(raw.get(key), how), format_value(verified.get(key), how))
        for key, name, how in METRICS
        if how in SIDE_BY_SIDE and key in raw
    ]
    if rows:
        cells = [max(width(r[i]) for r in rows) for i in range(4)]
        lines.append(f"  {_pad('', cells[0] + cells[1] + 2)}  raw → verified")
        for r in rows:
            lines.append(f"  {_pad(r[0], cells[0])}  {_pad(r[1], cells[1])}  {r[2]} → {r[3]}")
    return "\n".join(lines)


def format_table(report: Mapping[str, Any]) -> str:
    sessions: Mapping[str, Mapping[str, Any]] = report.get("sessions", {})
    if not sessions:
        return "(no sessions)"
    return "\n\n".join(format_session(sid, s) for sid, s in sessions.items())
