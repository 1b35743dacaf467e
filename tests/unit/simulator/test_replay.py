"""A simulated session replayed as if live: same events, same counts, the clock moved
and compressed by the speed-up, each event handed over once its time has come."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from daihuo.analytics import reference
from daihuo.events.model import event_from_obj
from daihuo.simulator.replay import rebase, replay, simulated_session

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return simulated_session(viewers=40, seed=7, workdir=tmp_path_factory.mktemp("sim"), minutes=20)


def figures(events: list[dict[str, Any]]) -> dict[str, Any]:
    [(_, report)] = reference.report(event_from_obj(e) for e in events)["sessions"].items()
    return report


def test_rebase_keeps_the_session_and_compresses_time(session: list[dict[str, Any]]) -> None:
    timed = rebase(session, session="lsn_demo", start=START, speed=20)
    moved = [t.event for t in timed]
    assert {e["session"] for e in moved} == {"lsn_demo"}
    assert len({e["id"] for e in moved}) == len(moved)
    assert moved[0]["type"] == "live_start" and moved[0]["ts"] == "2026-12-01T12:00:00.000Z"
    offsets = [t.offset for t in timed]
    assert offsets == sorted(offsets)
    original, replayed = figures(session), figures(moved)
    assert replayed["duration_seconds"] == pytest.approx(
        original["duration_seconds"] / 20, abs=0.01
    )
    for key in ("viewer_uv", "views_pv", "comment_count", "like_count", "cart_uv"):
        assert replayed[key] == original[key], key
    # Orders paid after the end are not replayed.
    assert 0 < replayed["order_count"] <= original["order_count"]
    # What the replay drops is exactly what happened after the end (late payments).
    late = [
        e for e in session if e["ts"] > next(x["ts"] for x in session if x["type"] == "live_end")
    ]
    assert len(moved) == len(session) - len(late)


async def test_replay_hands_over_each_event_once_when_its_time_comes(
    session: list[dict[str, Any]],
) -> None:
    timed = rebase(session, session="lsn_demo", start=START, speed=10_000)
    got: list[list[dict[str, Any]]] = []
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += max(seconds, 0.01)

    n = await replay(timed, got.append, clock=lambda: now[0], sleep=sleep, tick=0.05)
    flat = [e for batch in got for e in batch]
    assert n == len(timed) and flat == [t.event for t in timed]
    assert len(got) > 1, "events come in batches over time, not all at once"


def test_a_file_without_one_session_is_refused() -> None:
    with pytest.raises(ValueError, match="one live_start"):
        rebase([{"id": "a", "ts": "2026-01-01T00:00:00.000Z", "type": "enter"}],
               session="s", start=START)  # fmt: skip
