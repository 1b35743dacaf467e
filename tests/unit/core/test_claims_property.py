"""Property: whatever the interleaving of claims and releases, the in-process claim set
never holds more than its limit, and a member never holds two places (the same contract
tests/integration/core/test_bus.py runs on Redis)."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from daihuo.core.bus import MemoryBus

OPS = st.lists(
    st.tuples(st.sampled_from(["claim", "unclaim"]), st.integers(min_value=0, max_value=9)),
    max_size=60,
)


@given(ops=OPS, limit=st.integers(min_value=1, max_value=5))
def test_claims_never_exceed_the_limit_and_are_once_per_member(
    ops: list[tuple[str, int]], limit: int
) -> None:
    async def run() -> None:
        bus = MemoryBus()
        held: set[str] = set()
        for op, n in ops:
            member = f"u{n}"
            if op == "unclaim":
                await bus.unclaim("t", "c", member)
                held.discard(member)
                continue
            got = await bus.claim("t", "c", member, limit)
            if member in held:
                assert got == 0
            elif len(held) >= limit:
                assert got == -1
            else:
                held.add(member)
                assert got == len(held)
            assert len(held) <= limit

    asyncio.run(run())
