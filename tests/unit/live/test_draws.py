"""The lucky-draw algorithm (docs/draws.md): deterministic, unbiased enough, verifiable,
and a tampered seed, entrant list or winner list is caught."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daihuo.live import draws

SEED = bytes(range(32))


def test_a_known_vector_recomputed_by_hand() -> None:
    entrants = ["usr_c", "usr_a", "usr_b", "usr_a"]
    digest = hashlib.sha256(b"usr_a\nusr_b\nusr_c").digest()
    assert draws.entrants_hash(entrants) == digest.hex()
    pool = ["usr_a", "usr_b", "usr_c"]
    expect = []
    counter = 0
    while len(expect) < 2:
        mac = hmac.new(SEED, digest + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
        r = int.from_bytes(mac, "big")
        if r >= 2**256 - (2**256 % len(pool)):
            continue
        expect.append(pool.pop(r % len(pool)))
    assert draws.draw_winners(SEED, entrants, 2) == expect


def test_no_entrants_no_winners_and_never_more_than_entrants() -> None:
    assert draws.draw_winners(SEED, [], 3) == []
    assert draws.entrants_hash([]) == hashlib.sha256(b"").hexdigest()
    assert sorted(draws.draw_winners(SEED, ["b", "a"], 5)) == ["a", "b"]


@given(
    seed=st.binary(min_size=32, max_size=32),
    entrants=st.lists(st.text(min_size=1, max_size=12), max_size=40),
    k=st.integers(min_value=1, max_value=50),
)
def test_winners_are_distinct_entrants_and_order_of_input_does_not_matter(
    seed: bytes, entrants: list[str], k: int
) -> None:
    winners = draws.draw_winners(seed, entrants, k)
    assert len(winners) == min(k, len(set(entrants)))
    assert len(set(winners)) == len(winners)
    assert set(winners) <= set(entrants)
    assert draws.draw_winners(seed, list(reversed(entrants)), k) == winners


def test_every_entrant_has_about_the_same_chance() -> None:
    entrants = [f"usr_{i}" for i in range(5)]
    wins = Counter(draws.draw_winners(n.to_bytes(32, "big"), entrants, 1)[0] for n in range(2000))
    assert set(wins) == set(entrants)
    assert all(300 < c < 500 for c in wins.values()), wins


def _published() -> draws.Published:
    seed = draws.new_seed()
    entrants = [f"usr_{i:02d}" for i in range(30)]
    return draws.Published(
        commitment=draws.commitment(seed),
        seed=seed.hex(),
        winner_count=3,
        entrants=entrants,
        entrants_hash=draws.entrants_hash(entrants),
        winners=draws.draw_winners(seed, entrants, 3),
    )


def test_an_honest_draw_verifies_and_tampering_is_caught() -> None:
    good = _published()
    assert draws.verify(good) == []
    other_seed = draws.new_seed().hex()
    assert "the seed does not match the commitment" in draws.verify(
        draws.Published(**{**good.__dict__, "seed": other_seed})
    )
    dropped = good.entrants[1:] if good.entrants[0] not in good.winners else good.entrants[:-1]
    assert "the entrant list does not match its hash" in draws.verify(
        draws.Published(**{**good.__dict__, "entrants": dropped})
    )
    swapped = [e for e in good.entrants if e not in good.winners][:1] + good.winners[1:]
    assert draws.verify(draws.Published(**{**good.__dict__, "winners": swapped})) == [
        "the winners are not the ones the seed and the entrants give"
    ]
    assert draws.verify(draws.Published(**{**good.__dict__, "seed": "zz"})) == [
        "the seed is not hex"
    ]


def test_the_verifier_printed_in_docs_draws_md_agrees() -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[3] / "docs" / "draws.md").read_text()
    code = re.search(r"```python\n(.*?)```", doc, re.S)
    assert code is not None
    scope: dict[str, Any] = {}
    exec(code.group(1), scope)  # noqa: S102 - our own document's example
    good = _published()
    published = {**good.__dict__}
    scope["check"](published)
    with pytest.raises(AssertionError, match="seed does not match"):
        scope["check"]({**published, "seed": draws.new_seed().hex()})
    with pytest.raises(AssertionError, match="winners differ"):
        scope["check"]({**published, "winners": good.winners[::-1]})
