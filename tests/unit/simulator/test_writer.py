"""Writing sessions: in-process or from a forked child, the same bytes; failures surface."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daihuo.events.parse import load_events
from daihuo.simulator.run import EventWriter, can_fork, generate
from daihuo.simulator.scenario import Scenario
from daihuo.simulator.session import SessionResult

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="this platform cannot fork")


@needs_fork
def test_forked_and_in_process_writing_give_the_same_bytes(tmp_path: Path) -> None:
    for name, parallel in (("serial", False), ("forked", True)):
        generate(Scenario(), sessions=3, viewers=400, seed=8, out=tmp_path / name,
                 parallel=parallel)  # fmt: skip
    for suffix in (".events.jsonl", ".labels.jsonl"):
        serial = (tmp_path / f"serial{suffix}").read_bytes()
        assert serial == (tmp_path / f"forked{suffix}").read_bytes()
    assert load_events(tmp_path / "forked.events.jsonl")[1].rejected == 0


def test_forking_is_chosen_only_in_a_single_threaded_process() -> None:
    import threading

    assert can_fork() == (hasattr(os, "fork") and threading.active_count() == 1)


def session(bodies: list[str]) -> SessionResult:
    keys = [2 * k + 1 for k in range(len(bodies))]
    return SessionResult("s", 1_800_000_000_000, 60_000, keys, bodies, [], {})


@needs_fork
def test_a_failing_writer_child_is_reported_in_the_parent(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path / "out.jsonl", parallel=True)
    # a lone surrogate cannot be written as UTF-8: the child fails while writing
    writer.write(session(['"session": "s", "type": "live_start", "x": "\ud800"}']))
    with pytest.raises(OSError, match="surrogate"):
        writer.wait()
    assert writer.child is None


@needs_fork
def test_stopping_ends_the_running_child(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path / "out.jsonl", parallel=True)
    writer.write(session(['"session": "s", "type": "live_start"}'] * 200_000))
    assert writer.child is not None
    pid = writer.child[0]
    writer.stop()
    assert writer.child is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left behind


def test_in_process_writing_appends_sessions_in_order(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path / "out.jsonl", parallel=False)
    writer.write(session(['"session": "s", "type": "live_start"}']))
    writer.write(session(['"session": "s", "type": "live_end"}']))
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [line.split('"type": ')[1] for line in lines] == ['"live_start"}', '"live_end"}']
