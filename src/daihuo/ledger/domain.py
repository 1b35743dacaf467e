"""Pure rules of the log: what an entry is, and how a growing tree's stored hashes are
named and computed. No I/O.

Stored hashes are named ``(level, idx)``: the perfect subtree of ``2**level`` leaves
starting at leaf ``idx * 2**level``. Level 0 is a leaf hash. A node is stored once
it is complete, and is never changed afterwards, because appending leaves only ever
adds nodes to the right of the existing ones.

:class:`Frontier` keeps the right edge of the tree — one perfect subtree per set bit
of the size, largest first — which is all that appending needs: pushing a leaf
merges equal-sized subtrees like a binary counter carries, and each merge is a new
stored node. The root of any size is the right-to-left fold of its edge
(``merkle.join_perfect``), equal to RFC 9162's MTH.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from daihuo.ledger import merkle
from daihuo.ledger.jcs import canonical_json

KINDS = ("order", "settlement", "session_report", "trace")
MAX_FIELD = 200

NodeKey = tuple[int, int]  # (level, idx)


class EntryError(ValueError):
    """An entry cannot be written to the log: the message says which field and why."""


def format_ts(ts: datetime) -> str:
    """``2026-11-27T12:00:05.120Z``: UTC, milliseconds, as in the spec's example."""
    if ts.tzinfo is None:
        raise EntryError("ts must be a timezone-aware datetime")
    utc = ts.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def make_entry(kind: str, tenant: str, id: str, body: Mapping[str, Any], ts: datetime) -> bytes:
    """The leaf bytes: RFC 8785 canonical JSON of ``{kind, tenant, id, ts, body}``."""
    if kind not in KINDS:
        raise EntryError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    for name, value in (("tenant", tenant), ("id", id)):
        if not isinstance(value, str) or not value or len(value) > MAX_FIELD:
            raise EntryError(f"{name} must be a non-empty string of at most {MAX_FIELD} chars")
    if not isinstance(body, Mapping):
        raise EntryError("body must be a JSON object")
    entry = {"kind": kind, "tenant": tenant, "id": id, "ts": format_ts(ts), "body": dict(body)}
    try:
        return canonical_json(entry)
    except (TypeError, ValueError) as exc:
        raise EntryError(f"body is not I-JSON: {exc}") from exc


def node_key(start: int, end: int) -> NodeKey:
    """The stored name of the perfect, aligned subtree ``[start, end)``."""
    width = end - start
    level = width.bit_length() - 1
    if width <= 0 or width != 1 << level or start % width:
        raise ValueError(f"[{start}, {end}) is not a perfect aligned subtree")
    return level, start >> level


def edge_keys(size: int) -> list[NodeKey]:
    """The stored hashes that make up the right edge of a tree of ``size`` leaves."""
    return [node_key(s, e) for s, e in merkle.perfect_ranges(0, size)] if size else []


def proof_keys(ranges: Sequence[merkle.Range]) -> list[list[NodeKey]]:
    """For each proof range, the stored hashes that ``join_perfect`` folds into it."""
    return [[node_key(s, e) for s, e in merkle.perfect_ranges(start, end)] for start, end in ranges]


class Frontier:
    """The right edge of a tree: enough to append leaves and compute the root."""

    __slots__ = ("_hashes", "size")

    def __init__(self, size: int = 0, edge: Sequence[bytes] = ()) -> None:
        if len(edge) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} edge hashes")
        self.size = size
        self._hashes = list(edge)

    def append(self, leaf_hash: bytes, out: list[tuple[int, int, bytes]]) -> None:
        """Add a leaf; append to ``out`` each ``(level, idx, hash)`` it completes."""
        h, level, idx, size = leaf_hash, 0, self.size, self.size
        while size & 1:
            h = merkle.node_hash(self._hashes.pop(), h)
            level += 1
            idx >>= 1
            size >>= 1
            out.append((level, idx, h))
        self._hashes.append(h)
        self.size += 1

    def root(self) -> bytes:
        return merkle.join_perfect(self._hashes) if self._hashes else merkle.EMPTY_ROOT

    def copy(self) -> Frontier:
        return Frontier(self.size, self._hashes)
