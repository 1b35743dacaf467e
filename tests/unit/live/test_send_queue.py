"""A viewer's outbox never grows past its bound: frames are dropped, the next frame is
preceded by a lag notice naming what was lost, and too many drops mark the viewer slow."""

from __future__ import annotations

import json

from daihuo.live.room import SendQueue


async def drain(q: SendQueue) -> list[str | int]:
    out = []
    while len(q):
        out.append(await q.take())
    return out


async def test_full_queue_drops_then_says_what_was_lost() -> None:
    q = SendQueue(3, close_after=100)
    assert all(q.offer(f"f{n}", (n, n)) for n in range(3))
    assert not q.offer("f3", (3, 3))
    assert not q.offer("f4", (4, 5))
    assert len(q) == 3
    assert await drain(q) == ["f0", "f1", "f2"]
    assert q.offer("f6", (6, 6))
    lag, frame = await drain(q)
    assert isinstance(lag, str)
    assert json.loads(lag) == {"v": 1, "type": "lag", "dropped": 2, "from": 3, "to": 5}
    assert frame == "f6"
    assert not q.overflowed.is_set()


async def test_a_lag_notice_needs_room_for_the_frame_after_it() -> None:
    q = SendQueue(2, close_after=100)
    q.offer("a")
    q.offer("b")
    assert not q.offer("c", (1, 1))
    await q.take()
    # One free slot is not enough for the notice and the frame: still dropping.
    assert not q.offer("d", (2, 2))
    await q.take()
    assert q.offer("e", (3, 3))
    lag, frame = await drain(q)
    assert json.loads(str(lag))["dropped"] == 2 and frame == "e"


async def test_too_many_drops_mark_the_viewer_too_slow() -> None:
    q = SendQueue(2, close_after=3)
    for n in range(4):
        q.offer(f"f{n}")
    assert not q.overflowed.is_set()
    q.offer("f4")
    assert q.overflowed.is_set()


async def test_a_close_is_queued_after_the_frames_and_never_dropped() -> None:
    q = SendQueue(2, close_after=100)
    q.offer("a")
    q.offer("b")
    q.close(4410)
    assert await drain(q) == ["a", "b", 4410]
