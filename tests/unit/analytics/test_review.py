"""The review's comparison with previous sessions (analytics/review.py): medians worked out
by hand, nulls left out, no previous session, relative change against a zero median."""

from __future__ import annotations

from daihuo.analytics import review


def figures(**values: object) -> dict[str, object]:
    base: dict[str, object] = {key: None for key, _ in review.COMPARED if key != "net_gmv"}
    base.update(gmv=0, refund_amount=0)
    base.update(values)
    return base


def row(comparison: review.Comparison, key: str) -> review.Compared:
    return next(f for f in comparison.figures if f.key == key)


def test_the_median_of_previous_sessions_with_integers_rounded_half_up() -> None:
    now = figures(gmv=10_000, refund_amount=1_000, viewer_uv=50, conversion_rate=0.1)
    previous = [
        ("p1", figures(gmv=4_000, refund_amount=0, viewer_uv=10, conversion_rate=0.2)),
        ("p2", figures(gmv=7_001, refund_amount=1, viewer_uv=30, conversion_rate=None)),
        ("p3", figures(gmv=9_000, refund_amount=500, viewer_uv=40, conversion_rate=0.05)),
        ("p4", figures(gmv=1_000, refund_amount=0, viewer_uv=21, conversion_rate=0.3)),
    ]
    got = review.compare(now, previous)
    assert got.statistic == "median" and got.previous == ["p1", "p2", "p3", "p4"]
    # GMV sorted: 1000 4000 7001 9000 -> (4000 + 7001) / 2 = 5500.5 -> 5501 fen.
    gmv = row(got, "gmv")
    assert (gmv.value, gmv.median, gmv.difference) == (10_000, 5_501, 4_499)
    assert gmv.relative == 4_499 / 5_501
    # Net: 4000 7000 8500 1000 -> 1000 4000 7000 8500 -> 5500; this one 9000.
    net = row(got, "net_gmv")
    assert (net.value, net.median, net.difference) == (9_000, 5_500, 3_500)
    # Viewers: 10 21 30 40 -> 25.5 -> 26.
    assert row(got, "viewer_uv").median == 26
    # Rates: p2's null is left out; 0.05 0.2 0.3 -> 0.2.
    rate = row(got, "conversion_rate")
    assert rate.median == 0.2 and rate.difference == 0.1 - 0.2
    # A figure without a value anywhere: null, not 0.
    assert row(got, "pcu").median is None and row(got, "pcu").difference is None


def test_no_previous_session_and_a_zero_median() -> None:
    got = review.compare(figures(gmv=500), [])
    assert got.previous == [] and all(f.median is None for f in got.figures)
    assert row(got, "gmv").value == 500 and row(got, "gmv").relative is None
    got = review.compare(figures(gmv=500), [("p", figures(gmv=0))])
    gmv = row(got, "gmv")
    assert (gmv.median, gmv.difference, gmv.relative) == (0, 500, None)


def test_markers_are_placed_on_the_minutes_of_the_window() -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    start, end = int(t0.timestamp() * 1000), int(t0.timestamp() * 1000) + 150_000  # 3 minutes
    window = (start, end)

    def mark(a: float, b: float | None) -> tuple[int | None, int | None]:
        m = review._marker(
            "pin", "i", "p", "t", t0 + timedelta(seconds=a),
            None if b is None else t0 + timedelta(seconds=b), window,
        )  # fmt: skip
        return m.minute_from, m.minute_to

    assert mark(0, 60) == (0, 0)  # [0 s, 60 s): minute 0 only
    assert mark(59, 61) == (0, 1)
    assert mark(70, None) == (1, 2)  # still running: to the end of the window
    assert mark(-30, 10) == (0, 0)  # began before the start: clipped
    assert mark(100, 900) == (1, 2)  # ends after the end: clipped to the last minute
    assert mark(200, 300) == (None, None)  # wholly after the window
    assert mark(-90, -10) == (None, None)  # wholly before it
