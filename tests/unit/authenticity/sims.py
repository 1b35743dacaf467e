"""Simulated sessions for the authenticity tests: real simulator output, small sizes.

``simulate`` runs the simulator into a temporary folder and returns, per session, the
events, the labelled fake users by kind (our kind names) and the labelled fake orders.
Results are cached per argument set, so tests that share a scenario pay for it once.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from daihuo.authenticity.features import SessionData, build
from daihuo.authenticity.model import LABEL_KIND, Flag
from daihuo.authenticity.scan import detect, group
from daihuo.events.model import Event
from daihuo.events.parse import load_events
from daihuo.simulator.run import generate
from daihuo.simulator.scenario import Scenario

FAKE = ("bot_viewer", "comment_farm", "like_farm", "brushing")
OURS = {v: k for k, v in LABEL_KIND.items()}


@dataclass(frozen=True)
class Sim:
    session: str
    events: list[Event]
    fake_users: dict[str, str]  # user -> our kind
    fake_orders: frozenset[str]

    @property
    def data(self) -> SessionData:
        return build(self.session, self.events)

    def flags(self) -> list[Flag]:
        return detect(self.data)


def camouflage(level: str) -> tuple[tuple[str, Any], ...]:
    return tuple((f"fake.{k}.camouflage", level) for k in FAKE)


@cache
def simulate(
    values: tuple[tuple[str, Any], ...] = (),
    *,
    sessions: int = 2,
    viewers: int = 800,
    seed: int = 11,
    clean: bool = False,
) -> list[Sim]:
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "sim"
        generate(
            Scenario(dict(values)), sessions=sessions, viewers=viewers, seed=seed, out=prefix,
            clean=clean, parallel=False,
        )  # fmt: skip
        events, summary = load_events(f"{prefix}.events.jsonl")
        assert summary.rejected == 0
        labels = [
            json.loads(line)
            for line in Path(f"{prefix}.labels.jsonl").read_text("utf-8").splitlines()
        ]
    out = []
    for sid, evs in sorted(group(events).items()):
        users = {
            lab["user"]: OURS[lab["kind"]]
            for lab in labels
            if lab["session"] == sid and "user" in lab
        }
        orders = frozenset(
            lab["order"] for lab in labels if lab["session"] == sid and "order" in lab
        )
        out.append(Sim(sid, evs, users, orders))
    return out


def users_by_kind(flags: list[Flag]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in flags:
        if f.subject == "user":
            out.setdefault(f.kind, set()).add(f.id)
    return out
