"""The pure rules under log storage: the right edge of a growing tree, the names of the
stored hashes, and the bytes of an entry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daihuo.ledger import merkle
from daihuo.ledger.domain import (
    EntryError,
    Frontier,
    edge_keys,
    format_ts,
    make_entry,
    node_key,
    proof_keys,
)

PROPERTIES = settings(database=None, deadline=None, max_examples=100)


def leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@PROPERTIES
@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=6))
def test_the_frontier_completes_every_node_once_and_gives_the_rfc_root(batches: list[int]) -> None:
    n = sum(batches)
    hashes = leaves(n)
    frontier = Frontier()
    stored: dict[tuple[int, int], bytes] = {(0, i): h for i, h in enumerate(hashes)}
    done = 0
    for size in batches:
        resumed = Frontier(frontier.size, [stored[k] for k in edge_keys(frontier.size)])
        completed: list[tuple[int, int, bytes]] = []
        for h in hashes[done : done + size]:
            resumed.append(h, completed)
        done += size
        for level, idx, h in completed:
            assert (level, idx) not in stored
            stored[(level, idx)] = h
            start, end = idx << level, (idx + 1) << level
            assert h == merkle.root(hashes[start:end])
        assert resumed.root() == merkle.root(hashes[:done])
        frontier = resumed
    assert len(stored) - n == sum(n >> level for level in range(1, n.bit_length() + 1))


@PROPERTIES
@given(st.integers(min_value=1, max_value=300), st.data())
def test_stored_hashes_fold_into_exactly_the_pure_proofs(n: int, data: st.DataObject) -> None:
    hashes = leaves(n)
    frontier, nodes = Frontier(), []
    for h in hashes:
        frontier.append(h, nodes)
    stored = {(0, i): h for i, h in enumerate(hashes)} | {(lv, i): h for lv, i, h in nodes}
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    old = data.draw(st.integers(min_value=1, max_value=n))
    for ranges, expected in (
        (merkle.inclusion_ranges(index, n), merkle.inclusion_proof(hashes, index, n)),
        (merkle.consistency_ranges(old, n), merkle.consistency_proof(hashes, old, n)),
    ):
        got = [merkle.join_perfect([stored[k] for k in group]) for group in proof_keys(ranges)]
        assert got == expected


def test_a_frontier_refuses_an_edge_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="a tree of 5 leaves has 2 edge hashes"):
        Frontier(5, leaves(1))


@pytest.mark.parametrize(("start", "end"), [(0, 3), (2, 6), (4, 4), (1, 3)])
def test_only_perfect_aligned_subtrees_have_stored_names(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="not a perfect aligned subtree"):
        node_key(start, end)


def test_stored_names_cover_the_right_leaves() -> None:
    assert node_key(0, 1) == (0, 0)
    assert node_key(8, 12) == (2, 2)
    assert edge_keys(13) == [(3, 0), (2, 2), (0, 12)]
    assert edge_keys(0) == []


def test_an_entry_is_the_canonical_json_of_the_spec_shape() -> None:
    ts = datetime(2026, 11, 27, 20, 0, 5, 120_999, tzinfo=timezone(timedelta(hours=8)))
    data = make_entry("order", "t1", "o-123", {"total_fen": 12900, "状态": "已支付"}, ts)
    assert (
        data
        == (
            '{"body":{"total_fen":12900,"状态":"已支付"},"id":"o-123","kind":"order",'
            '"tenant":"t1","ts":"2026-11-27T12:00:05.120Z"}'
        ).encode()
    )
    assert json.loads(data)["ts"] == format_ts(ts.astimezone(UTC))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("refund", "t1", "x", {}), "kind 'refund' is not one of"),
        (("order", "", "x", {}), "tenant must be"),
        (("order", "t1", "x" * 201, {}), "id must be"),
        (("order", "t1", "x", [1]), "body must be a JSON object"),
        (("order", "t1", "x", {"n": 2**53}), "body is not I-JSON"),
        (("order", "t1", "x", {"when": datetime.now(UTC)}), "body is not I-JSON"),
    ],
)
def test_entries_the_spec_does_not_allow_are_refused(args: tuple, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(EntryError, match=message):
        make_entry(*args, datetime.now(UTC))


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(EntryError, match="timezone-aware"):
        format_ts(datetime(2026, 1, 1))
