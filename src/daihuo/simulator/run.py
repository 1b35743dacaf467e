"""A run of the offline simulator: sessions one after the other, written to JSON Lines.

``PREFIX.events.jsonl`` holds the sessions in order; inside a session, events are in
ascending ``ts`` (leaves before enters at the same instant) with ids ``SESSION-eN``
numbered in that order, so an id says nothing about who made the event. Late
payments and refunds of a session come at their own time inside its block, so the
file as a whole is grouped by session, not sorted. ``PREFIX.labels.jsonl`` holds the
ground truth of events.md (users, then orders, of each session); it is empty with
``clean``. Both files are written under a temporary name and renamed when complete.

Sessions are generated one after the other (fans, bot suppliers and rings carry over
from one session to the next) and each is written, when the process has a single
thread, by a forked child while the next one is generated: see :class:`EventWriter`.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from daihuo.events.model import format_ts
from daihuo.simulator.scenario import Scenario
from daihuo.simulator.session import Population, SessionResult, simulate_session

_MS: Final = [f".{i:03d}Z" for i in range(1000)]
_CHUNK: Final = 50_000
MAX_SESSIONS: Final = 10_000
MAX_VIEWERS: Final = 1_000_000


@dataclass(slots=True)
class RunSummary:
    events_path: Path
    labels_path: Path
    events: int = 0
    labels: int = 0
    seconds: float = 0.0
    sessions: list[dict[str, Any]] = field(default_factory=list)


def session_ids(scenario: Scenario, seed: int, sessions: int) -> list[str]:
    prefix = scenario.s("sessions.id_prefix")
    return [f"{prefix}-{seed}-{i + 1}" for i in range(sessions)]


def generate(
    scenario: Scenario,
    *,
    sessions: int,
    viewers: int,
    seed: int,
    out: str | os.PathLike[str],
    clean: bool = False,
    progress: Callable[[int, int], None] | None = None,
    parallel: bool | None = None,
) -> RunSummary:
    """Write ``OUT.events.jsonl`` and ``OUT.labels.jsonl``; the same arguments give the
    same bytes. ``progress(sessions_done, events_generated)`` is called after each
    session. ``parallel`` (default: when it is safe) writes each session from a forked
    process while the next one is generated; the bytes are the same either way.
    """
    if not 1 <= sessions <= MAX_SESSIONS:
        raise ValueError(f"sessions must be an integer in [1, {MAX_SESSIONS}], got {sessions}")
    if not 1 <= viewers <= MAX_VIEWERS:
        raise ValueError(f"viewers must be an integer in [1, {MAX_VIEWERS}], got {viewers}")
    if seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed}")
    base = Path(out)
    events_path = base.with_name(base.name + ".events.jsonl")
    labels_path = base.with_name(base.name + ".labels.jsonl")
    summary = RunSummary(events_path, labels_path)
    started = time.perf_counter()
    rng = random.Random(f"run:{seed}")  # noqa: S311 - a simulation
    pop = Population.new(seed)
    first = scenario.start_ms()
    every = round(scenario.f("sessions.every_hours") * 3_600_000)
    tmp_events = events_path.with_name(events_path.name + ".part")
    tmp_labels = labels_path.with_name(labels_path.name + ".part")
    writer = EventWriter(tmp_events, parallel=can_fork() if parallel is None else parallel)
    try:
        with open(tmp_labels, "w", encoding="utf-8", newline="\n") as lb:
            for index, sid in enumerate(session_ids(scenario, seed, sessions)):
                start = first + index * every + rng.randrange(300_000)
                result = simulate_session(
                    scenario, pop, index=index, viewers=viewers, session=sid,
                    start_ms=start, clean=clean,
                )  # fmt: skip
                written = len(result.keys)
                writer.write(result)
                summary.labels += write_labels(lb, result)
                summary.events += written
                summary.sessions.append(
                    {"session": sid, "start": format_ts(start), "events": written,
                     "duration_seconds": result.duration_ms / 1000, **result.counts}
                )  # fmt: skip
                del result
                if progress is not None:
                    progress(index + 1, summary.events)
        writer.wait()
        os.replace(tmp_events, events_path)
        os.replace(tmp_labels, labels_path)
    finally:
        writer.stop()
        for tmp in (tmp_events, tmp_labels):
            tmp.unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    return summary


def can_fork() -> bool:
    """Forking is safe only in a single-threaded process (a lock held by another thread
    at the fork would stay locked in the child); Python 3.12 warns otherwise too."""
    return hasattr(os, "fork") and threading.active_count() == 1


class EventWriter:
    """Appends sessions to the events file in order.

    With ``parallel`` each session is sorted, formatted and written by a forked child
    while the parent generates the next session on the other core. The child sees the
    session through copy-on-write memory, so nothing is serialised; at most one child
    runs at a time, so sessions land in order. A child's failure is reported through a
    pipe and raised in the parent as :class:`OSError`.
    """

    def __init__(self, path: Path, *, parallel: bool) -> None:
        self.path = path
        self.parallel = parallel
        self.child: tuple[int, int] | None = None  # pid, read end of its error pipe
        path.write_bytes(b"")

    def _append(self, result: SessionResult) -> None:
        with open(self.path, "a", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
            write_events(out, result)

    def write(self, result: SessionResult) -> None:
        self.wait()
        if not self.parallel:
            self._append(result)
            return
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its output is checked by the tests
            os.close(read)
            code = 0
            try:
                self._append(result)
            except BaseException as exc:
                os.write(write, f"{exc}".encode()[:2000] or type(exc).__name__.encode())
                code = 1
            os._exit(code)  # no clean-up: the parent's buffers are not ours to flush
        os.close(write)
        self.child = (pid, read)

    def wait(self) -> None:
        """Wait for the running child; raise :class:`OSError` if it failed."""
        if self.child is None:
            return
        pid, read = self.child
        self.child = None
        with os.fdopen(read, "rb") as pipe:
            message = pipe.read().decode("utf-8", "replace")
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise OSError(message or f"the writer process ended with status {status}")

    def stop(self) -> None:
        """Clean up after an error: end the running child, if any."""
        if self.child is not None:
            pid, read = self.child
            self.child = None
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
            os.close(read)


def write_events(out: IO[str], result: SessionResult) -> int:
    """Sort one session by time and write it; returns the number of lines."""
    keys, bodies = result.keys, result.bodies
    n = len(keys)
    shift = max(1, n.bit_length())
    mask = (1 << shift) - 1
    # one int per event, (sort key, position): sorting plain ints is the cheapest sort
    packed = [(k << shift) | i for i, k in enumerate(keys)]
    packed.sort()
    start = result.start_ms
    base = start // 1000
    offset = start % 1000
    # "YYYY-MM-DDTHH:MM:SS" of every second of the session and the hour after it; the
    # few events later than that (refunds days after) are formatted one by one
    span = result.duration_ms // 1000 + 3601
    seconds = [format_ts(s * 1000)[:19] for s in range(base, base + span)]
    ms = _MS
    sid = result.session
    sh = shift + 1
    late = bisect_left(packed, ((span * 1000 - offset) * 2) << shift)
    for lo in range(0, late, _CHUNK):
        part = packed[lo : min(late, lo + _CHUNK)]
        out.write(
            "".join(
                [
                    f'{{"id": "{sid}-e{i}", "ts": "{seconds[(x := (p >> sh) + offset) // 1000]}'
                    f'{ms[x % 1000]}", {bodies[p & mask]}\n'
                    for i, p in enumerate(part, lo + 1)
                ]
            )
        )
    out.write(
        "".join(
            f'{{"id": "{sid}-e{i}", "ts": "{format_ts(start + (p >> sh))}", {bodies[p & mask]}\n'
            for i, p in enumerate(packed[late:], late + 1)
        )
    )
    return n


def write_labels(out: IO[str], result: SessionResult) -> int:
    rows = sorted(result.labels, key=lambda r: (r[1] != "user", r[2], r[0]))
    sid = json.dumps(result.session)
    text = "".join(
        f'{{"session": {sid}, "{what}": "{ident}", "kind": "{kind}"}}\n'
        for kind, what, ident in rows
    )
    out.write(text)
    return len(rows)
