"""Opaque, unique, deterministic identifiers for simulated accounts, orders and devices.

A counter goes through a keyed bijection of 48-bit integers (multiplication by an odd
constant and xor-shifts are each invertible modulo 2**48, so their composition is a
permutation): every value is distinct without keeping a set of the ids handed out, and
neighbouring counters give unrelated-looking ids. Genuine and fake accounts come from
the same counter, so nothing in an id tells which kind made it (the fake kinds are in
the labels file only). This hides order, not secrets: it is not a cipher.
"""

from __future__ import annotations

import random
from typing import Final

_MASK: Final = (1 << 48) - 1

# Public address prefixes of large mainland Chinese networks (APNIC allocations).
CN_PREFIXES: Final = (
    36, 39, 42, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116, 117, 118,
    119, 120, 121, 122, 123, 124, 125, 171, 175, 180, 182, 183, 202, 210, 211, 218, 219,
    220, 221, 222, 223,
)  # fmt: skip
# Hosting and proxy ranges (cloud providers' blocks): where bought audiences come from.
HOSTING_PREFIXES: Final = (47, 81, 101, 106, 115, 119, 121, 139, 150, 159)


class Mint:
    """``next()`` gives PREFIX + 12 hex digits, a different value each time."""

    __slots__ = ("_add", "_mul", "_n", "_prefix")

    def __init__(self, seed: int | str, prefix: str) -> None:
        rng = random.Random(f"mint:{seed}:{prefix}")  # noqa: S311 - ids, not secrets
        self._mul = rng.getrandbits(48) | 1  # odd: invertible modulo 2**48
        self._add = rng.getrandbits(48)
        self._prefix = prefix
        self._n = 0

    def fork(self) -> Mint:
        """A mint over the same permutation whose counter starts at 2**46: its ids never
        collide with this one's, and drawing from it does not shift this one's ids."""
        other = Mint.__new__(Mint)
        other._add, other._mul, other._prefix = self._add, self._mul, self._prefix
        other._n = 1 << 46
        return other

    def next(self) -> str:
        self._n += 1
        x = (self._n * 0x9E3779B97F4B + self._add) & _MASK
        x ^= x >> 23
        x = (x * self._mul) & _MASK
        x ^= x >> 19
        return f"{self._prefix}{x:012x}"

    def many(self, n: int) -> list[str]:
        """The next ``n`` ids at once (what ``n`` calls of :meth:`next` would give)."""
        first, self._n = self._n + 1, self._n + n
        add, mul, prefix = self._add, self._mul, self._prefix
        out = []
        for k in range(first, first + n):
            x = (k * 0x9E3779B97F4B + add) & _MASK
            x ^= x >> 23
            x = (x * mul) & _MASK
            out.append(f"{prefix}{x ^ (x >> 19):012x}")
        return out


def residential_ip(rng: random.Random) -> str:
    bits = rng.getrandbits(32)
    prefix = CN_PREFIXES[(bits >> 24) % len(CN_PREFIXES)]
    return f"{prefix}.{(bits >> 16) & 255}.{(bits >> 8) & 255}.{1 + (bits & 255) % 254}"


def residential_ips(rng: random.Random, n: int) -> list[str]:
    """``n`` of :func:`residential_ip` at once."""
    bits = rng.getrandbits
    prefixes, size = CN_PREFIXES, len(CN_PREFIXES)
    return [
        f"{prefixes[(b >> 24) % size]}.{(b >> 16) & 255}.{(b >> 8) & 255}.{1 + (b & 255) % 254}"
        for b in (bits(32) for _ in range(n))
    ]


def subnet(rng: random.Random, hosting: bool = False) -> str:
    """A /24 as its first three octets, e.g. ``'47.92.13'``."""
    prefixes = HOSTING_PREFIXES if hosting else CN_PREFIXES
    bits = rng.getrandbits(16)
    return f"{prefixes[rng.randrange(len(prefixes))]}.{bits >> 8}.{bits & 255}"


def in_subnet(rng: random.Random, net: str) -> str:
    return f"{net}.{rng.randrange(2, 254)}"
