"""Each detector on its own kind, at blatant and careful camouflage, on simulated rooms.

The floors are measured values with a margin (see docs/authenticity.md for the eval
table): they fail when a change makes a detector worse, not when it changes an id.
Careful bots and careful brushing rings are not caught yet (docs say so); for those the
tests require that whatever is flagged is right.
"""

from __future__ import annotations

import pytest

from daihuo.authenticity import audience, brushing, comments, likes
from daihuo.authenticity.features import SessionData
from daihuo.authenticity.model import Flag

from tests.unit.authenticity.sims import Sim, camouflage, simulate, users_by_kind


def tally(sims: list[Sim], detector, kind: str) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    tp = flagged = truth = 0
    for sim in sims:
        flags: list[Flag] = detector(sim.data)
        mine = users_by_kind(flags).get(kind, set())
        real = {u for u, k in sim.fake_users.items() if k == kind}
        tp += len(mine & real)
        flagged += len(mine)
        truth += len(real)
    return tp, flagged, truth


# kind, detector, level -> (precision floor, recall floor)
FLOORS = [
    ("bot_audience", audience.detect, "blatant", 0.95, 0.95),
    ("comment_farm", comments.detect, "blatant", 0.9, 0.9),
    ("like_farm", likes.detect, "blatant", 0.9, 0.9),
    ("brushing", brushing.detect, "blatant", 0.9, 0.9),
    ("bot_audience", audience.detect, "moderate", 0.95, 0.75),
    ("comment_farm", comments.detect, "careful", 0.8, 0.8),
    ("like_farm", likes.detect, "careful", 0.8, 0.9),
]


@pytest.mark.parametrize(("kind", "detector", "level", "p_floor", "r_floor"), FLOORS)
def test_detector_finds_its_kind(kind, detector, level, p_floor, r_floor) -> None:  # type: ignore[no-untyped-def]
    tp, flagged, truth = tally(simulate(camouflage(level)), detector, kind)
    assert truth > 0
    assert flagged > 0, f"{kind} at {level}: nothing flagged of {truth}"
    assert tp / flagged >= p_floor, (tp, flagged, truth)
    assert tp / truth >= r_floor, (tp, flagged, truth)


@pytest.mark.parametrize(
    ("kind", "detector"), [("bot_audience", audience.detect), ("brushing", brushing.detect)]
)
def test_careful_bots_and_rings_are_not_confused_with_people(kind, detector) -> None:  # type: ignore[no-untyped-def]
    sims = simulate(camouflage("careful"))
    for sim in sims:
        for f in detector(sim.data):
            if f.subject == "user":
                assert f.id in sim.fake_users, f"genuine user flagged: {f}"


BUSY_RINGS = (("fake.brushing.share", 0.2),)


@pytest.mark.parametrize(
    ("level", "p_floor", "r_floor"),
    [("blatant", 0.9, 0.9), ("moderate", 0.8, 0.5), ("careful", 0.8, 0.3)],
)
def test_brushed_orders_are_flagged_with_their_buyers(level, p_floor, r_floor) -> None:  # type: ignore[no-untyped-def]
    tp = flagged = truth = 0
    for sim in simulate(camouflage(level) + BUSY_RINGS):
        orders = {f.id for f in brushing.detect(sim.data) if f.subject == "order"}
        tp += len(orders & sim.fake_orders)
        flagged += len(orders)
        truth += len(sim.fake_orders)
    assert truth > 0 and flagged > 0, (tp, flagged, truth)
    assert tp / flagged >= p_floor and tp / truth >= r_floor, (tp, flagged, truth)


def test_every_flag_explains_itself_in_both_languages() -> None:
    for sim in simulate(camouflage("blatant")):
        for f in sim.flags():
            assert 0.0 <= f.score <= 1.0
            assert f.reasons, f
            for r in f.reasons:
                assert r.en and r.zh
                assert any("\u4e00" <= ch <= "\u9fff" for ch in r.zh)


def test_lockstep_needs_an_anomaly_not_just_a_crowd() -> None:
    # Five silent viewers entering and leaving together in a room of five is the room.
    from tests.unit.authenticity.test_edges import room

    data: SessionData = room([(f"u{i}", 10, 400) for i in range(5)])
    assert audience.lockstep_cohorts(data) == []


def test_peeling_finds_the_dense_block() -> None:
    import numpy as np
    from scipy.sparse import csr_matrix

    from daihuo.authenticity.graph import peel

    dense = np.zeros((20, 30))
    dense[:4, :3] = 1.0  # four rows sharing three columns
    for i in range(4, 20):
        dense[i, 3 + i] = 1.0  # the rest touch one column each
    rows, cols, density = peel(csr_matrix(dense))
    assert rows == [0, 1, 2, 3] and cols == [0, 1, 2]
    assert density == pytest.approx(12 / 7)


def test_near_duplicate_families_ignore_emoji_punctuation_and_numbers() -> None:
    texts = [
        comments.normalise(t)
        for t in ["家人们，这个质量真的好！！👍", "这个质量真的好～3", "多少钱"]
    ]
    fam = comments.families(texts)
    assert fam[0] == fam[1] != fam[2]
