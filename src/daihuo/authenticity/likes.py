"""Like farms: like volume and cadence far outside the room's distribution.

The room's likers set the scale, on log scales with the median and MAD (robust to the
farm itself): *volume* is likes per account; *cadence* is taps per like event (a like
event batches the taps of a moment, so many taps per event is tapping faster than
people do), measured on accounts with ``MIN_EVENTS`` events or more. An account more
than ``Z_FLAG`` robust standard deviations above the median on either (and, for
cadence, ``MIN_RATIO`` times the median: people's per-event taps are so alike that a
small difference is many SDs), with at least ``MIN_LIKES`` likes, is an outlier.
Like events in equal batches on near-constant gaps are a script whatever the volume.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from daihuo.authenticity.features import SessionData, User
from daihuo.authenticity.model import Flag, Reason, clamp

Z_FLAG: Final = 4.0
MIN_LIKES: Final = 200
MIN_LIKERS: Final = 10
MIN_EVENTS: Final = 10
MIN_RATIO: Final = 2.5  # and this many times the room's median (people's habits are close)


def robust_z(values: np.ndarray) -> np.ndarray:
    """(log x - median) / (1.4826 MAD) of positive values; 0 where there is no spread."""
    logs = np.log(values)
    median = float(np.median(logs))
    mad = float(np.median(np.abs(logs - median))) * 1.4826
    return (logs - median) / mad if mad > 0 else np.zeros_like(logs)


def _beat(u: User) -> bool:
    if len(u.likes) < 8:
        return False
    counts = [c for _, c in u.likes]
    gaps = np.diff(sorted(t for t, _ in u.likes)).astype(float)
    same = max(counts.count(c) for c in set(counts)) / len(counts)
    return same >= 0.9 and float(gaps.mean()) > 0 and float(gaps.std() / gaps.mean()) < 0.2


def detect(data: SessionData) -> list[Flag]:
    likers = [u for u in data.users.values() if u.likes]
    if len(likers) < MIN_LIKERS:
        return []
    totals = np.array([u.like_total for u in likers], dtype=float)
    volume_z = robust_z(totals)
    median_total = float(np.median(totals))
    busy = [i for i, u in enumerate(likers) if len(u.likes) >= MIN_EVENTS]
    cadence_z = np.zeros(len(likers))
    median_batch = 0.0
    if len(busy) >= MIN_LIKERS:
        batches = np.array([totals[i] / len(likers[i].likes) for i in busy])
        cadence_z[busy] = robust_z(batches)
        median_batch = float(np.median(batches))
    out = []
    for i, u in enumerate(likers):
        total, vz, cz = totals[i], float(volume_z[i]), float(cadence_z[i])
        beat = _beat(u)
        if cz >= Z_FLAG and totals[i] / len(u.likes) < MIN_RATIO * median_batch:
            cz = 0.0  # far out in SDs but not in taps: the room simply taps alike
        z = max(vz, cz)
        outlier = z >= Z_FLAG and total >= MIN_LIKES
        if not (outlier or beat):
            continue
        score = clamp((0.5 + 0.1 * (z - Z_FLAG) if outlier else 0.0) + (0.4 if beat else 0.0))
        reasons = []
        if outlier and vz >= Z_FLAG:
            reasons.append(
                Reason(
                    f"{int(total):,} likes, {vz:.1f} robust SDs above the room's likers "
                    f"(median {median_total:.0f})",
                    f"点赞 {int(total):,} 次，远超本场点赞用户的中位数 {median_total:.0f} 次"
                    f"（{vz:.1f} 个稳健标准差）",
                )
            )
        if outlier and cz >= Z_FLAG:
            per = total / len(u.likes)
            reasons.append(
                Reason(
                    f"{per:.0f} taps per like event against the room's {median_batch:.0f} "
                    f"({cz:.1f} robust SDs)",
                    f"每次点赞平均 {per:.0f} 下，本场常见为 {median_batch:.0f} 下"
                    f"（{cz:.1f} 个稳健标准差）",
                )
            )
        if beat:
            reasons.append(
                Reason("likes in equal batches on a fixed beat", "点赞批量相同、节奏固定，像脚本")
            )
        out.append(Flag("user", u.id, "like_farm", max(score, 0.5), reasons))
    return out
