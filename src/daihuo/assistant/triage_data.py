"""The triage corpus: hand-written seeds, their augmented variants, the split, the hard set.

data/assistant/comments.tsv holds the seeds (intent, text, reference note);
data/assistant/hard.jsonl the hard set, which is never trained on. How both were written
is in data/assistant/README.md.

Invariants:

* Augmentation is deterministic: each seed's variants come from a random generator
  seeded with the CRC-32 of the seed's text, so they do not depend on file order.
* The held-out split is by seed (CRC-32 of the text modulo 5 == 0): a seed and all of
  its variants are on the same side, so no augmented copy leaks into the test side.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

VARIANTS: Final = 6  # augmented variants per seed
TEST_BUCKET: Final = 0  # crc32(text) % 5 == TEST_BUCKET: held out

# Homophone and keyboard slips seen in live-room comments.
TYPOS: Final[dict[str, str]] = {
    "已": "以",
    "链": "连",
    "码": "马",
    "吗": "嘛",
    "的": "得",
    "在": "再",
    "要": "耀",
    "货": "或",
    "款": "宽",
    "钱": "前",
    "邮": "油",
    "退": "推",
    "是": "事",
    "好": "号",
    "么": "嘛",
}
PUNCT_RUNS: Final = ("!!!", "！！！", "???", "？？", "~~~", "。。。", "!!", "…", ",,,")
EMOJI_POOL: Final = ("😍", "🔥", "😂", "🙏", "✨", "😭", "🤔", "❤️", "🌹", "😅", "🎉", "👏")
FILLERS_BEFORE: Final = ("那个", "哎", "主播", "家人们", "姐妹们", "请问", "唉")
FILLERS_AFTER: Final = ("啊", "呀", "呢", "哈", "啦", "哦")


@dataclass(frozen=True, slots=True)
class Seed:
    intent: str
    text: str
    ref: str  # "slot=3", "name=面膜" or ""

    @property
    def held_out(self) -> bool:
        return zlib.crc32(self.text.encode("utf-8")) % 5 == TEST_BUCKET


@dataclass(frozen=True, slots=True)
class HardItem:
    kind: str
    intent: str
    text: str
    ref: str


def data_dir() -> Path:
    """data/assistant: in the wheel under the package, in a checkout at the repository root."""
    packaged = Path(str(files("daihuo.assistant").joinpath("data")))
    if (packaged / "comments.tsv").is_file():
        return packaged
    return Path(__file__).resolve().parents[3] / "data" / "assistant"


@cache
def seeds() -> tuple[Seed, ...]:
    """Every hand-written seed of comments.tsv, in file order."""
    lines = (data_dir() / "comments.tsv").read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines[1:]:
        if line.strip():
            intent, text, ref = [*line.split("\t"), "", ""][:3]
            out.append(Seed(intent, text, ref))
    return tuple(out)


@cache
def hard_set() -> tuple[HardItem, ...]:
    """The hard set (slang, typos, emoji, traditional, pinyin, mixed script, punctuation)."""
    rows: list[dict[str, Any]] = [
        json.loads(line)
        for line in (data_dir() / "hard.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return tuple(HardItem(r["kind"], r["intent"], r["text"], r.get("ref", "")) for r in rows)


@lru_cache(maxsize=1)
def _s2t() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


def augment(text: str, n: int = VARIANTS) -> list[str]:
    """``n`` noisy variants of a seed: typos, emoji, punctuation runs, fillers, spacing,
    repetition and traditional characters, one to three of them combined."""
    rng = random.Random(zlib.crc32(text.encode("utf-8")))  # noqa: S311 - not security
    ops = ("typo", "emoji", "punct", "filler", "space", "repeat", "traditional")
    out: list[str] = []
    for _ in range(n):
        t = text
        for op in rng.sample(ops, rng.randint(1, 3)):
            if op == "typo":
                spots = [i for i, ch in enumerate(t) if ch in TYPOS]
                if spots:
                    i = rng.choice(spots)
                    t = t[:i] + TYPOS[t[i]] + t[i + 1 :]
            elif op == "emoji":
                e = rng.choice(EMOJI_POOL) * rng.randint(1, 3)
                t = e + t if rng.random() < 0.3 else t + e
            elif op == "punct":
                t += rng.choice(PUNCT_RUNS)
            elif op == "filler":
                t = (
                    rng.choice(FILLERS_BEFORE) + t
                    if rng.random() < 0.5
                    else t + rng.choice(FILLERS_AFTER)
                )
            elif op == "space":
                t = " ".join(t) if len(t) <= 8 else t.replace("，", " ")
            elif op == "repeat":
                t = t + (" " if rng.random() < 0.5 else "") + t
            elif op == "traditional":
                t = str(_s2t().convert(t))
        out.append(t)
    return out


@cache
def _reserved() -> frozenset[str]:
    return frozenset(s.text for s in seeds()) | frozenset(h.text for h in hard_set())


def training_set(chosen: Sequence[Seed]) -> tuple[list[str], list[str]]:
    """Texts and labels: every chosen seed and its augmented variants.

    A variant that happens to be the text of another seed or of a hard-set item ("想要"
    repeated is the seed "想要想要", "已拍" with a typo is the hard item "以拍") is dropped,
    so it cannot leak a held-out seed or a hard item into training.
    """
    reserved = _reserved()
    texts: list[str] = []
    labels: list[str] = []
    for seed in chosen:
        texts.append(seed.text)
        labels.append(seed.intent)
        for t in augment(seed.text):
            if t not in reserved:
                texts.append(t)
                labels.append(seed.intent)
    return texts, labels
