"""Fake audiences (bought online counts): lockstep cohorts and shared phones.

*Lockstep cohorts* (FLOCK's population model over join time and stay, with
SynchroTrap's time bins): a bought package enters within seconds or minutes and leaves
together when the package runs out. Every stay that ends before ``live_end`` is put in a
cell (enter minute, leave minute), on two grids offset by half a bin. Under the room's
own behaviour a cell holds about ``N(enter minute) × P(stay of that many minutes)`` stays
— both factors measured on the session itself — so a cell holding far more (a Poisson
tail below ``alpha`` after a Bonferroni correction over the cells) is a cohort. Stays
that end shortly after a flash sale are explained (people wait for it, 蹲秒杀), and so
are members who click, comment or buy: the flag is on the silent members only.

*Silent ranges*: a /24 whose viewers look at nothing far more often than the room's
viewers do (see :func:`silent_ranges`).

*Shared phones*: more accounts on one device fingerprint than a household shares
(``DEVICE_CROWD``) is a farm's phone wall. The kind follows what the accounts did.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Final

from scipy.stats import binom, poisson

from daihuo.authenticity.features import SessionData, User
from daihuo.authenticity.model import Flag, Kind, Reason, clamp

BIN_MS: Final = 60_000
MIN_COHORT: Final = 5
ALPHA: Final = 1e-3
MIN_STAY_MS: Final = 60_000  # quick swipes are the bulk of any room; a package lasts minutes
FLASH_GRACE_MS: Final = 120_000
DEVICE_CROWD: Final = 6  # a household phone serves a handful of people
MIN_RANGE: Final = 10


def stampedes(data: SessionData) -> list[tuple[int, str, int]]:
    """(start, product, clickers) of stampedes: a minute's burst of clicks on one product.

    A burst is at least 10 distinct clickers of one product in one minute and at least
    five times that product's median per-minute clickers.
    """
    per: dict[tuple[str, int], set[str]] = defaultdict(set)
    for u in data.users.values():
        for t, product in u.clicks:
            per[(product, (t - data.start) // BIN_MS)].add(u.id)
    by_product: dict[str, list[int]] = defaultdict(list)
    for (product, _), who in per.items():
        by_product[product].append(len(who))
    out = []
    for (product, minute), who in per.items():
        counts = sorted(by_product[product])
        median = counts[len(counts) // 2]
        if len(who) >= 10 and len(who) >= 5 * median:
            out.append((data.start + minute * BIN_MS, product, len(who)))
    return sorted(out)


def _busy(u: User) -> bool:
    return bool(u.comments or u.clicks or u.orders or u.shares or u.follows)


def lockstep_cohorts(data: SessionData) -> list[Flag]:
    stays = [
        (u.id, a, b)
        for u in data.users.values()
        for a, b in u.stays
        if b < data.end and b - a >= MIN_STAY_MS
    ]
    if len(stays) < MIN_COHORT:
        return []
    flashes = stampedes(data)
    flagged: dict[str, float] = {}
    reasons: dict[str, tuple[int, float, int]] = {}
    for offset in (0, BIN_MS // 2):
        cells: dict[tuple[int, int], list[str]] = defaultdict(list)
        enters: Counter[int] = Counter()
        spans: Counter[int] = Counter()
        for uid, a, b in stays:
            e, lv = (a - data.start + offset) // BIN_MS, (b - data.start + offset) // BIN_MS
            cells[(e, lv)].append(uid)
            enters[e] += 1
            spans[lv - e] += 1
        total = len(stays)
        tests = max(1, len(cells))
        for (e, lv), members in cells.items():
            n = len(set(members))
            if n < MIN_COHORT:
                continue
            expected = enters[e] * spans[lv - e] / total
            p = float(poisson.sf(n - 1, expected))
            if p * tests >= ALPHA:
                continue
            leave_at = data.start + lv * BIN_MS - offset
            if any(0 <= leave_at - f <= FLASH_GRACE_MS + BIN_MS for f, _, _ in flashes):
                continue
            silent = [m for m in set(members) if not _busy(data.users[m])]
            score = clamp(0.55 + 0.1 * (n / max(expected, 0.5)) ** 0.5 / 2)
            for m in silent:
                if score > flagged.get(m, 0.0):
                    flagged[m] = score
                    reasons[m] = (n, expected, (lv - e))
    out = []
    for uid, score in flagged.items():
        n, expected, minutes = reasons[uid]
        u = data.users[uid]
        no_imp = "" if u.impressions else "; entered without being shown the room"
        no_imp_zh = "" if u.impressions else "；未经曝光直接进入"
        out.append(
            Flag(
                "user",
                uid,
                "bot_audience",
                score,
                [
                    Reason(
                        f"entered and left in lockstep with {n - 1} others (about {minutes} min "
                        f"stay; the room's own pattern predicts {expected:.1f}), silent{no_imp}",
                        f"与其他 {n - 1} 个账号同时进入、同时离开（停留约 {minutes} 分钟；"
                        f"按本场规律预计仅 {expected:.1f} 人），全程无互动{no_imp_zh}",
                    )
                ],
            )
        )
    return out


def _kind_of(u: User, like_median: float) -> Kind:
    if u.orders:
        return "brushing"
    if len(u.comments) >= 3:
        return "comment_farm"
    if u.like_total > max(100.0, 5 * like_median):
        return "like_farm"
    return "bot_audience"


def shared_devices(data: SessionData) -> list[Flag]:
    on: dict[str, set[str]] = defaultdict(set)
    for u in data.users.values():
        for d in u.devices:
            on[d].add(u.id)
    likes = sorted(u.like_total for u in data.users.values() if u.likes)
    like_median = float(likes[len(likes) // 2]) if likes else 0.0
    out = []
    for device, who in on.items():
        if len(who) < DEVICE_CROWD:
            continue
        score = clamp(0.6 + 0.02 * (len(who) - DEVICE_CROWD))
        for uid in who:
            u = data.users[uid]
            kind = _kind_of(u, like_median)
            if kind == "brushing":
                continue  # orders are judged by the brushing detector, per order
            out.append(
                Flag(
                    "user",
                    uid,
                    kind,
                    score,
                    [
                        Reason(
                            f"device {device} is used by {len(who)} accounts in this session",
                            f"设备 {device} 在本场被 {len(who)} 个账号共用",
                        )
                    ],
                )
            )
    return out


def _attentive(u: User) -> bool:
    return bool(
        u.comments or u.shares or u.follows or u.product_impressions or u.clicks or u.orders
    )


def silent_ranges(data: SessionData) -> list[Flag]:
    """Address ranges (/24) whose viewers pay the room no attention far more than others do.

    Attention is a comment, share, follow, product card seen or clicked, or an order
    (likes are left out: bought audiences tap a few). A /24 holding ``MIN_RANGE`` viewers
    or more whose inattentive share is a binomial tail (Bonferroni over the ranges)
    against the room's own share is a hosting range; its inattentive viewers are flagged.
    A campus or an office behind one range holds people, who look at products.
    """
    viewers = data.viewers
    if len(viewers) < 2 * MIN_RANGE:
        return []
    idle = {u.id for u in viewers if not _attentive(u)}
    base = len(idle) / len(viewers)
    if base >= 1.0:
        return []
    ranges: dict[str, set[str]] = defaultdict(set)
    for u in viewers:
        for ip in u.ips:
            ranges[ip.rsplit(".", 1)[0]].add(u.id)
    big = {net: who for net, who in ranges.items() if len(who) >= MIN_RANGE}
    out = []
    for net, who in big.items():
        k = len(who & idle)
        p = float(binom.sf(k - 1, len(who), base))
        if p * len(big) >= ALPHA or k < 0.9 * len(who):
            continue
        score = clamp(0.6 + 0.02 * (k - MIN_RANGE))
        for uid in who & idle:
            out.append(
                Flag(
                    "user",
                    uid,
                    "bot_audience",
                    score,
                    [
                        Reason(
                            f"{k} of the {len(who)} viewers from {net}.0/24 watched without "
                            f"looking at a product or saying anything (the room: {base:.0%})",
                            f"来自 {net}.0/24 的 {len(who)} 个观众中有 {k} 个只看不动，"
                            f"不看商品也不互动（本场平均 {base:.0%}）",
                        )
                    ],
                )
            )
    return out


def detect(data: SessionData) -> list[Flag]:
    return lockstep_cohorts(data) + shared_devices(data) + silent_ranges(data)
