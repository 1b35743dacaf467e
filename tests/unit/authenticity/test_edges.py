"""Bad and edge inputs: nothing to scan, one viewer, no orders, only system events."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from daihuo.authenticity.features import SessionData, build
from daihuo.authenticity.scan import scan
from daihuo.events.model import Event, event_from_obj, format_ts, parse_ts

T0 = parse_ts("2026-11-27T12:00:00.000Z")
_ids = itertools.count(1)


def ev(seconds: float, etype: str, **keys: Any) -> Event:
    obj = {"id": f"e{next(_ids)}", "ts": format_ts(T0 + round(seconds * 1000)), "session": "s",
           "type": etype, **keys}  # fmt: skip
    return event_from_obj(obj)


def room_events(stays: list[tuple[str, float, float]], length: float = 3600) -> list[Event]:
    out = [ev(0, "live_start")]
    for user, a, b in stays:
        out.append(ev(a, "enter", user=user, source="feed"))
        out.append(ev(b, "leave", user=user))
    out.append(ev(length, "live_end"))
    return out


def room(stays: list[tuple[str, float, float]], length: float = 3600) -> SessionData:
    return build("s", room_events(stays, length))


def test_an_empty_input_has_no_sessions() -> None:
    assert scan([]) == {"sessions": {}}


def test_only_system_events_scan_without_error() -> None:
    report = scan([ev(0, "live_start"), ev(600, "live_end")])["sessions"]["s"]
    assert report["authenticity_score"] == 1.0
    assert report["suspicious_users"] == [] and report["suspicious_orders"] == []
    assert report["raw"] == report["verified"]
    assert report["raw"]["viewer_uv"] == 0


def test_one_viewer_is_never_flagged() -> None:
    events = room_events([("u1", 5, 3000)])
    events.append(ev(100, "like", user="u1", count=500))
    events.append(ev(200, "comment", user="u1", text="主播好"))
    report = scan(events)["sessions"]["s"]
    assert report["suspicious_users"] == []
    assert report["verified"] == report["raw"]


def test_a_room_without_orders_scans() -> None:
    stays = [(f"u{i}", i * 7, i * 7 + 300) for i in range(200)]
    report = scan(room_events(stays))["sessions"]["s"]
    assert report["raw"]["order_count"] == 0
    assert report["suspicious_orders"] == []
    assert report["breakdown"]["brushing"]["share"] == 0.0


def test_events_without_start_or_end_and_refunds_without_orders() -> None:
    events = [
        ev(5, "enter", user="u1", source="feed"),
        ev(50, "order_refunded", user="u1", order="o-missing", amount=100),
        ev(60, "leave", user="u1"),
    ]
    report = scan(events)["sessions"]["s"]
    assert report["raw"]["viewer_uv"] == 1
    assert report["suspicious_orders"] == []


@pytest.mark.parametrize("length", [1, 60, 7200])
def test_the_report_has_the_issue_shape(length: float) -> None:
    report = scan(room_events([("u1", 0, length)], length))
    session = report["sessions"]["s"]
    assert set(session) >= {
        "authenticity_score", "suspicious_users", "suspicious_orders", "raw", "verified",
    }  # fmt: skip
    assert 0.0 <= session["authenticity_score"] <= 1.0
    assert set(session["breakdown"]) == {"bot_audience", "comment_farm", "like_farm", "brushing"}
