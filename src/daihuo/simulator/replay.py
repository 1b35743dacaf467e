"""Replay a simulated session into a running server as if it were happening now.

The demo uses it to give its scheduled session an audience: the offline simulator
writes a session, :func:`rebase` moves it onto the live session's id and onto the wall
clock (compressed by ``speed``: 20 plays a 60-minute session in 3 minutes, so every
duration in the report is 20 times shorter, and every count is the same), and
:func:`replay` hands each event to ``record`` (the server's event sink) when its time
comes, a small batch per tick. Events after ``live_end`` (late payments, refunds days
later) are left out: a replay ends with its session.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from daihuo.events.model import format_ts
from daihuo.simulator.run import generate
from daihuo.simulator.scenario import Scenario


@dataclass(frozen=True)
class Timed:
    offset: float  # seconds after the replay's start
    event: dict[str, Any]


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def rebase(
    events: Iterable[Mapping[str, Any]], *, session: str, start: datetime, speed: float = 1.0
) -> list[Timed]:
    """One simulated session's events, renamed to ``session`` and moved to ``start``."""
    if speed <= 0:
        raise ValueError("speed must be positive")
    items = list(events)
    starts = [e for e in items if e.get("type") == "live_start"]
    ends = [e for e in items if e.get("type") == "live_end"]
    if len(starts) != 1 or len(ends) != 1:
        raise ValueError("a replay needs one session with one live_start and one live_end")
    t0, t_end = _parse(starts[0]["ts"]), _parse(ends[0]["ts"])
    out = []
    for n, e in enumerate(items):
        at = _parse(e["ts"])
        if at > t_end or at < t0:
            continue
        offset = (at - t0).total_seconds() / speed
        moved = {**e, "id": f"{session}-r{n}", "session": session}
        moved["ts"] = format_ts(int((start + timedelta(seconds=offset)).timestamp() * 1000))
        out.append(Timed(offset, moved))
    out.sort(key=lambda t: t.offset)  # stable: the file's order breaks ties
    return out


T = TypeVar("T")


def products_in_order(events: Iterable[Mapping[str, Any]], real: list[T]) -> dict[str, T]:
    """The simulated catalogue's products (``p1007`` …) onto a session's ``real`` ones, in
    order of first appearance and round the list (empty when ``real`` is)."""
    named: dict[str, T] = {}
    if not real:
        return named
    for e in events:
        product = e.get("product")
        if product is not None and str(product) not in named:
            named[str(product)] = real[len(named) % len(real)]
    return named


def simulated_session(
    *, viewers: int, seed: int, workdir: Path, minutes: float | None = None, clean: bool = False
) -> list[dict[str, Any]]:
    """One session from the offline simulator (default scenario), as event dicts."""
    overrides = {"sessions.duration_minutes": minutes} if minutes is not None else {}
    scenario = Scenario(overrides) if overrides else Scenario()
    summary = generate(
        scenario, sessions=1, viewers=viewers, seed=seed, out=workdir / "replay", clean=clean
    )
    with open(summary.events_path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


async def replay(
    timed: list[Timed],
    record: Callable[[list[dict[str, Any]]], Any],
    *,
    tick: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> int:
    """Hand each event to ``record`` once its offset has passed; returns how many."""
    began = clock()
    i = 0
    while i < len(timed):
        now = clock() - began
        j = i
        while j < len(timed) and timed[j].offset <= now:
            j += 1
        if j > i:
            record([t.event for t in timed[i:j]])
            i = j
        if i < len(timed):
            await sleep(min(tick, max(0.0, timed[i].offset - (clock() - began))))
    return i
