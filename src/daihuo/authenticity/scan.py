"""The scan: every detector over each session, verified figures and the authenticity score.

``scan(events)`` returns the shape of issue 7::

    {"sessions": {id: {"authenticity_score", "breakdown", "suspicious_users",
                       "suspicious_orders", "raw", "verified"}}}

*Verified figures* are the metric dictionary (``analytics.reference``, not a second
implementation) over the session's events less every event of a flagged user and every
event of a flagged order; system events always stay. (Without ``live_start``/``live_end``
the window is read from the events, so removing users can narrow it.)

*Authenticity score*: per kind, the share of the session's volume that the flags
explain — bot audience: flagged viewers of ``viewer_uv``; comment farm: their comments
of ``comment_count``; like farm: their likes of ``like_count``; brushing: flagged orders'
GMV of ``gmv``. The score is the product of ``1 - share`` over the kinds: 1 when nothing
is flagged, 0 when everything is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from daihuo.analytics.reference import session_report
from daihuo.authenticity import audience, brushing, comments, likes
from daihuo.authenticity.features import SessionData, build
from daihuo.authenticity.model import KINDS, Flag, merge
from daihuo.events.model import Event

Detector = Callable[[SessionData], list[Flag]]
DETECTORS: tuple[Detector, ...] = (
    audience.detect,
    comments.detect,
    likes.detect,
    brushing.detect,
)


def group(events: Iterable[Event]) -> dict[str, list[Event]]:
    """Events by session, a repeated id dropped across the whole input (first wins)."""
    seen: set[str] = set()
    out: dict[str, list[Event]] = {}
    for e in events:
        if e.id not in seen:
            seen.add(e.id)
            out.setdefault(e.session, []).append(e)
    return out


def detect(data: SessionData, detectors: Sequence[Detector] = DETECTORS) -> list[Flag]:
    return merge(f for d in detectors for f in d(data))


def verified_events(events: Iterable[Event], users: set[str], orders: set[str]) -> list[Event]:
    return [e for e in events if e.user not in users and e.order not in orders]


def _report_or_none(events: list[Event]) -> dict[str, Any] | None:
    return session_report(events) if events else None


def breakdown(
    data: SessionData, flags: Sequence[Flag], raw: dict[str, Any] | None
) -> dict[str, Any]:
    users = {f.id: f for f in flags if f.subject == "user"}
    orders = {f.id for f in flags if f.subject == "order"}
    of_kind = {k: {uid for uid, f in users.items() if f.kind == k} for k in KINDS}
    raw = raw or {}

    def share(part: float, whole: float) -> float:
        return 0.0 if whole <= 0 else min(1.0, part / whole)

    bots = of_kind["bot_audience"]
    farm = of_kind["comment_farm"]
    likers = of_kind["like_farm"]
    viewers = sum(1 for uid in bots if data.users[uid].stays)
    out: dict[str, Any] = {
        "bot_audience": {
            "users": len(bots),
            "share": share(viewers, raw.get("viewer_uv") or 0),
        },
        "comment_farm": {
            "users": len(farm),
            "share": share(
                sum(len(data.users[u].comments) for u in farm), raw.get("comment_count") or 0
            ),
        },
        "like_farm": {
            "users": len(likers),
            "share": share(
                sum(data.users[u].like_total for u in likers), raw.get("like_count") or 0
            ),
        },
        "brushing": {
            "users": len(of_kind["brushing"]),
            "orders": len(orders),
            "share": share(
                sum(data.orders[o].paid_amount for o in orders if data.orders[o].paid),
                raw.get("gmv") or 0,
            ),
        },
    }
    return out


def scan_session(session: str, events: list[Event]) -> dict[str, Any]:
    data = build(session, events)
    flags = detect(data)
    user_flags = [f for f in flags if f.subject == "user"]
    order_flags = [f for f in flags if f.subject == "order"]
    raw = _report_or_none(events)
    kept = verified_events(events, {f.id for f in user_flags}, {f.id for f in order_flags})
    verified = _report_or_none(kept)
    parts = breakdown(data, flags, raw)
    score = 1.0
    for part in parts.values():
        score *= 1.0 - part["share"]
    return {
        "authenticity_score": round(score, 4),
        "breakdown": {k: {**v, "share": round(v["share"], 4)} for k, v in parts.items()},
        "suspicious_users": [f.to_json() for f in user_flags],
        "suspicious_orders": [f.to_json() for f in order_flags],
        "raw": raw,
        "verified": verified,
    }


def scan(events: Iterable[Event]) -> dict[str, Any]:
    """The authenticity report of every session in ``events``, sessions sorted by id."""
    by_session = group(events)
    return {"sessions": {sid: scan_session(sid, by_session[sid]) for sid in sorted(by_session)}}
