"""The host's plan of one session: product segments, flash sales, chorus moments, and the
arrival-rate curves of each traffic source.

Times are integer milliseconds from ``live_start``. Everything here is drawn from the
session's random stream before any viewer is made, so the audience reacts to one fixed
schedule (cards pop up when a product is pinned, arrivals swell before a flash sale).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from daihuo.simulator.corpus import Product, catalogue, corpus, encode, render
from daihuo.simulator.scenario import SOURCES, Scenario

FLASH_BEFORE_MS = 60_000  # the flash card pops up this long after its segment starts
FLASH_TALK_MS = (30_000, 120_000)  # flash talk in the comments around the flash instant


@dataclass(slots=True)
class Segment:
    """A product pinned (讲解) from ``start`` to ``end``; link = its number in the bag."""

    start: int
    end: int
    product: Product
    link: int
    flash: int = -1  # index into Plan.flashes, or -1
    pool: list[str] = field(default_factory=list)  # comment texts (JSON-encoded)


@dataclass(slots=True)
class Flash:
    at: int  # the instant the flash link goes up
    segment: int
    product: Product
    price: int  # fen
    stock: int


@dataclass(slots=True)
class Plan:
    duration: int
    products: list[Product]
    segments: list[Segment]
    flashes: list[Flash]
    seg_at: list[int]  # per second: index of the pinned segment, -1 before the first
    pool_at: list[list[str]]  # per second: the comment texts that fit the moment
    greeting: list[str]
    chorus: list[tuple[int, str]]  # (instant, JSON-encoded text), sorted
    profiles: dict[str, list[float]]  # source -> cumulative arrival weight per second
    fan_profile: list[float]
    waves: list[int]


def flash_price(price: int, discount: float) -> int:
    """A flash price in fen, ending in .9 yuan as shops price them (29.9, 9.9)."""
    target = round(price * discount / 100) * 100 - 10
    return max(90, min(price, target))


def make_plan(sc: Scenario, rng: random.Random, duration: int) -> Plan:
    texts = corpus()
    nsec = max(1, duration // 1000)

    # products and segments
    count = sc.i("products.count")
    shelf = list(catalogue())
    chosen = rng.sample(shelf, min(count, len(shelf)))
    while len(chosen) < count:  # more products than the catalogue: some are featured again
        chosen.append(shelf[rng.randrange(len(shelf))])
    segments: list[Segment] = []
    t = round(sc.f("products.warmup_minutes") * 60_000)
    mean = sc.f("products.segment_minutes") * 60_000
    j = 0
    while t < duration - 30_000:
        length = max(60_000, round(mean * rng.lognormvariate(-0.045, 0.3)))
        end = min(duration, t + length)
        product = chosen[j % len(chosen)]
        segments.append(Segment(t, end, product, 1 + j % len(chosen)))
        t = end
        j += 1

    flashes: list[Flash] = []
    n_flash = min(sc.i("flash_sales.count"), len(segments))
    if n_flash:
        picks = sorted({min(len(segments) - 1, (k + 1) * len(segments) // (n_flash + 1))
                        for k in range(n_flash)})  # fmt: skip
        for si in picks:
            seg = segments[si]
            at = seg.start + min(FLASH_BEFORE_MS, (seg.end - seg.start) // 3)
            seg.flash = len(flashes)
            price = flash_price(seg.product.price, sc.f("flash_sales.discount"))
            flashes.append(Flash(at, si, seg.product, price, sc.i("flash_sales.stock")))

    # comment pools
    def pool(
        parts: list[tuple[float, tuple[str, ...]]], product: Product | None, link: int
    ) -> list[str]:
        weights = [w for w, _ in parts]
        out = []
        for _ in range(240):
            options = rng.choices(parts, weights)[0][1]
            out.append(encode(render(options[rng.randrange(len(options))], product, link)))
        return out

    warm = pool(
        [(0.4, texts.chat), (0.25, texts.praise), (0.15, texts.greeting),
         (0.2, texts.question)], None, 0,
    )  # fmt: skip
    for seg in segments:
        seg.pool = pool(
            [(0.28, texts.category[seg.product.category]), (0.17, texts.question),
             (0.12, texts.purchase), (0.2, texts.praise), (0.23, texts.chat)],
            seg.product, seg.link,
        )  # fmt: skip
    seg_at = [-1] * nsec
    pool_at: list[list[str]] = [warm] * nsec
    for si, seg in enumerate(segments):
        for s in range(seg.start // 1000, min(nsec, -(-seg.end // 1000))):
            seg_at[s] = si
            pool_at[s] = seg.pool
    for fl in flashes:
        seg = segments[fl.segment]
        flash_pool = [
            *(encode(render(x, seg.product, seg.link)) for x in texts.flash for _ in range(4)),
            *seg.pool[: len(texts.flash) * 2],
        ]
        lo, hi = fl.at - FLASH_TALK_MS[0], fl.at + FLASH_TALK_MS[1]
        for s in range(max(0, lo // 1000), min(nsec, hi // 1000)):
            pool_at[s] = flash_pool

    # chorus moments: everyone types the same short text; one is always at a flash sale
    chorus: list[tuple[int, str]] = []
    n_chorus = _poisson(rng, sc.f("engagement.chorus_per_hour") * duration / 3_600_000)
    for _ in range(n_chorus):
        chorus.append(
            (rng.randrange(30_000, max(30_001, duration - 30_000)),
             encode(texts.chorus[rng.randrange(len(texts.chorus))]))
        )  # fmt: skip
    if sc.f("engagement.chorus_per_hour") > 0:
        chorus += [(fl.at - 5_000, encode("1")) for fl in flashes if fl.at > 5_000]
    chorus.sort()

    # arrival curves
    dur_s = duration / 1000
    decline = sc.f("traffic.ending_decline")
    ramp = sc.f("traffic.ramp_minutes") * 60
    opening = sc.f("traffic.opening_minutes") * 60
    boost = sc.f("traffic.opening_boost")
    n_waves = _poisson(rng, sc.f("traffic.waves_per_hour") * duration / 3_600_000)
    waves = sorted(rng.randrange(int(ramp * 1000), max(int(ramp * 1000) + 1, int(duration * 0.9)))
                   for _ in range(n_waves))  # fmt: skip
    strength = sc.f("traffic.wave_strength")
    wave_tau = sc.f("traffic.wave_minutes") * 60
    pull = sc.f("traffic.flash_pull")
    announce = sc.f("flash_sales.announce_minutes") * 60
    span = max(1, nsec - 10)  # nobody arrives in the last ten seconds
    base = [1 - decline * (s / dur_s) ** 2 for s in range(span)]
    ramped = [b * min(1.0, 0.25 + 0.75 * s / ramp) if ramp > 0 else b for s, b in enumerate(base)]
    wave = [0.0] * span
    for w in waves:
        w_s = w // 1000
        for s in range(max(0, w_s - 45), span):
            dt = s - w_s
            if dt < 0:
                wave[s] += strength * (45 + dt) / 45
            else:
                bump = strength * math.exp(-dt / wave_tau)
                if bump < 1e-3:
                    break
                wave[s] += bump
    flash_bump = [0.0] * span
    for fl in flashes:
        f_s = fl.at // 1000
        for s in range(max(0, int(f_s - announce)), span):
            dt = s - f_s
            if dt < 0:
                flash_bump[s] += pull * (1 + dt / announce) if announce > 0 else 0.0
            else:
                bump = pull * math.exp(-dt / 90)
                if bump < 1e-3:
                    break
                flash_bump[s] += bump
    opening_curve = [boost * math.exp(-s / opening) for s in range(span)]
    raw = {
        "feed": [r * (1 + w) + 0.6 * f for r, w, f in zip(ramped, wave, flash_bump, strict=True)],
        "follow": [
            b * (0.6 + o) + f for b, o, f in zip(base, opening_curve, flash_bump, strict=True)
        ],
        "search": base,
        "share": [
            b * (1 + 0.5 * w) + 0.3 * f for b, w, f in zip(base, wave, flash_bump, strict=True)
        ],
        "ads": ramped,
        "other": base,
    }
    profiles = {source: _cumulative(raw[source]) for source in SOURCES}
    fan_profile = _cumulative(
        [b * (0.3 + 1.5 * o) + f for b, o, f in zip(base, opening_curve, flash_bump, strict=True)]
    )
    return Plan(
        duration, chosen, segments, flashes, seg_at, pool_at,
        [encode(x) for x in texts.greeting], chorus, profiles, fan_profile, waves,
    )  # fmt: skip


def _cumulative(weights: list[float]) -> list[float]:
    out = []
    total = 0.0
    for w in weights:
        total += max(w, 1e-9)
        out.append(total)
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def arrivals(rng: random.Random, cum: list[float], n: int) -> list[int]:
    """``n`` arrival instants (ms) drawn from a cumulative per-second weight curve."""
    if n <= 0:
        return []
    seconds = rng.choices(range(len(cum)), cum_weights=cum, k=n)
    rand = rng.random
    return [s * 1000 + int(rand() * 1000) for s in seconds]
