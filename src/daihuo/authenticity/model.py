"""Flags and reasons: what every detector returns, and how flags of one subject merge.

A flag names one *subject* of one session — a user or an order — with the kind of fake
activity (:data:`KINDS`), a score in [0, 1] and the reasons in English and simplified
Chinese. A detector only ever returns flags at or above its own threshold; the score
says how sure it is, the reasons say why, in words a merchant can check against the
event log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

KINDS: Final = ("bot_audience", "comment_farm", "like_farm", "brushing")
Kind = Literal["bot_audience", "comment_farm", "like_farm", "brushing"]
Subject = Literal["user", "order"]

# The simulator's label kinds, by our flag kind (the spec's labels say bot_viewer).
LABEL_KIND: Final = {
    "bot_audience": "bot_viewer",
    "comment_farm": "comment_farm",
    "like_farm": "like_farm",
    "brushing": "brushing",
}


@dataclass(frozen=True, slots=True)
class Reason:
    en: str
    zh: str

    def to_json(self) -> dict[str, str]:
        return {"en": self.en, "zh": self.zh}


@dataclass(slots=True)
class Flag:
    subject: Subject
    id: str
    kind: Kind
    score: float
    reasons: list[Reason] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            self.subject: self.id,
            "kind": self.kind,
            "score": round(self.score, 4),
            "reasons": [r.to_json() for r in self.reasons],
        }


def clamp(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else float(x)


def merge(flags: Iterable[Flag]) -> list[Flag]:
    """One flag per subject: the highest-scoring kind wins, the reasons of all are kept.

    Two independent detectors agreeing raise the score (noisy-or), capped at 1.
    Sorted by subject, then score (highest first), then id, so output is deterministic.
    """
    best: dict[tuple[str, str], Flag] = {}
    for flag in flags:
        key = (flag.subject, flag.id)
        old = best.get(key)
        if old is None:
            best[key] = Flag(flag.subject, flag.id, flag.kind, flag.score, list(flag.reasons))
            continue
        combined = 1.0 - (1.0 - old.score) * (1.0 - flag.score)
        if flag.score > old.score:
            old.kind = flag.kind
            old.reasons = list(flag.reasons) + old.reasons
        else:
            old.reasons.extend(flag.reasons)
        old.score = clamp(combined)
    return sorted(best.values(), key=lambda f: (f.subject, -f.score, f.id))
