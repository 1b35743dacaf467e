"""RFC 9162 (same hashing as RFC 6962) Merkle trees over SHA-256: roots and proofs.

Pure functions over bytes: no storage, no I/O, standard library only, so a small
independent verifier can import this module and nothing else.

Hashing invariants
------------------
* leaf hash ``SHA-256(0x00 || leaf bytes)``; interior node ``SHA-256(0x01 || left || right)``
* the empty tree's root is ``SHA-256("")``
* a tree of n > 1 leaves splits at k, the largest power of two smaller than n:
  ``MTH(D[0:n]) = node(MTH(D[0:k]), MTH(D[k:n]))``
* leaf indices are 0-based; proofs are lists of hashes ordered from the leaf level up
* every hash a verifier accepts (leaf hash, root, proof element) is exactly 32 bytes;
  this is stricter than upstream implementations, which accept any length
* a consistency proof needs ``0 < old_size <= new_size``: a proof from the empty tree
  proves nothing and is refused, as transparency-dev/merkle refuses it

Errors
------
Verification returns True or raises; it never returns False or None::

    ValueError
     └── ProofError                 any Merkle root or proof failure
          ├── BadTreeSize           size < 0, old_size == 0, old_size > new_size,
          │                         or a size beyond the leaf hashes given
          ├── IndexOutOfRange       leaf index < 0 or >= tree size
          ├── BadHashLength         a leaf hash, root or proof element is not 32 bytes
          ├── WrongProofLength      more or fewer proof hashes than the sizes dictate
          └── RootMismatch          the root the proof leads to is not the expected one
               ├── OldRootMismatch  consistency: the proof does not lead to old_root
               └── NewRootMismatch  consistency: the proof does not lead to new_root

Checks run in that order (sizes, index, hash lengths, proof length, roots), so an
input with several defects reports the first.

Storage
-------
``inclusion_ranges`` and ``consistency_ranges`` name the hashes a proof is made of as
leaf ranges ``(start, end)``, without touching any hash. Each range is a node of the
RFC 6962 tree: ``start`` is a multiple of the smallest power of two >= ``end - start``.
All ranges of one proof are disjoint and at most one is not a perfect subtree (the
one ending at the tree's right edge); ``perfect_ranges`` splits that one into perfect,
aligned subtrees and ``join_perfect`` hashes them back together. A storage layer that
keeps perfect subtree hashes therefore answers a proof in O(log n) reads through
``inclusion_proof_from`` / ``consistency_proof_from``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]
SubtreeHash = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A Merkle root or proof is invalid; the subclass names what failed."""


class BadTreeSize(ProofError):
    """A tree size is negative, zero where it may not be, or out of order."""


class IndexOutOfRange(ProofError):
    """A leaf index is negative or not smaller than the tree size."""


class BadHashLength(ProofError):
    """A leaf hash, root or proof element is not exactly 32 bytes."""


class WrongProofLength(ProofError):
    """A proof has more or fewer hashes than the tree sizes dictate."""


class RootMismatch(ProofError):
    """The root a proof leads to differs from the expected root."""


class OldRootMismatch(RootMismatch):
    """A consistency proof does not lead to the old tree's root."""


class NewRootMismatch(RootMismatch):
    """A consistency proof does not lead to the new tree's root."""


def leaf_hash(data: bytes) -> bytes:
    """MTH of a one-leaf tree: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right). Lengths are the caller's business."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the tree whose leaves hash to ``leaf_hashes`` (SHA-256("") when empty)."""
    for i, h in enumerate(leaf_hashes):
        _check_hash(f"leaf hash {i}", h)
    if not leaf_hashes:
        return EMPTY_ROOT
    # Pairing level by level and lifting an unpaired last node unchanged gives the
    # same tree as splitting at the largest power of two, in O(n) without recursion.
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes form the inclusion proof of leaf ``index`` (RFC 6962 PATH)."""
    _check_size("tree size", size)
    _check_index(index, size)
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:  # walk down from the root, keeping the sibling of each step
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()  # proofs go from the leaf level up
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The subtrees whose hashes form the consistency proof (RFC 6962 PROOF/SUBPROOF)."""
    _check_sizes(old_size, new_size)
    ranges: list[Range] = []
    lo, hi = 0, new_size
    whole_old_tree = True  # SUBPROOF's b flag: is [lo, old_size) still the entire old tree?
    while hi != old_size:
        k = _split(hi - lo)
        if old_size - lo <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            whole_old_tree = False
    if not whole_old_tree:
        # The verifier knows the old root only for the whole old tree; a deeper
        # subtree of it must be sent.
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def perfect_ranges(start: int, end: int) -> list[Range]:
    """Split the tree node ``[start, end)`` into perfect subtrees, left to right."""
    if not 0 <= start < end:
        raise BadTreeSize(f"empty or negative range [{start}, {end})")
    pieces: list[Range] = []
    while start < end:
        width = 1 << ((end - start).bit_length() - 1)
        pieces.append((start, start + width))
        start += width
    return pieces


def join_perfect(hashes: Sequence[bytes]) -> bytes:
    """Hash of a node from the hashes of its ``perfect_ranges`` pieces, left to right."""
    if not hashes:
        raise BadTreeSize("no subtree hashes to join")
    # Each piece is the left child of the join of the pieces after it.
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_proof_from(subtree_hash: SubtreeHash, index: int, size: int) -> list[bytes]:
    """Inclusion proof with each hash fetched by ``subtree_hash(start, end)``."""
    return [subtree_hash(s, e) for s, e in inclusion_ranges(index, size)]


def consistency_proof_from(subtree_hash: SubtreeHash, old_size: int, new_size: int) -> list[bytes]:
    """Consistency proof with each hash fetched by ``subtree_hash(start, end)``."""
    return [subtree_hash(s, e) for s, e in consistency_ranges(old_size, new_size)]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """Inclusion proof of leaf ``index`` in the tree of the first ``size`` leaf hashes."""
    return inclusion_proof_from(_slice_hasher(leaf_hashes, size), index, size)


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """Consistency proof between the trees of the first ``old_size`` and ``new_size`` leaves."""
    return consistency_proof_from(_slice_hasher(leaf_hashes, new_size), old_size, new_size)


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that ``proof`` leads to from ``leaf_hash`` (RFC 9162 §2.1.3.2)."""
    _check_size("tree size", size)
    _check_index(index, size)
    _check_hash("leaf hash", leaf_hash)
    _check_proof_hashes(proof)
    _check_proof_length(proof, len(inclusion_ranges(index, size)), f"leaf {index} of {size}")

    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise WrongProofLength("proof continues past the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise WrongProofLength("proof ends below the root")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True if ``proof`` shows leaf ``index`` hashes to ``leaf_hash`` in the tree ``root``."""
    _check_size("tree size", size)
    _check_index(index, size)
    _check_hash("root", root)
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if computed != root:
        raise RootMismatch(
            f"inclusion proof of leaf {index} leads to root {computed.hex()}, not {root.hex()}"
        )
    return True


def root_from_consistency_proof(
    old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> bytes:
    """Check ``proof`` against ``old_root`` and return the new root it leads to.

    RFC 9162 §2.1.4.2 for ``old_size < new_size``; equal sizes need an empty proof.
    """
    _check_sizes(old_size, new_size)
    _check_hash("old root", old_root)
    _check_proof_hashes(proof)
    expected = len(consistency_ranges(old_size, new_size))
    _check_proof_length(proof, expected, f"sizes {old_size} -> {new_size}")
    if old_size == new_size:
        return old_root

    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise WrongProofLength("proof continues past the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise WrongProofLength("proof ends below the root")
    if fr != old_root:
        raise OldRootMismatch(
            f"consistency proof leads to old root {fr.hex()}, not {old_root.hex()}"
        )
    return sr


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True if ``proof`` shows the tree ``new_root`` extends the tree ``old_root``."""
    _check_sizes(old_size, new_size)
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    computed = root_from_consistency_proof(old_size, new_size, old_root, proof)
    if computed != new_root:
        raise NewRootMismatch(
            f"consistency proof leads to new root {computed.hex()}, not {new_root.hex()}"
        )
    return True


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _slice_hasher(leaf_hashes: Sequence[bytes], size: int) -> SubtreeHash:
    _check_size("tree size", size)
    if size > len(leaf_hashes):
        raise BadTreeSize(f"tree size {size} exceeds the {len(leaf_hashes)} leaf hashes given")

    def subtree_hash(start: int, end: int) -> bytes:
        return root(leaf_hashes[start:end])

    return subtree_hash


def _check_size(what: str, size: int) -> None:
    if size < 0:
        raise BadTreeSize(f"{what} {size} is negative")


def _check_sizes(old_size: int, new_size: int) -> None:
    _check_size("old size", old_size)
    _check_size("new size", new_size)
    if old_size == 0:
        raise BadTreeSize("a consistency proof from the empty tree is meaningless")
    if old_size > new_size:
        raise BadTreeSize(f"old size {old_size} is larger than new size {new_size}")


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise IndexOutOfRange(f"leaf index {index} is outside a tree of size {size}")


def _check_hash(what: str, h: bytes) -> None:
    if len(h) != HASH_SIZE:
        raise BadHashLength(f"{what} is {len(h)} bytes, not {HASH_SIZE}")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        _check_hash(f"proof[{i}]", p)


def _check_proof_length(proof: Sequence[bytes], expected: int, where: str) -> None:
    if len(proof) != expected:
        raise WrongProofLength(f"proof has {len(proof)} hashes, {where} needs {expected}")
