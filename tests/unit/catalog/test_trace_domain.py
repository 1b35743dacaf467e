"""Pure traceability rules: step names, step times, the entry body, evidence types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from daihuo.catalog.domain import (
    STEP_CLOCK_SKEW,
    TRACE_STEPS,
    check_step,
    check_step_time,
    iso_millis,
    sniff_evidence,
    trace_body,
)
from daihuo.catalog.errors import StepTimeOutOfRange, UnknownTraceStep, UnsupportedEvidence

NOW = datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=UTC)


def test_only_documented_steps_are_accepted() -> None:
    for step in ("sourced", "produced", "inspected", "packed", "shipped", "received"):
        assert check_step(step) == step and step in TRACE_STEPS
    for bad in ("", "Produced", "teleported", "shipped "):
        with pytest.raises(UnknownTraceStep):
            check_step(bad)


def test_a_step_may_lie_at_most_the_clock_skew_in_the_future() -> None:
    assert check_step_time(NOW + STEP_CLOCK_SKEW, NOW) == datetime(
        2026, 11, 27, 12, 5, 0, 123000, tzinfo=UTC
    )
    with pytest.raises(StepTimeOutOfRange):
        check_step_time(NOW + STEP_CLOCK_SKEW + timedelta(milliseconds=1), NOW)
    with pytest.raises(StepTimeOutOfRange):
        check_step_time(datetime(1999, 12, 31, tzinfo=UTC), NOW)
    with pytest.raises(StepTimeOutOfRange):
        check_step_time(datetime(2026, 1, 1), NOW)  # naive


def test_times_are_logged_in_utc_milliseconds() -> None:
    beijing = timezone(timedelta(hours=8))
    assert iso_millis(datetime(2026, 4, 10, 10, 0, 0, 999999, tzinfo=beijing)) == (
        "2026-04-10T02:00:00.999Z"
    )


def test_the_body_sorts_evidence_and_leaves_it_out_when_there_is_none() -> None:
    common = {"product": "p", "batch": "b", "step": "packed", "at": NOW, "place": "x", "actor": "t"}
    assert "evidence" not in trace_body(**common, evidence=[])
    body = trace_body(**common, evidence=["bb", "aa"])
    assert body["evidence"] == ["aa", "bb"] and body["at"] == "2026-11-27T12:00:00.123Z"


def test_evidence_is_a_photo_or_a_pdf_by_its_bytes() -> None:
    assert sniff_evidence(b"%PDF-1.4\n...") == "application/pdf"
    assert sniff_evidence(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    with pytest.raises(UnsupportedEvidence):
        sniff_evidence(b"<html>not evidence</html>")
