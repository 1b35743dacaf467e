"""RFC 9162 Merkle trees: public vectors, must-fail probes and properties of random trees."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daihuo.ledger.merkle import (
    EMPTY_ROOT,
    BadHashLength,
    BadTreeSize,
    IndexOutOfRange,
    NewRootMismatch,
    OldRootMismatch,
    ProofError,
    RootMismatch,
    WrongProofLength,
    consistency_proof,
    consistency_proof_from,
    consistency_ranges,
    inclusion_proof,
    inclusion_proof_from,
    inclusion_ranges,
    join_perfect,
    leaf_hash,
    node_hash,
    perfect_ranges,
    root,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "rfc6962.json").read_text(encoding="utf-8")
)
STANDARD = VECTORS["tree_8_standard_leaves"]
LEAVES8 = [bytes.fromhex(h) for h in STANDARD["leaf_hashes_hex"]]

# No example database: the tests must not write into the working tree.
PROPERTIES = settings(database=None, deadline=None, max_examples=150)


def h(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string)


def hs(hex_strings: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in hex_strings]


# An independent model: RFC 6962 §2.1 written recursively, straight from the text,
# hashing with hashlib so it shares no code with the module under test.


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def ref_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _k(len(leaves))
    return _node(ref_mth(leaves[:k]), ref_mth(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    if m == len(leaves):
        return [] if whole else [ref_mth(leaves)]
    k = _k(len(leaves))
    if m <= k:
        return [*ref_subproof(m, leaves[:k], whole), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


def make_leaves(size: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(size)]


def flip(data: bytes, position: int, mask: int) -> bytes:
    out = bytearray(data)
    out[position] ^= mask
    return bytes(out)


# --- Hashing and roots -------------------------------------------------------


def test_leaf_hashes_of_the_standard_leaves_match_upstream() -> None:
    inputs = hs(STANDARD["leaf_inputs_hex"])
    assert [leaf_hash(d) for d in inputs] == LEAVES8


@pytest.mark.parametrize("size", range(9))
def test_root_of_each_standard_prefix_matches_upstream(size: int) -> None:
    assert root(LEAVES8[:size]).hex() == STANDARD["root_hashes_by_tree_size"][str(size)]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_node_hashes_by_level_are_roots_of_aligned_subtrees() -> None:
    for level, row in enumerate(STANDARD["node_hashes_by_level"]["levels"]):
        width = 1 << level
        for i, expected in enumerate(row):
            assert root(LEAVES8[i * width : (i + 1) * width]).hex() == expected


@pytest.mark.parametrize("case", VECTORS["hasher_vectors"]["cases"], ids=lambda c: c["what"])
def test_hasher_vectors_from_transparency_dev(case: dict[str, Any]) -> None:
    if "left_hex" in case:
        got = node_hash(h(case["left_hex"]), h(case["right_hex"]))
    elif "input_hex" in case:
        got = leaf_hash(h(case["input_hex"]))
    else:
        got = root([])
    assert got.hex() == case["expected_hex"]


def test_sumdb_record_hash_is_the_rfc6962_leaf_hash() -> None:
    case = VECTORS["sumdb_tlog"]["record_hash_hello_world"]
    assert leaf_hash(case["input_utf8"].encode()).hex() == case["expected_hex"]


def test_root_rejects_a_leaf_hash_of_the_wrong_length() -> None:
    with pytest.raises(BadHashLength, match="leaf hash 1"):
        root([LEAVES8[0], b"\x00" * 31])


# --- Upstream happy paths -----------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["inclusion_proofs"])
def test_inclusion_vectors_from_verify_test_are_generated_and_verified(
    case: dict[str, Any],
) -> None:
    index, size = case["leaf_index"], case["tree_size"]
    assert leaf_hash(h(case["leaf_input_hex"])) == h(case["leaf_hash_hex"])
    assert inclusion_proof(LEAVES8, index, size) == hs(case["proof_hex"])
    proof = hs(case["proof_hex"])
    assert verify_inclusion(h(case["leaf_hash_hex"]), index, size, proof, h(case["root_hex"]))


@pytest.mark.parametrize("case", VECTORS["consistency_proofs"])
def test_consistency_vectors_from_verify_test_are_generated_and_verified(
    case: dict[str, Any],
) -> None:
    old, new = case["size1"], case["size2"]
    assert consistency_proof(LEAVES8, old, new) == hs(case["proof_hex"])
    assert verify_consistency(
        old, new, h(case["root1_hex"]), h(case["root2_hex"]), hs(case["proof_hex"])
    )


@pytest.mark.parametrize("case", VECTORS["derived_exhaustive_8_leaves"]["inclusion"])
def test_every_inclusion_proof_in_the_8_leaf_tree_is_generated_and_verified(
    case: dict[str, Any],
) -> None:
    index, size = case["leaf_index"], case["tree_size"]
    proof = inclusion_proof(LEAVES8, index, size)
    assert proof == hs(case["proof_hex"])
    assert verify_inclusion(h(case["leaf_hash_hex"]), index, size, proof, h(case["root_hex"]))


@pytest.mark.parametrize("case", VECTORS["derived_exhaustive_8_leaves"]["consistency"])
def test_every_consistency_proof_in_the_8_leaf_tree_is_generated_and_verified(
    case: dict[str, Any],
) -> None:
    old, new = case["size1"], case["size2"]
    proof = consistency_proof(LEAVES8, old, new)
    assert proof == hs(case["proof_hex"])
    assert verify_consistency(old, new, h(case["root1_hex"]), h(case["root2_hex"]), proof)


# --- Upstream must-fail probes -------------------------------------------------
# The error each probe must raise follows the documented check order: sizes,
# index, hash lengths, proof length, roots. Proof lengths come from the model.

INCLUSION_CASES = VECTORS["inclusion_cases_upstream_testdata"]["cases"]
CONSISTENCY_CASES = VECTORS["consistency_cases_upstream_testdata"]["cases"]


def _all_32_bytes(hex_strings: list[str]) -> bool:
    return all(len(x) == 64 for x in hex_strings)


def _hash_fields(case: dict[str, Any]) -> list[str]:
    names = ("leaf_hash_hex", "root_hex", "root1_hex", "root2_hex")
    return [case[n] for n in names if n in case] + list(case["proof_hex"])


def expected_inclusion_error(case: dict[str, Any]) -> type[ProofError]:
    index, size = case["leaf_index"], case["tree_size"]
    if not 0 <= index < size:
        return IndexOutOfRange
    if not _all_32_bytes(_hash_fields(case)):
        return BadHashLength
    if len(case["proof_hex"]) != len(ref_path(index, [b""] * size)):
        return WrongProofLength
    return RootMismatch


def expected_consistency_error(case: dict[str, Any]) -> type[ProofError]:
    old, new = case["size1"], case["size2"]
    if old == 0 or old > new:
        return BadTreeSize
    if not _all_32_bytes(_hash_fields(case)):
        return BadHashLength
    if len(case["proof_hex"]) != len(ref_subproof(old, [b""] * new, True)):
        return WrongProofLength
    return RootMismatch


def _case_id(case: dict[str, Any]) -> str:
    return str(case["source"]["path"]).removeprefix("testdata/")


def _check_inclusion(case: dict[str, Any]) -> bool:
    return verify_inclusion(
        h(case["leaf_hash_hex"]),
        case["leaf_index"],
        case["tree_size"],
        hs(case["proof_hex"]),
        h(case["root_hex"]),
    )


def _check_consistency(case: dict[str, Any]) -> bool:
    return verify_consistency(
        case["size1"],
        case["size2"],
        h(case["root1_hex"]),
        h(case["root2_hex"]),
        hs(case["proof_hex"]),
    )


@pytest.mark.parametrize("case", INCLUSION_CASES, ids=_case_id)
def test_upstream_inclusion_case(case: dict[str, Any]) -> None:
    if case["want_error"]:
        with pytest.raises(expected_inclusion_error(case)):
            _check_inclusion(case)
    else:
        assert _check_inclusion(case) is True


@pytest.mark.parametrize("case", CONSISTENCY_CASES, ids=_case_id)
def test_upstream_consistency_case(case: dict[str, Any]) -> None:
    if case["want_error"]:
        with pytest.raises(expected_consistency_error(case)):
            _check_consistency(case)
    elif not _all_32_bytes(_hash_fields(case)):
        # Upstream accepts 12-byte "roots" here; the ledger spec demands 32 bytes.
        with pytest.raises(BadHashLength):
            _check_consistency(case)
    else:
        assert _check_consistency(case) is True


def test_only_one_upstream_positive_case_is_refused_for_its_short_hashes() -> None:
    refused = [
        _case_id(c)
        for c in INCLUSION_CASES + CONSISTENCY_CASES
        if not c["want_error"] and not _all_32_bytes(_hash_fields(c))
    ]
    assert refused == ["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"]


def test_upstream_must_fail_probes_exercise_every_failure_kind() -> None:
    kinds = Counter(expected_inclusion_error(c) for c in INCLUSION_CASES if c["want_error"])
    kinds += Counter(expected_consistency_error(c) for c in CONSISTENCY_CASES if c["want_error"])
    assert set(kinds) == {
        BadTreeSize,
        IndexOutOfRange,
        BadHashLength,
        WrongProofLength,
        RootMismatch,
    }


# --- Strict checks, by name ----------------------------------------------------


def test_inclusion_proof_rejects_index_beyond_size() -> None:
    with pytest.raises(IndexOutOfRange):
        inclusion_proof(LEAVES8, 5, 5)
    with pytest.raises(IndexOutOfRange):
        verify_inclusion(LEAVES8[5], 5, 5, [], root(LEAVES8[:5]))


def test_inclusion_rejects_a_negative_index() -> None:
    with pytest.raises(IndexOutOfRange):
        inclusion_ranges(-1, 8)


def test_inclusion_in_the_empty_tree_is_impossible() -> None:
    with pytest.raises(IndexOutOfRange):
        verify_inclusion(LEAVES8[0], 0, 0, [], EMPTY_ROOT)


def test_negative_tree_size_is_rejected() -> None:
    with pytest.raises(BadTreeSize):
        verify_inclusion(LEAVES8[0], 0, -1, [], EMPTY_ROOT)
    with pytest.raises(BadTreeSize):
        consistency_ranges(1, -1)


def test_inclusion_proof_rejects_a_size_beyond_the_leaves_given() -> None:
    with pytest.raises(BadTreeSize, match="exceeds"):
        inclusion_proof(LEAVES8, 0, 9)


def test_inclusion_proof_may_prove_against_an_older_size() -> None:
    proof = inclusion_proof(LEAVES8, 2, 5)
    assert verify_inclusion(LEAVES8[2], 2, 5, proof, root(LEAVES8[:5]))


def test_verify_inclusion_rejects_a_short_root_before_running_the_proof() -> None:
    proof = inclusion_proof(LEAVES8, 0, 8)
    with pytest.raises(BadHashLength, match="root"):
        verify_inclusion(LEAVES8[0], 0, 8, proof, root(LEAVES8)[:31])


def test_verify_inclusion_rejects_a_proof_one_hash_too_long() -> None:
    proof = inclusion_proof(LEAVES8, 3, 8)
    with pytest.raises(WrongProofLength, match="needs 3"):
        verify_inclusion(LEAVES8[3], 3, 8, [*proof, proof[0]], root(LEAVES8))


def test_consistency_from_the_empty_tree_is_refused() -> None:
    with pytest.raises(BadTreeSize, match="empty tree"):
        consistency_proof(LEAVES8, 0, 8)
    with pytest.raises(BadTreeSize, match="empty tree"):
        verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])


def test_consistency_rejects_old_size_larger_than_new() -> None:
    with pytest.raises(BadTreeSize, match="larger"):
        verify_consistency(5, 4, root(LEAVES8[:5]), root(LEAVES8[:4]), [])


def test_consistency_between_equal_sizes_needs_an_empty_proof_and_equal_roots() -> None:
    r = root(LEAVES8[:3])
    assert consistency_proof(LEAVES8, 3, 3) == []
    assert verify_consistency(3, 3, r, r, [])
    with pytest.raises(WrongProofLength):
        verify_consistency(3, 3, r, r, [r])
    with pytest.raises(NewRootMismatch):
        verify_consistency(3, 3, r, root(LEAVES8[:4]), [])


def test_consistency_names_which_root_does_not_match() -> None:
    old_root, new_root = root(LEAVES8[:3]), root(LEAVES8)
    proof = consistency_proof(LEAVES8, 3, 8)
    with pytest.raises(OldRootMismatch):
        verify_consistency(3, 8, flip(old_root, 0, 1), new_root, proof)
    with pytest.raises(NewRootMismatch):
        verify_consistency(3, 8, old_root, flip(new_root, 0, 1), proof)


def test_root_from_consistency_proof_returns_the_new_root() -> None:
    proof = consistency_proof(LEAVES8, 5, 8)
    assert root_from_consistency_proof(5, 8, root(LEAVES8[:5]), proof) == root(LEAVES8)


def test_root_from_inclusion_proof_returns_the_root() -> None:
    proof = inclusion_proof(LEAVES8, 6, 7)
    assert root_from_inclusion_proof(LEAVES8[6], 6, 7, proof) == root(LEAVES8[:7])


def test_every_proof_error_is_a_value_error() -> None:
    for cls in (BadTreeSize, IndexOutOfRange, BadHashLength, WrongProofLength, RootMismatch):
        assert issubclass(cls, ProofError)
        assert issubclass(cls, ValueError)
    assert issubclass(OldRootMismatch, RootMismatch)
    assert issubclass(NewRootMismatch, RootMismatch)


# --- Ranges for storage ---------------------------------------------------------


# RFC 6962 §2.1.3 (RFC 9162 §2.1.5) works examples on a 7-leaf tree whose nodes
# it names a..l; as leaf ranges they are: a-g leaves 0-6, g=[0,2) h=[2,4) i=[4,6)
# j=[6,7) k=[0,4) l=[4,7).


@pytest.mark.parametrize(
    ("index", "ranges"),
    [
        (0, [(1, 2), (2, 4), (4, 7)]),  # [b, h, l]
        (3, [(2, 3), (0, 2), (4, 7)]),  # [c, g, l]
        (4, [(5, 6), (6, 7), (0, 4)]),  # [f, j, k]
    ],
)
def test_inclusion_ranges_match_the_rfc_example(index: int, ranges: list[tuple[int, int]]) -> None:
    assert inclusion_ranges(index, 7) == ranges


@pytest.mark.parametrize(
    ("old", "ranges"),
    [
        (3, [(2, 3), (3, 4), (0, 2), (4, 7)]),  # [c, d, g, l]
        (4, [(4, 7)]),  # [l]
        (6, [(4, 6), (6, 7), (0, 4)]),  # [i, j, k]
    ],
)
def test_consistency_ranges_match_the_rfc_example(old: int, ranges: list[tuple[int, int]]) -> None:
    assert consistency_ranges(old, 7) == ranges


def test_perfect_ranges_split_a_right_edge_node() -> None:
    assert perfect_ranges(8, 15) == [(8, 12), (12, 14), (14, 15)]
    with pytest.raises(BadTreeSize):
        perfect_ranges(3, 3)
    with pytest.raises(BadTreeSize):
        join_perfect([])


def _is_tree_node(start: int, end: int) -> bool:
    span = end - start
    return span > 0 and start % (1 << (span - 1).bit_length()) == 0


def _is_perfect(start: int, end: int) -> bool:
    span = end - start
    return span & (span - 1) == 0 and start % span == 0


class PerfectSubtreeStore:
    """Answers only perfect, aligned subtrees, like stored tiles would, and counts reads."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.reads = 0

    def perfect(self, start: int, end: int) -> bytes:
        assert _is_perfect(start, end), (start, end)
        self.reads += 1
        return ref_mth(self.leaves[start:end])

    def subtree_hash(self, start: int, end: int) -> bytes:
        assert _is_tree_node(start, end), (start, end)
        return join_perfect([self.perfect(s, e) for s, e in perfect_ranges(start, end)])


@PROPERTIES
@given(size=st.integers(1, 300), data=st.data())
def test_proof_ranges_are_disjoint_tree_nodes_and_storage_answers_in_log_reads(
    size: int, data: st.DataObject
) -> None:
    leaves = make_leaves(size)
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old_size")
    bound = 2 * math.ceil(math.log2(size)) + 2
    for ranges in (inclusion_ranges(index, size), consistency_ranges(old, size)):
        assert all(_is_tree_node(s, e) for s, e in ranges)
        assert sum(not _is_perfect(s, e) for s, e in ranges) <= 1
        covered = [i for s, e in ranges for i in range(s, e)]
        assert len(covered) == len(set(covered))

    store = PerfectSubtreeStore(leaves)
    assert inclusion_proof_from(store.subtree_hash, index, size) == inclusion_proof(
        leaves, index, size
    )
    assert store.reads <= bound
    store.reads = 0
    assert consistency_proof_from(store.subtree_hash, old, size) == consistency_proof(
        leaves, old, size
    )
    assert store.reads <= bound


# --- Properties of random trees --------------------------------------------------


@PROPERTIES
@given(size=st.integers(1, 300), salt=st.binary(max_size=8), data=st.data())
def test_every_generated_inclusion_proof_verifies(
    size: int, salt: bytes, data: st.DataObject
) -> None:
    leaves = make_leaves(size, salt)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(leaves, index, size)
    assert proof == ref_path(index, leaves)
    assert root(leaves) == ref_mth(leaves)
    assert verify_inclusion(leaves[index], index, size, proof, root(leaves)) is True


@PROPERTIES
@given(size=st.integers(1, 300), salt=st.binary(max_size=8), data=st.data())
def test_every_generated_consistency_proof_verifies(
    size: int, salt: bytes, data: st.DataObject
) -> None:
    leaves = make_leaves(size, salt)
    old = data.draw(st.integers(1, size), label="old_size")
    proof = consistency_proof(leaves, old, size)
    assert proof == ref_subproof(old, leaves, True)
    assert verify_consistency(old, size, root(leaves[:old]), root(leaves), proof) is True


@PROPERTIES
@given(
    size=st.integers(1, 300),
    data=st.data(),
    position=st.integers(0, 31),
    mask=st.integers(1, 255),
)
def test_flipping_any_byte_breaks_an_inclusion_proof(
    size: int, data: st.DataObject, position: int, mask: int
) -> None:
    leaves = make_leaves(size)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(leaves, index, size)
    leaf, tree_root = leaves[index], root(leaves)
    target = data.draw(st.integers(-2, len(proof) - 1), label="target")
    if target == -2:
        leaf = flip(leaf, position, mask)
    elif target == -1:
        tree_root = flip(tree_root, position, mask)
    else:
        proof[target] = flip(proof[target], position, mask)
    with pytest.raises(RootMismatch):
        verify_inclusion(leaf, index, size, proof, tree_root)


@PROPERTIES
@given(
    size=st.integers(1, 300),
    data=st.data(),
    position=st.integers(0, 31),
    mask=st.integers(1, 255),
)
def test_flipping_any_byte_breaks_a_consistency_proof(
    size: int, data: st.DataObject, position: int, mask: int
) -> None:
    leaves = make_leaves(size)
    old = data.draw(st.integers(1, size), label="old_size")
    proof = consistency_proof(leaves, old, size)
    old_root, new_root = root(leaves[:old]), root(leaves)
    target = data.draw(st.integers(-2, len(proof) - 1), label="target")
    if target == -2:
        old_root = flip(old_root, position, mask)
    elif target == -1:
        new_root = flip(new_root, position, mask)
    else:
        proof[target] = flip(proof[target], position, mask)
    with pytest.raises(RootMismatch):
        verify_consistency(old, size, old_root, new_root, proof)


@PROPERTIES
@given(size=st.integers(1, 300), data=st.data())
def test_a_proof_of_the_wrong_length_fails(size: int, data: st.DataObject) -> None:
    leaves = make_leaves(size)
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old_size")
    extra = leaf_hash(b"extra")
    incl = inclusion_proof(leaves, index, size)
    cons = consistency_proof(leaves, old, size)
    old_root, new_root = root(leaves[:old]), root(leaves)
    with pytest.raises(WrongProofLength):
        verify_inclusion(leaves[index], index, size, [*incl, extra], new_root)
    with pytest.raises(WrongProofLength):
        verify_consistency(old, size, old_root, new_root, [extra, *cons])
    if incl:
        with pytest.raises(WrongProofLength):
            verify_inclusion(leaves[index], index, size, incl[:-1], new_root)
    if cons:
        with pytest.raises(WrongProofLength):
            verify_consistency(old, size, old_root, new_root, cons[1:])


@PROPERTIES
@given(size=st.integers(1, 300), beyond=st.integers(0, 2**64))
def test_an_index_at_or_beyond_the_size_fails(size: int, beyond: int) -> None:
    leaves = make_leaves(size)
    proof = inclusion_proof(leaves, size - 1, size)
    with pytest.raises(IndexOutOfRange):
        verify_inclusion(leaves[-1], size + beyond, size, proof, root(leaves))
