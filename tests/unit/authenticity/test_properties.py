"""Properties of the scan on random spec-conforming logs (the analytics tests' strategy).

Whatever the log — several sessions, ties, re-delivered ids, orders around the window,
sessions with only system events — the scan does not fail, every score is in [0, 1],
verified figures never exceed raw ones for monotone figures, and a session without
flags has verified == raw.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from daihuo.authenticity.scan import scan
from daihuo.events.model import Event

from tests.unit.analytics.logs import event_logs
from tests.unit.authenticity.test_verified import MONOTONE


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs(max_events=60))
def test_scan_holds_on_random_logs(events: list[Event]) -> None:
    report = scan(events)
    assert set(report["sessions"]) == {e.session for e in events}
    for session in report["sessions"].values():
        assert 0.0 <= session["authenticity_score"] <= 1.0
        for flag in session["suspicious_users"] + session["suspicious_orders"]:
            assert 0.0 <= flag["score"] <= 1.0 and flag["reasons"]
        raw, verified = session["raw"], session["verified"]
        if not session["suspicious_users"] and not session["suspicious_orders"]:
            assert verified == raw
        elif verified is not None and raw["duration_seconds"] == verified["duration_seconds"]:
            for key in MONOTONE:
                assert verified[key] <= raw[key], key
