"""Lucky draws (福袋): the commitment, the winners and their verification. Pure: no I/O.

The algorithm (docs/draws.md states it for outside verifiers, byte for byte):

1. At creation the server picks a 32-byte ``seed`` (``secrets``) and publishes
   ``commitment = sha256(seed)`` (hex). The seed stays secret until the draw is drawn.
2. The entrants are the distinct user ids that met the condition in time, sorted by
   Unicode code point (Python's ``sorted``). ``entrants_hash = sha256(E)`` (hex), where
   ``E`` is the UTF-8 of the sorted ids joined by ``"\\n"`` (no trailing newline; no
   entrants: the empty string).
3. Winners are drawn without replacement from the sorted list ``pool``. For
   ``counter = 0, 1, 2, …``: ``r = HMAC-SHA256(key=seed, msg=bytes.fromhex(entrants_hash)
   || counter as 8 bytes big-endian)`` read as a 256-bit big-endian integer; with
   ``n = len(pool)``, if ``r >= 2**256 - (2**256 % n)`` the value is skipped (no modulo
   bias), else ``pool.pop(r % n)`` is the next winner. Every try uses the next counter.
   It stops after ``min(winner_count, number of entrants)`` winners.

So the winners are a function of the seed and the entrant list only: once the seed is
revealed anyone can recompute them, and the commitment proves the seed was fixed before
anyone entered.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SEED_BYTES = 32
_SPACE = 1 << 256


def new_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def commitment(seed: bytes) -> str:
    """The public commitment to ``seed``: sha256 (hex)."""
    return hashlib.sha256(seed).hexdigest()


def canonical_entrants(entrants: Iterable[str]) -> list[str]:
    """Distinct ids in code-point order."""
    return sorted(set(entrants))


def entrants_hash(entrants: Sequence[str]) -> str:
    """sha256 (hex) of the canonical list, one id per line, no trailing newline."""
    return hashlib.sha256("\n".join(canonical_entrants(entrants)).encode()).hexdigest()


def draw_winners(seed: bytes, entrants: Iterable[str], winner_count: int) -> list[str]:
    """The winners, in draw order (see the module docstring)."""
    pool = canonical_entrants(entrants)
    digest = bytes.fromhex(entrants_hash(pool))
    winners: list[str] = []
    counter = 0
    while pool and len(winners) < winner_count:
        mac = hmac.new(seed, digest + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
        r = int.from_bytes(mac, "big")
        n = len(pool)
        if r >= _SPACE - (_SPACE % n):
            continue
        winners.append(pool.pop(r % n))
    return winners


@dataclass(frozen=True)
class Published:
    """What a drawn draw publishes (``GET /api/v1/draws/{id}``)."""

    commitment: str
    seed: str  # hex
    winner_count: int
    entrants: list[str]
    entrants_hash: str
    winners: list[str]


def verify(published: Published) -> list[str]:
    """What does not add up in a published draw; empty when it verifies."""
    problems: list[str] = []
    try:
        seed = bytes.fromhex(published.seed)
    except ValueError:
        return ["the seed is not hex"]
    if commitment(seed) != published.commitment:
        problems.append("the seed does not match the commitment")
    if entrants_hash(published.entrants) != published.entrants_hash:
        problems.append("the entrant list does not match its hash")
    if draw_winners(seed, published.entrants, published.winner_count) != published.winners:
        problems.append("the winners are not the ones the seed and the entrants give")
    return problems
